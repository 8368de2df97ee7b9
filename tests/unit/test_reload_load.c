/* reload_load(): a SIGHUP reload's serve_state_load() on its own thread at
 * nice +RELOAD_NICE, with the same result as loading on the caller's thread,
 * and the caller's own priority untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"
#include "server/reload_load.h"

struct fixture {
	char dir[64];
	char ranges[96];
	char mirrors[96];
	char *ranges_list[1];
	struct config config;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/archeio-reload-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->ranges, sizeof(f->ranges), "%s/ranges.json", f->dir);
	snprintf(f->mirrors, sizeof(f->mirrors), "%s/mirrors", f->dir);
	write_file(f->ranges, "{\"prefixes\": [{\"ip_prefix\": \"10.0.0.0/8\", \"region\": "
			      "\"us-east-1\"}, {\"ip_prefix\": \"10.1.0.0/16\", \"region\": "
			      "\"eu-west-1\"}]}\n");
	write_file(f->mirrors, "aws http://127.0.0.1:1/aws\n* http://127.0.0.1:1/cdn\n");
	f->ranges_list[0] = f->ranges;
	f->config.ranges = f->ranges_list;
	f->config.ranges_count = 1;
	f->config.mirrors_file = f->mirrors;
	f->config.default_mirror = "http://127.0.0.1:1/default";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->ranges);
	unlink(f->mirrors);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void loads_at_lower_priority(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int before = getpriority(PRIO_PROCESS, 0);
	struct serve_state *first = serve_state_load(&f->config, NULL, err, sizeof(err));
	assert_non_null(first);
	struct reload_stats stats = {.nice = -100, .cpu_ns = -1};
	struct serve_state *next = reload_load(&f->config, first, &stats, err, sizeof(err));
	assert_non_null(next);
	int want = before + RELOAD_NICE > 19 ? 19 : before + RELOAD_NICE;
	assert_int_equal(stats.nice, want);
	assert_true(stats.cpu_ns > 0);
	assert_int_equal(getpriority(PRIO_PROCESS, 0), before); /* the caller's is kept */
	assert_int_equal(next->ranges.count, first->ranges.count);
	assert_int_equal(next->regions.count, first->regions.count);
	for (size_t i = 0; i < next->ranges.count; i++)
		assert_memory_equal(&next->ranges.entries[i], &first->ranges.entries[i],
				    sizeof(next->ranges.entries[i]));
	serve_state_release(first);
	serve_state_release(next);
}

static void failure_is_reported(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	write_file(f->ranges, "{\"prefixes\": [{\"ip_prefix\": \"10.0.0.0/8\"}]}\n");
	assert_null(reload_load(&f->config, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "prefixes[0]: missing string field \"region\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(loads_at_lower_priority, setup, teardown),
	    cmocka_unit_test_setup_teardown(failure_is_reported, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
