/* --limits-file: the parser (good lines, comments, every bad line with its
 * FILE:LINE message), the merge over the flags, and the reload logic
 * (server/server_limits.c without XDP): a good file replaces the limits and
 * keeps the clients' buckets, a bad one is counted and changes nothing, a
 * changed IPv6 key shape starts a new table, 0 -> N -> 0 works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archeio/core/log.h"
#include "archeio/server/config.h"
#include "server/limits_file.h"
#include "server/limits_state.h"
#include "server/server_limits.h"

static int parse(struct limits_file *f, const char *text, bool xdp, char *err, size_t errlen)
{
	return limits_file_parse(f, "limits.conf", text, strlen(text), xdp, err, errlen);
}

static void parses_every_key(void **state)
{
	(void)state;
	struct limits_file f;
	char err[256] = "";
	const char *text = "# the edge limits\n"
			   "rate-limit 100\n"
			   "  rate-burst\t200   # a node's start-up pulls\n"
			   "\n"
			   "rate-limit-v6-prefix 56\r\n"
			   "rate-limit-exempt 10.0.0.0/8\n"
			   "rate-limit-exempt aws:us-east-1\n"
			   "xdp-syn-limit 50\n"
			   "xdp-syn-burst 60";
	assert_int_equal(parse(&f, text, true, err, sizeof(err)), 0);
	assert_true(f.has[LIMITS_RATE_LIMIT] && f.has[LIMITS_EXEMPT] && f.has[LIMITS_SYN_BURST]);
	assert_int_equal(f.value[LIMITS_RATE_LIMIT], 100);
	assert_int_equal(f.value[LIMITS_RATE_BURST], 200);
	assert_int_equal(f.value[LIMITS_V6_PREFIX], 56);
	assert_int_equal(f.value[LIMITS_SYN_LIMIT], 50);
	assert_int_equal(f.value[LIMITS_SYN_BURST], 60);
	assert_int_equal(f.exempt_count, 2);
	assert_string_equal(f.exempt[0], "10.0.0.0/8");
	assert_string_equal(f.exempt[1], "aws:us-east-1");
	/* Re-serialised, it parses to the same values. */
	struct buf b = {0};
	assert_true(limits_file_format(&f, &b));
	assert_true(buf_append(&b, "", 1, 0));
	struct limits_file again;
	assert_int_equal(parse(&again, b.data, true, err, sizeof(err)), 0);
	assert_memory_equal(again.has, f.has, sizeof(f.has));
	assert_memory_equal(again.value, f.value, sizeof(f.value));
	assert_int_equal(again.exempt_count, 2);
	limits_file_free(&again);
	buf_free(&b);
	limits_file_free(&f);
}

static void empty_file_sets_nothing(void **state)
{
	(void)state;
	struct limits_file f;
	char err[256];
	assert_int_equal(parse(&f, "# nothing yet\n\n   \n", false, err, sizeof(err)), 0);
	for (int k = 0; k < LIMITS_KEY_COUNT; k++)
		assert_false(f.has[k]);
	/* 0 turns a limit off: allowed without XDP too. */
	assert_int_equal(parse(&f, "xdp-syn-limit 0\nrate-limit 0\n", false, err, sizeof(err)), 0);
	assert_true(f.has[LIMITS_SYN_LIMIT] && f.has[LIMITS_RATE_LIMIT]);
	limits_file_free(&f);
}

static void bad_lines_name_file_and_line(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	    {"rate-limit 5\nrate-limti 5\n", "limits.conf:2: unknown key 'rate-limti'"},
	    {"rate-limit\n", "limits.conf:1: rate-limit takes a value"},
	    {"\nrate-burst 5 6\n", "limits.conf:2: rate-burst takes one value"},
	    {"rate-limit -1\n", "limits.conf:1: rate-limit: '-1' is not a whole number from 0 to "
				"1000000"},
	    {"rate-limit 1000001\n", "limits.conf:1: rate-limit: '1000001' is not"},
	    {"rate-limit 99999999999999999999\n", "limits.conf:1: rate-limit: '9999"},
	    {"rate-burst 0\n", "limits.conf:1: rate-burst: '0' is not a whole number from 1"},
	    {"rate-limit-v6-prefix 65\n", "limits.conf:1: rate-limit-v6-prefix: '65'"},
	    {"rate-limit 1x\n", "limits.conf:1: rate-limit: '1x'"},
	    {"rate-limit 5\n# x\nrate-limit 6\n",
	     "limits.conf:3: rate-limit given twice (first on line 1)"},
	    {"rate-limit-exempt 10.0.0.1/8\n", "limits.conf:1: --rate-limit-exempt: 10.0.0.1/8"},
	    {"xdp-syn-limit 50\n", "limits.conf:1: xdp-syn-limit needs --xdp-iface"},
	    {"rate-limit 5\nrate-\0limit 5\n", "limits.conf:2: NUL byte in line"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct limits_file f;
		char err[512] = "";
		size_t len = strlen(cases[i].text);
		if (strstr(cases[i].err, "NUL"))
			len = 26;
		assert_int_equal(limits_file_parse(&f, "limits.conf", cases[i].text, len, false,
						   err, sizeof(err)),
				 -1);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err, cases[i].err);
		assert_int_equal(f.exempt_count, 0);
	}
}

