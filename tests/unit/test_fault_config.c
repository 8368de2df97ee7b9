/* Allocation failure sweep along config parsing (tests/unit/helpers/fail_alloc.h):
 * flags and environment together, with lists (--ranges, --tls-cert/--tls-key,
 * --trusted-proxy, --plain-listen) and strings. For N = 1, 2, ... the Nth
 * allocation fails; each run must either fail with a message or give the
 * same config as without any failure, and config_free() must release
 * whatever was parsed (leaks: the sanitizer build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archeio/server/config.h"
#include "helpers/fail_alloc.h"

static char dir[64];
static char path_a[96], path_b[96];

static const char *env(const char *name)
{
	if (strcmp(name, "UPSTREAM_REGISTRY_PATH") == 0)
		return "from/env";
	if (strcmp(name, "ARCHEIO_TRUSTED_PROXIES") == 0)
		return "198.51.100.0/24,2001:db8::/32";
	if (strcmp(name, "INFO_URL") == 0)
		return "https://info.example/";
	return NULL;
}

static void write_file(const char *path)
{
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fputs("x\n", file);
	fclose(file);
}

static enum config_result parse(struct config *config, char *err, size_t errlen)
{
	const char *argv[] = {"serve",
			      "--listen",
			      "127.0.0.1:8443",
			      "--tls-cert",
			      path_a,
			      "--tls-key",
			      path_b,
			      "--tls-cert",
			      path_b,
			      "--tls-key",
			      path_a,
			      "--plain-listen",
			      "127.0.0.1:8080",
			      "--plain-listen",
			      "[::1]:8081",
			      "--ranges",
			      path_a,
			      "--ranges",
			      path_b,
			      "--mirrors",
			      path_a,
			      "--upstream",
			      "https://upstream.example",
			      "--signature-upstream",
			      "https://sig.example",
			      "--trusted-proxy",
			      "10.0.0.0/8",
			      "--ca-file",
			      path_b,
			      "--pid-file",
			      "/tmp/archeio-fault.pid",
			      "--access-log",
			      "extra-argument"};
	return config_parse(config, (int)(sizeof(argv) / sizeof(argv[0])), (char **)argv, env, err,
			    errlen);
}

static bool same_strings(char **a, size_t a_count, char **b, size_t b_count)
{
	if (a_count != b_count)
		return false;
	for (size_t i = 0; i < a_count; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool same_config(const struct config *a, const struct config *b)
{
	return same_string(a->listen_host, b->listen_host) && a->listen_port == b->listen_port &&
	       same_strings(a->tls_certs, a->tls_cert_count, b->tls_certs, b->tls_cert_count) &&
	       same_strings(a->tls_keys, a->tls_key_count, b->tls_keys, b->tls_key_count) &&
	       same_strings(a->plain_listens, a->plain_listen_count, b->plain_listens,
			    b->plain_listen_count) &&
	       same_strings(a->ranges, a->ranges_count, b->ranges, b->ranges_count) &&
	       same_strings(a->args, a->args_count, b->args, b->args_count) &&
	       same_string(a->upstream, b->upstream) &&
	       same_string(a->upstream_path, b->upstream_path) &&
	       same_string(a->signature_upstream, b->signature_upstream) &&
	       same_string(a->default_mirror, b->default_mirror) &&
	       same_string(a->info_url, b->info_url) &&
	       same_string(a->privacy_url, b->privacy_url) &&
	       same_string(a->mirrors_file, b->mirrors_file) &&
	       same_string(a->ca_file, b->ca_file) && same_string(a->pid_file, b->pid_file) &&
	       same_string(a->bpffs_dir, b->bpffs_dir) && a->proxies.count == b->proxies.count &&
	       memcmp(a->proxies.prefixes, b->proxies.prefixes,
		      a->proxies.count * sizeof(*a->proxies.prefixes)) == 0 &&
	       a->access_log == b->access_log;
}

static void every_allocation_failure_in_config_parsing_is_an_error(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/archeio-fault-config-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path_a, sizeof(path_a), "%s/a", dir);
	snprintf(path_b, sizeof(path_b), "%s/b", dir);
	write_file(path_a);
	write_file(path_b);
	char err[512];
	struct config reference;
	assert_int_equal(parse(&reference, err, sizeof(err)), CONFIG_OK);
	assert_int_equal(reference.proxies.count, 1);
	assert_string_equal(reference.upstream_path, "from/env");

	long nth = 1;
	for (bool fired = true; fired; nth++) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		struct config config;
		err[0] = '\0';
		fail_alloc_arm(nth);
		enum config_result r = parse(&config, err, sizeof(err));
		fired = fail_alloc_disarm();
		if (r == CONFIG_OK) {
			assert_true(same_config(&config, &reference));
		} else {
			assert_int_equal(r, CONFIG_ERROR);
			assert_true(fired);
			assert_string_equal(err, "out of memory");
		}
		config_free(&config);
	}
	print_message("config sweep: %ld allocations\n", nth - 2);
	config_free(&reference);
	unlink(path_a);
	unlink(path_b);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_in_config_parsing_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
