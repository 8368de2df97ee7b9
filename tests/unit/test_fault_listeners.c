/* Allocation failure sweep along opening the listeners (--listen and a
 * --plain-listen; tests/unit/helpers/fail_alloc.h): for N = 1, 2, ... the
 * Nth allocation fails; each run must either open everything or fail with
 * "out of memory" and leave no socket open — never listen on every address
 * because a host could not be copied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archeio/server/config.h"
#include "helpers/fail_alloc.h"
#include "server/listener_set.h"

static void every_allocation_failure_opening_listeners(void **state)
{
	(void)state;
	char *plain[] = {"[::1]:0"};
	struct config c = {.workers = 2,
			   .listen_host = "127.0.0.1",
			   .listen_port = 0,
			   .plain_listens = plain,
			   .plain_listen_count = 1};
	for (long n = 1; n <= FAIL_ALLOC_MAX_STEPS; n++) {
		int lowest = dup(0); /* the lowest free descriptor before the run */
		close(lowest);
		struct listener_set set;
		char err[256] = "";
		fail_alloc_arm(n);
		int rc = listener_set_open(&set, &c, err, sizeof(err));
		bool injected = fail_alloc_disarm();
		if (rc == 0) {
			char text[256];
			listener_set_describe(&set, text, sizeof(text));
			assert_non_null(strstr(text, "127.0.0.1:"));
			assert_non_null(strstr(text, ", [::1]:"));
			listener_set_close(&set);
		} else {
			assert_true(injected);
			assert_non_null(strstr(err, "out of memory"));
		}
		int after = dup(0); /* nothing left open either way */
		assert_int_equal(after, lowest);
		close(after);
		if (!injected) {
			assert_int_equal(rc, 0);
			return;
		}
	}
	fail_msg("more than %d allocations", FAIL_ALLOC_MAX_STEPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_opening_listeners),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