static void too_long_line_and_missing_file(void **state)
{
	(void)state;
	char line[1100];
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	struct limits_file f;
	char err[256];
	assert_int_equal(parse(&f, line, false, err, sizeof(err)), -1);
	assert_string_equal(err, "limits.conf:1: line too long");
	assert_int_equal(limits_file_load(&f, "/nonexistent/limits", false, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/limits: No such file or directory");
}

static struct config flags(void)
{
	struct config c;
	memset(&c, 0, sizeof(c));
	c.rate_limit = 1;
	c.rate_burst = 5;
	c.rate_limit_v6_prefix = 64;
	c.rate_limit_entries = 64;
	c.xdp_syn_burst = 50;
	static char *exempt[] = {"198.51.100.0/24", "lab:ci"};
	c.rate_limit_exempt = exempt;
	c.rate_limit_exempt_count = 2;
	return c;
}

static void file_overrides_flags(void **state)
{
	(void)state;
	struct config c = flags();
	struct limits_file f;
	char err[256];
	assert_int_equal(
	    parse(&f, "rate-burst 9\nrate-limit-exempt 10.0.0.0/8\n", false, err, sizeof(err)), 0);
	struct limits_values v;
	assert_true(limits_values_merge(&c, &f, &v));
	assert_int_equal(v.value[LIMITS_RATE_LIMIT], 1); /* not in the file: the flag */
	assert_int_equal(v.value[LIMITS_RATE_BURST], 9);
	assert_int_equal(v.exempt_count, 1); /* the file's list replaces the flags' */
	assert_string_equal(v.exempt[0], "10.0.0.0/8");
	struct limits_values flags_only;
	assert_true(limits_values_merge(&c, NULL, &flags_only));
	assert_int_equal(flags_only.exempt_count, 2);
	char changes[256];
	limits_values_describe_changes(&flags_only, &v, changes, sizeof(changes));
	assert_string_equal(changes, "rate-burst 5 -> 9, rate-limit-exempt +10.0.0.0/8 "
				     "-198.51.100.0/24 -lab:ci");
	limits_values_describe_changes(&v, &v, changes, sizeof(changes));
	assert_string_equal(changes, "");
	limits_values_free(&flags_only);
	limits_values_free(&v);
	limits_file_free(&f);
}

/* The reload logic, on a real file in a temporary directory. */
struct reload_fixture {
	char dir[64], path[96];
	struct config config;
	struct logger log;
	char *log_text;
	size_t log_len;
	struct server_limits limits;
};

static void write_file(struct reload_fixture *fx, const char *text)
{
	FILE *fp = fopen(fx->path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int reload_setup(void **state)
{
	struct reload_fixture *fx = calloc(1, sizeof(*fx));
	strcpy(fx->dir, "/tmp/archeio-limits-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/limits", fx->dir);
	fx->config = flags();
	fx->config.limits_file = fx->path;
	fx->log = (struct logger){.level = LOG_INFO,
				  .format = LOG_FORMAT_TEXT,
				  .out = open_memstream(&fx->log_text, &fx->log_len)};
	*state = fx;
	return 0;
}

static int reload_teardown(void **state)
{
	struct reload_fixture *fx = *state;
	server_limits_close(&fx->limits);
	fclose(fx->log.out);
	free(fx->log_text);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static uint32_t value_now(struct reload_fixture *fx, enum limits_key key)
{
	struct limits_state *s = server_limits_current(&fx->limits);
	uint32_t v = s->values.value[key];
	limits_state_release(s);
	return v;
}

static struct rate_table *table_now(struct reload_fixture *fx)
{
	struct limits_state *s = server_limits_current(&fx->limits);
	struct rate_table *t = s->rate_on ? s->buckets.table : NULL;
	limits_state_release(s);
	return t;
}

static const char *log_now(struct reload_fixture *fx)
{
	fflush(fx->log.out);
	return fx->log_text ? fx->log_text : "";
}

static void bad_file_at_start_is_an_error(void **state)
{
	struct reload_fixture *fx = *state;
	write_file(fx, "rate-limit 5\nrate-burst nope\n");
	assert_int_equal(server_limits_open(&fx->limits, &fx->config, &fx->log), -1);
	char want[320];
	snprintf(want, sizeof(want), "%s:2: rate-burst: 'nope' is not a whole number", fx->path);
	assert_non_null(strstr(log_now(fx), want));
}

static void bad_reload_keeps_last_good(void **state)
{
	struct reload_fixture *fx = *state;
	write_file(fx, "rate-limit 100\nrate-burst 200\n");
	assert_int_equal(server_limits_open(&fx->limits, &fx->config, &fx->log), 0);
	assert_int_equal(value_now(fx, LIMITS_RATE_LIMIT), 100);
	struct limits_state *before = server_limits_current(&fx->limits);

	/* The first line is good, the second not: nothing of it applies. */
	write_file(fx, "rate-limit 7\nrate-limit-exempt 10.0.0.1/8\n");
	server_limits_reload(&fx->limits, NULL);
	assert_int_equal(fx->limits.reloads_failed, 1);
	assert_int_equal(fx->limits.reloads_ok, 0);
	struct limits_state *after = server_limits_current(&fx->limits);
	assert_ptr_equal(after, before);
	assert_int_equal(after->values.value[LIMITS_RATE_LIMIT], 100);
	char want[320];
	snprintf(want, sizeof(want),
		 "limits reload failed, keeping the last good limits: %s:2: --rate-limit-exempt",
		 fx->path);
	assert_non_null(strstr(log_now(fx), want));

	/* A missing file too. */
	unlink(fx->path);
	server_limits_reload(&fx->limits, NULL);
	assert_int_equal(fx->limits.reloads_failed, 2);
	assert_int_equal(value_now(fx, LIMITS_RATE_LIMIT), 100);
	limits_state_release(before);
	limits_state_release(after);
}

static void good_reload_keeps_buckets(void **state)
{
	struct reload_fixture *fx = *state;
	write_file(fx, "rate-limit 1\nrate-burst 2\n");
	assert_int_equal(server_limits_open(&fx->limits, &fx->config, &fx->log), 0);
	struct limits_state *s = server_limits_current(&fx->limits);
	struct ip_addr client;
	assert_true(ip_parse("192.0.2.7", &client));
	uint64_t now = 1000000000000ull;
	const struct request_limits *rl = limits_state_request_limits(s);
	assert_non_null(rl);
	assert_true(rate_limiter_take(rl->buckets, &client, now, NULL));
	assert_true(rate_limiter_take(rl->buckets, &client, now, NULL));
	assert_false(rate_limiter_take(rl->buckets, &client, now, NULL));
	struct rate_table *table = s->buckets.table;

	/* A higher burst: the same table, so the client's used tokens stay used. */
	write_file(fx, "rate-limit 1\nrate-burst 3\n");
	server_limits_reload(&fx->limits, NULL);
	assert_int_equal(fx->limits.reloads_ok, 1);
	assert_ptr_equal(table_now(fx), table);
	struct limits_state *next = server_limits_current(&fx->limits);
	assert_true(rate_limiter_take(&next->buckets, &client, now, NULL));
	assert_false(rate_limiter_take(&next->buckets, &client, now, NULL));
	assert_non_null(strstr(log_now(fx), "rate-burst 2 -> 3"));
	/* The worker still holding the old snapshot keeps a working table. */
	assert_false(rate_limiter_take(&s->buckets, &client, now, NULL));
	limits_state_release(s);
	limits_state_release(next);

	/* Another IPv6 key shape: a new table. */
	write_file(fx, "rate-limit 1\nrate-burst 3\nrate-limit-v6-prefix 48\n");
	server_limits_reload(&fx->limits, NULL);
	assert_ptr_not_equal(table_now(fx), table);
	assert_non_null(table_now(fx));
}

static void limit_off_and_on_again(void **state)
{
	struct reload_fixture *fx = *state;
	fx->config.rate_limit = 0;
	write_file(fx, "# empty: the flags, which have no limit\n");
	assert_int_equal(server_limits_open(&fx->limits, &fx->config, &fx->log), 0);
	assert_null(table_now(fx));
	write_file(fx, "rate-limit 10\n");
	server_limits_reload(&fx->limits, NULL);
	assert_non_null(table_now(fx));
	assert_non_null(strstr(log_now(fx), "rate-limit 0 -> 10"));
	write_file(fx, "rate-limit 0\n");
	server_limits_reload(&fx->limits, NULL);
	assert_null(table_now(fx));
	struct limits_state *s = server_limits_current(&fx->limits);
	assert_null(limits_state_request_limits(s));
	limits_state_release(s);
	assert_int_equal(fx->limits.reloads_ok, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_every_key),
	    cmocka_unit_test(empty_file_sets_nothing),
	    cmocka_unit_test(bad_lines_name_file_and_line),
	    cmocka_unit_test(too_long_line_and_missing_file),
	    cmocka_unit_test(file_overrides_flags),
	    cmocka_unit_test_setup_teardown(bad_file_at_start_is_an_error, reload_setup,
					    reload_teardown),
	    cmocka_unit_test_setup_teardown(bad_reload_keeps_last_good, reload_setup,
					    reload_teardown),
	    cmocka_unit_test_setup_teardown(good_reload_keeps_buckets, reload_setup,
					    reload_teardown),
	    cmocka_unit_test_setup_teardown(limit_off_and_on_again, reload_setup, reload_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
