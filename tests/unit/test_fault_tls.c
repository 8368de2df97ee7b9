/* Allocation failure sweep along tls_server_load() (tests/unit/helpers/fail_alloc.h):
 * two certificate/key pairs (the second chosen by SNI) and the shared ticket
 * keys. For N = 1, 2, ... the Nth allocation of archeio's code fails; then
 * OpenSSL's own allocations are counted too (about 12,000 along one load):
 * every FAULT_TLS_STRIDE-th of those fails (ARCHEIO_FAULT_STRIDE=1 in the
 * environment walks every one; about a minute). Each run must either fail with a message or give a
 * server that completes a session setup, and the ticket keys shared across loads stay usable (a
 * failed certificate reload keeps serving with the old server). Leaks: the sanitizer build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "archeio/http/tls.h"
#include "archeio/http/tls_tickets.h"
#include "helpers/fail_alloc.h"
#include "helpers/test_certs.h"

#define FAULT_TLS_STRIDE 61

static long stride_from_env(void)
{
	const char *text = getenv("ARCHEIO_FAULT_STRIDE");
	long stride = text ? strtol(text, NULL, 10) : FAULT_TLS_STRIDE;
	return stride > 0 ? stride : FAULT_TLS_STRIDE;
}

/* Loads with the nth, n+stride-th, ... allocation failing until a load
 * sees no failure; the server in use must stay usable throughout. */
static long sweep(const struct tls_settings *settings, struct tls_ticket_keys *tickets,
		  struct tls_server *serving, long stride)
{
	char err[512];
	long nth = 1;
	for (bool fired = true; fired; nth += stride) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		err[0] = '\0';
		fail_alloc_arm(nth);
		struct tls_server *server = tls_server_load(settings, tickets, err, sizeof(err));
		fired = fail_alloc_disarm();
		if (server) {
			SSL *ssl = tls_server_new_session(server);
			assert_non_null(ssl);
			SSL_free(ssl);
			tls_server_unref(server);
		} else {
			assert_true(fired);
			assert_true(err[0] != '\0');
		}
		SSL *ssl = tls_server_new_session(serving);
		assert_non_null(ssl);
		SSL_free(ssl);
	}
	return nth - stride;
}

static void every_allocation_failure_loading_tls_is_an_error(void **state)
{
	(void)state;
	char *dir = test_dir_new();
	assert_non_null(dir);
	struct test_ca *ca = test_ca_new(dir);
	assert_non_null(ca);
	assert_true(test_ca_issue(ca, dir, "a", "a.test", "198.18.0.1"));
	assert_true(test_ca_issue(ca, dir, "b", "b.test", NULL));
	test_ca_free(ca);
	char a_crt[600], a_key[600], b_crt[600], b_key[600];
	snprintf(a_crt, sizeof(a_crt), "%s/a.crt", dir);
	snprintf(a_key, sizeof(a_key), "%s/a.key", dir);
	snprintf(b_crt, sizeof(b_crt), "%s/b.crt", dir);
	snprintf(b_key, sizeof(b_key), "%s/b.key", dir);
	const char *certs[] = {a_crt, b_crt}, *keys[] = {a_key, b_key};
	struct tls_settings settings = {certs, keys, 2, false, 100};
	struct tls_ticket_keys tickets;
	assert_true(tls_ticket_keys_init(&tickets, 3600, time(NULL)));
	char err[512];
	fail_alloc_openssl_counted(false);
	struct tls_server *serving = tls_server_load(&settings, &tickets, err, sizeof(err));
	assert_non_null(serving);

	fail_alloc_openssl_counted(false);
	print_message("tls sweep: %ld allocations of archeio's\n",
		      sweep(&settings, &tickets, serving, 1) - 1);
	fail_alloc_openssl_counted(true);
	long stride = stride_from_env();
	print_message("tls sweep with OpenSSL's, every %ld: %ld allocations\n", stride,
		      sweep(&settings, &tickets, serving, stride) - 1);
	tls_server_unref(serving);
	tls_ticket_keys_destroy(&tickets);
	test_dir_remove(dir);
}

int main(void)
{
	if (fail_alloc_count_openssl() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_loading_tls_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
