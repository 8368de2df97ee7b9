/* Mirror rules: file format, errors naming file and line, most-specific-wins
 * selection without fall-through, and registry.k8s.io's production table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/mirrorcheck/mirror_rules.h"

#define K8S_MIRRORS "../shared/data/registry-k8s-io.mirrors"
#define CDN "https://d1be1w964nk82h.cloudfront.net"

static int parse(struct mirror_rules *rules, const char *text, char *err, size_t errlen)
{
	return mirror_rules_parse(rules, "test.mirrors", text, strlen(text), err, errlen);
}

/* The base URL selected for (cloud, region): a URL, "upstream" for an
 * upstream rule, or "none" when no rule applies. */
static const char *selected(const struct mirror_rules *rules, const char *cloud, const char *region)
{
	const struct mirror_rule *rule = mirror_rules_select(rules, cloud, region);

	if (rule == NULL)
		return "none";
	return rule->base_url == NULL ? "upstream" : rule->base_url;
}

static void test_format(void **state)
{
	struct mirror_rules rules;
	char err[256] = "";

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(parse(&rules,
			       "# comment line\n"
			       "\n"
			       "   \t  \n"
			       "gcp upstream   # trailing comment\n"
			       "aws:us-east-1\thttp://127.0.0.1:8081/mirror/\r\n"
			       "  op-cloud   http://127.0.0.1:8082//\n"
			       "*  http://[::1]:8083\n"
			       "aws http://127.0.0.1:8084", /* no final newline */
			       err, sizeof(err)),
			 0);
	assert_int_equal(rules.count, 5);
	assert_string_equal(rules.rules[0].cloud, "gcp");
	assert_string_equal(rules.rules[0].region, "");
	assert_null(rules.rules[0].base_url);
	assert_string_equal(rules.rules[1].cloud, "aws");
	assert_string_equal(rules.rules[1].region, "us-east-1");
	/* trailing slashes removed: blob URLs append "/containers/images/..." */
	assert_string_equal(rules.rules[1].base_url, "http://127.0.0.1:8081/mirror");
	assert_string_equal(rules.rules[2].base_url, "http://127.0.0.1:8082");
	assert_string_equal(rules.rules[3].cloud, "*");
	assert_string_equal(rules.rules[3].base_url, "http://[::1]:8083");
	assert_string_equal(rules.rules[4].base_url, "http://127.0.0.1:8084");
	mirror_rules_free(&rules);
	assert_int_equal(rules.count, 0);
	assert_null(rules.rules);
}

static void test_empty_file_means_upstream(void **state)
{
	struct mirror_rules rules;
	char err[256];

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(parse(&rules, "# nothing\n", err, sizeof(err)), 0);
	assert_int_equal(rules.count, 0);
	assert_string_equal(selected(&rules, "aws", "us-east-1"), "none");
	assert_string_equal(selected(&rules, NULL, NULL), "none");
	mirror_rules_free(&rules);
}

static void test_most_specific_wins(void **state)
{
	struct mirror_rules rules;
	char err[256];

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(parse(&rules,
			       "* http://127.0.0.1:1/star\n"
			       "aws http://127.0.0.1:1/aws\n"
			       "aws:us-east-1 http://127.0.0.1:1/use1\n"
			       "aws:eu-west-1 upstream\n"
			       "azure:westeurope http://127.0.0.1:1/weu\n",
			       err, sizeof(err)),
			 0);
	assert_string_equal(selected(&rules, "aws", "us-east-1"), "http://127.0.0.1:1/use1");
	assert_string_equal(selected(&rules, "aws", "us-west-2"), "http://127.0.0.1:1/aws");
	assert_string_equal(selected(&rules, "aws", ""), "http://127.0.0.1:1/aws");
	assert_string_equal(selected(&rules, "aws", NULL), "http://127.0.0.1:1/aws");
	/* an upstream rule is a rule: no fall-through to "aws" or "*" */
	assert_string_equal(selected(&rules, "aws", "eu-west-1"), "upstream");
	/* a region rule without a cloud rule: other regions take "*" */
	assert_string_equal(selected(&rules, "azure", "westeurope"), "http://127.0.0.1:1/weu");
	assert_string_equal(selected(&rules, "azure", "northeurope"), "http://127.0.0.1:1/star");
	assert_string_equal(selected(&rules, "gcp", "us-central1"), "http://127.0.0.1:1/star");
	assert_string_equal(selected(&rules, NULL, NULL), "http://127.0.0.1:1/star");
	/* names are case-sensitive, as in the range files */
	assert_string_equal(selected(&rules, "AWS", "us-east-1"), "http://127.0.0.1:1/star");
	assert_string_equal(selected(&rules, "aws", "US-EAST-1"), "http://127.0.0.1:1/aws");
	mirror_rules_free(&rules);
}

/* --upstream-rules: the same format, every rule a URL. */
static void test_upstream_rules(void **state)
{
	struct mirror_rules rules;
	char err[256];
	static const char good[] = "* https://star.example\n"
				   "aws https://aws.example/\n"
				   "aws:us-east-1 https://use1.example # comment\n";

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(upstream_rules_parse(&rules, "up", good, strlen(good), err, sizeof(err)),
			 0);
	assert_string_equal(selected(&rules, "aws", "us-east-1"), "https://use1.example");
	assert_string_equal(selected(&rules, "aws", "eu-west-1"), "https://aws.example");
	assert_string_equal(selected(&rules, "gcp", "us-central1"), "https://star.example");
	static const char *const bad[][2] = {
	    {"gcp upstream\n", "up:1: 'upstream' is not allowed here (name the upstream's URL): "
			       "'upstream'"},
	    {"aws:us-east-1\n", "up:1: expected 'CLOUD[:REGION] URL', got 'aws:us-east-1'"},
	    {"aws ftp://x/\n", "up:1: not 'upstream' or an absolute http(s) URL: 'ftp://x/'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(upstream_rules_parse(&rules, "up", bad[i][0], strlen(bad[i][0]),
						      err, sizeof(err)),
				 -1);
		assert_string_equal(err, bad[i][1]);
		/* a bad file keeps the rules */
		assert_int_equal(rules.count, 3);
	}
	mirror_rules_free(&rules);
}

static void test_no_default_rule(void **state)
{
	struct mirror_rules rules;
	char err[256];

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(parse(&rules, "aws http://127.0.0.1:1/aws\n", err, sizeof(err)), 0);
	assert_string_equal(selected(&rules, "gcp", "x"), "none");
	assert_string_equal(selected(&rules, NULL, NULL), "none");
	mirror_rules_free(&rules);
}

struct bad_case {
	const char *text;
	const char *error; /* expected message */
};

static void test_errors_name_file_and_line(void **state)
{
	static const char cdn_key_too_long[] = "aaaaaaaaaaaaaaaa upstream\n"; /* 16 chars */
	static const struct bad_case cases[] = {
	    {"aws:us-east-1\n",
	     "test.mirrors:1: expected 'CLOUD[:REGION] upstream|BASE_URL', got 'aws:us-east-1'"},
	    {"# c\n\ngcp upstream extra\n",
	     "test.mirrors:3: expected 'CLOUD[:REGION] upstream|BASE_URL', got 'gcp upstream "
	     "extra'"},
	    {"gcp Upstream\n", "test.mirrors:1: not 'upstream' or an absolute http(s) URL: "
			       "'Upstream'"},
	    {"aws ftp://127.0.0.1/\n",
	     "test.mirrors:1: not 'upstream' or an absolute http(s) URL: 'ftp://127.0.0.1/'"},
	    {"aws https://user@127.0.0.1/\n",
	     "test.mirrors:1: user info (user:password@) is not allowed: "
	     "'https://user@127.0.0.1/'"},
	    {"aws https://127.0.0.1/?x=1\n",
	     "test.mirrors:1: a query is not allowed (paths are appended to this URL): "
	     "'https://127.0.0.1/?x=1'"},
	    {"aws https://\n", "test.mirrors:1: no host: 'https://'"},
	    {"aws https://127.0.0.1:0/\n",
	     "test.mirrors:1: bad port (want 1 to 65535): 'https://127.0.0.1:0/'"},
	    {"gcp upstream\ngcp upstream\n", "test.mirrors:2: duplicate rule for 'gcp'"},
	    {"aws:x upstream\naws:x http://127.0.0.1/\n",
	     "test.mirrors:2: duplicate rule for 'aws:x'"},
	    {"*:x upstream\n", "test.mirrors:1: '*' takes no region: '*:x'"},
	    {":x upstream\n", "test.mirrors:1: invalid cloud name (want [a-z0-9_-] or '*'): ':x'"},
	    {"aws: upstream\n", "test.mirrors:1: invalid region name: 'aws:'"},
	    {"aws:a:b upstream\n", "test.mirrors:1: invalid region name: 'aws:a:b'"},
	    {"aws\x01 upstream\n",
	     "test.mirrors:1: invalid cloud name (want [a-z0-9_-] or '*'): 'aws\x01'"},
	    /* Clouds are spelled as the range files spell them; a rule for "AWS!"
	     * could never match a client. */
	    {"AWS!:x upstream\n",
	     "test.mirrors:1: invalid cloud name (want [a-z0-9_-] or '*'): 'AWS!:x'"},
	    {"Aws http://127.0.0.1/\n",
	     "test.mirrors:1: invalid cloud name (want [a-z0-9_-] or '*'): 'Aws'"},
	    {"a.b upstream\n",
	     "test.mirrors:1: invalid cloud name (want [a-z0-9_-] or '*'): 'a.b'"},
	    {"** upstream\n", "test.mirrors:1: invalid cloud name (want [a-z0-9_-] or '*'): '**'"},
	    {cdn_key_too_long, "test.mirrors:1: cloud name too long: 'aaaaaaaaaaaaaaaa'"},
	    {"aws:rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr upstream\n",
	     "test.mirrors:1: region name too long: "
	     "'aws:rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr'"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mirror_rules rules;

		mirror_rules_init(&rules);
		err[0] = '\0';
		if (parse(&rules, cases[i].text, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted: %s", i, cases[i].text);
		if (strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: error\n  got  \"%s\"\n  want \"%s\"", i, err,
				 cases[i].error);
		assert_int_equal(rules.count, 0);
		mirror_rules_free(&rules);
	}
}

/* A base URL is put in front of "/containers/images/<digest>" in a Location:
 * one too long for that is refused when the rules are read, not discovered
 * as every client silently going upstream. */
static void test_base_url_too_long_for_a_redirect(void **state)
{
	struct mirror_rules rules;
	char err[512] = "";
	size_t prefix = strlen("aws:x http://127.0.0.1/");
	char *text = malloc(prefix + 10240 + 3);

	(void)state;
	assert_non_null(text);
	mirror_rules_init(&rules);
	/* Exactly MIRROR_BASE_URL_MAX characters (a trailing '/' is not counted). */
	memcpy(text, "aws:x http://127.0.0.1/", prefix);
	size_t url_len = prefix - strlen("aws:x ");
	memset(text + prefix, 'a', MIRROR_BASE_URL_MAX - url_len);
	strcpy(text + prefix + MIRROR_BASE_URL_MAX - url_len, "/\n");
	if (parse(&rules, text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(strlen(rules.rules[0].base_url), MIRROR_BASE_URL_MAX);

	/* One more, and a 10 KB one: refused with file and line. */
	memset(text + prefix, 'a', MIRROR_BASE_URL_MAX - url_len + 1);
	strcpy(text + prefix + MIRROR_BASE_URL_MAX - url_len + 1, "\n");
	assert_int_equal(parse(&rules, text, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "test.mirrors:1: base URL too long (1025 characters, at most 1024): "
			    "'http://127.0.0.1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	memset(text + prefix, 'a', 10240);
	strcpy(text + prefix + 10240, "\n");
	assert_int_equal(parse(&rules, text, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "test.mirrors:1: base URL too long (10257 characters, at most 1024): "
			    "'http://127.0.0.1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	/* The last good table stays. */
	assert_int_equal(rules.count, 1);
	free(text);
	mirror_rules_free(&rules);
}

/* Callers that only want the status may pass no error buffer. */
static void test_error_buffer_optional(void **state)
{
	struct mirror_rules rules;

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(parse(&rules, "broken\n", NULL, 0), -1);
	assert_int_equal(mirror_rules_load_file(&rules, "/nonexistent", NULL, 0), -1);
	mirror_rules_free(&rules);
}

static void test_nul_byte(void **state)
{
	struct mirror_rules rules;
	char err[256];
	static const char text[] = "gcp upstream\naws\0 upstream\n";

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(
	    mirror_rules_parse(&rules, "n.mirrors", text, sizeof(text) - 1, err, sizeof(err)), -1);
	assert_string_equal(err, "n.mirrors:2: NUL byte in line");
	mirror_rules_free(&rules);
}

/* A bad reload must keep the last good table intact. */
static void test_failed_parse_keeps_rules(void **state)
{
	struct mirror_rules rules;
	char err[256];

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(parse(&rules, "aws http://127.0.0.1:1/a\n* upstream\n", err, sizeof(err)),
			 0);
	assert_int_equal(parse(&rules, "aws http://127.0.0.1:1/b\nbroken\n", err, sizeof(err)), -1);
	assert_int_equal(rules.count, 2);
	assert_string_equal(selected(&rules, "aws", "x"), "http://127.0.0.1:1/a");
	/* and a good one replaces it completely */
	assert_int_equal(parse(&rules, "gcp upstream\n", err, sizeof(err)), 0);
	assert_int_equal(rules.count, 1);
	assert_string_equal(selected(&rules, "aws", "x"), "none");
	mirror_rules_free(&rules);
}

/* Without --mirrors: registry.k8s.io's table, with the '*' rule going to the
 * default mirror given (trailing '/' removed, as in a file). */
static void test_default_rules(void **state)
{
	struct mirror_rules rules, table;
	char err[256];

	(void)state;
	mirror_rules_init(&rules);
	mirror_rules_init(&table);
	if (mirror_rules_load_file(&table, K8S_MIRRORS, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(mirror_rules_default(&rules, "http://127.0.0.1:9/cdn/", err, sizeof(err)),
			 0);
	assert_int_equal(rules.count, table.count);
	assert_string_equal(selected(&rules, "gcp", "us-central1"), "upstream");
	assert_string_equal(selected(&rules, "gcp", NULL), "upstream");
	assert_string_equal(
	    selected(&rules, "aws", "us-east-1"),
	    "https://prod-registry-k8s-io-us-east-1.s3.dualstack.us-east-1.amazonaws.com");
	assert_string_equal(selected(&rules, "aws", "xx-future-1"), "http://127.0.0.1:9/cdn");
	assert_string_equal(selected(&rules, "azure", "westeurope"), "http://127.0.0.1:9/cdn");
	assert_string_equal(selected(&rules, NULL, NULL), "http://127.0.0.1:9/cdn");

	assert_int_equal(mirror_rules_default(&rules, "not a url", err, sizeof(err)), -1);
	assert_string_equal(err, "default mirror: not an absolute http(s) URL: 'not a url'");
	assert_int_equal(mirror_rules_default(&rules, NULL, err, sizeof(err)), -1);
	assert_int_equal(mirror_rules_default(&rules, "http://u:p@127.0.0.1/", err, sizeof(err)),
			 -1);
	assert_int_equal(rules.count, table.count); /* unchanged */
	assert_string_equal(selected(&rules, NULL, NULL), "http://127.0.0.1:9/cdn");
	mirror_rules_free(&rules);
	mirror_rules_free(&table);
}

/* The rule with rule's key in rules, or NULL. */
static const struct mirror_rule *same_key(const struct mirror_rules *rules,
					  const struct mirror_rule *rule)
{
	for (size_t i = 0; i < rules->count; i++)
		if (strcmp(rules->rules[i].cloud, rule->cloud) == 0 &&
		    strcmp(rules->rules[i].region, rule->region) == 0)
			return &rules->rules[i];
	return NULL;
}

/* The defaults route as registry.k8s.io does: with the default --default-mirror
 * (the CDN), the built-in rules are exactly the rules of the production table
 * in ../shared/data, rule for rule, in either direction. */
static void test_default_rules_are_registry_k8s_io(void **state)
{
	struct mirror_rules builtin, table;
	char err[256];

	(void)state;
	mirror_rules_init(&builtin);
	mirror_rules_init(&table);
	if (mirror_rules_load_file(&table, K8S_MIRRORS, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	if (mirror_rules_default(&builtin, CDN, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(table.count >= 30);
	for (size_t i = 0; i < table.count; i++) {
		const struct mirror_rule *want = &table.rules[i];
		const struct mirror_rule *got = same_key(&builtin, want);
		const char *key = want->cloud;
		if (!got)
			fail_msg("built-in rules have no %s%s%s", key, *want->region ? ":" : "",
				 want->region);
		const char *w = want->base_url ? want->base_url : "upstream";
		const char *g = got->base_url ? got->base_url : "upstream";
		if (strcmp(w, g) != 0)
			fail_msg("%s%s%s: built-in %s, registry.k8s.io %s", key,
				 *want->region ? ":" : "", want->region, g, w);
	}
	assert_int_equal(builtin.count, table.count);
	mirror_rules_free(&builtin);
	mirror_rules_free(&table);
}

/* What is compiled in is the documented file as it is now (a stale build
 * would route by an old table). Tests run from the repository root. */
static void test_builtin_text_is_the_data_file(void **state)
{
	(void)state;
	FILE *f = fopen("data/registry-k8s-io.mirrors", "rb");
	assert_non_null(f);
	static char file[65536];
	size_t n = fread(file, 1, sizeof(file), f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(file));
	size_t len;
	const char *text = mirror_rules_builtin_text(&len);
	assert_int_equal(len, n);
	assert_memory_equal(text, file, n);
}

static void test_default_rules_long_url(void **state)
{
	struct mirror_rules rules;
	char err[256];
	char url[5000];

	(void)state;
	mirror_rules_init(&rules);
	memcpy(url, "http://127.0.0.1/", 17);
	memset(url + 17, 'a', sizeof(url) - 18);
	url[sizeof(url) - 1] = '\0';
	assert_int_equal(mirror_rules_default(&rules, url, err, sizeof(err)), -1);
	assert_string_equal(err, "default mirror: URL too long (4999 characters, at most 1024)");
	/* At the limit it is accepted; one more character is not. */
	url[MIRROR_BASE_URL_MAX] = '\0';
	assert_int_equal(mirror_rules_default(&rules, url, err, sizeof(err)), 0);
	url[MIRROR_BASE_URL_MAX] = 'a';
	url[MIRROR_BASE_URL_MAX + 1] = '\0';
	assert_int_equal(mirror_rules_default(&rules, url, err, sizeof(err)), -1);
	assert_string_equal(err, "default mirror: URL too long (1025 characters, at most 1024)");
	mirror_rules_free(&rules);
}

static void test_load_file_errors(void **state)
{
	struct mirror_rules rules;
	char err[256];

	(void)state;
	mirror_rules_init(&rules);
	assert_int_equal(mirror_rules_load_file(&rules, "/nonexistent/x.mirrors", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "/nonexistent/x.mirrors: No such file or directory");
	assert_int_equal(mirror_rules_load_file(&rules, "../shared/data", err, sizeof(err)), -1);
	assert_string_equal(err, "../shared/data: read error: Is a directory");
	assert_int_equal(mirror_rules_load_file(&rules, "/dev/zero", err, sizeof(err)), -1);
	assert_string_equal(err, "/dev/zero: larger than 1048576 bytes, not a mirror rule file");
	assert_int_equal(rules.count, 0);
	mirror_rules_free(&rules);
}

/* registry.k8s.io's production table: every AWS region line selects exactly
 * its own URL, GCP goes upstream, everyone else to the CDN. The expectations
 * are read from the file with a separate, naive reader. */
static void test_registry_k8s_io_table(void **state)
{
	struct mirror_rules rules;
	char err[256];
	char line[1024];
	size_t aws_lines = 0;
	FILE *f;

	(void)state;
	mirror_rules_init(&rules);
	if (mirror_rules_load_file(&rules, K8S_MIRRORS, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	f = fopen(K8S_MIRRORS, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char region[64], url[512];

		if (sscanf(line, "aws:%63s %511s", region, url) != 2)
			continue;
		aws_lines++;
		if (strcmp(selected(&rules, "aws", region), url) != 0)
			fail_msg("aws:%s selected %s, file says %s", region,
				 selected(&rules, "aws", region), url);
	}
	fclose(f);
	assert_true(aws_lines >= 30);

	assert_string_equal(selected(&rules, "aws", "eu-west-2"),
			    "https://767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2.s3."
			    "dualstack.eu-west-2.amazonaws.com");
	assert_string_equal(selected(&rules, "gcp", "us-central1"), "upstream");
	assert_string_equal(selected(&rules, "gcp", "europe-west1"), "upstream");
	assert_string_equal(selected(&rules, "gcp", NULL), "upstream");
	assert_string_equal(selected(&rules, "azure", "westeurope"), CDN);
	assert_string_equal(selected(&rules, "aws", "xx-future-1"), CDN);
	assert_string_equal(selected(&rules, "aws", NULL), CDN);
	assert_string_equal(selected(&rules, "some-operator", "dc1"), CDN);
	assert_string_equal(selected(&rules, NULL, NULL), CDN);
	mirror_rules_free(&rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_empty_file_means_upstream),
	    cmocka_unit_test(test_most_specific_wins),
	    cmocka_unit_test(test_no_default_rule),
	    cmocka_unit_test(test_upstream_rules),
	    cmocka_unit_test(test_errors_name_file_and_line),
	    cmocka_unit_test(test_base_url_too_long_for_a_redirect),
	    cmocka_unit_test(test_error_buffer_optional),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_failed_parse_keeps_rules),
	    cmocka_unit_test(test_default_rules),
	    cmocka_unit_test(test_default_rules_are_registry_k8s_io),
	    cmocka_unit_test(test_builtin_text_is_the_data_file),
	    cmocka_unit_test(test_default_rules_long_url),
	    cmocka_unit_test(test_load_file_errors),
	    cmocka_unit_test(test_registry_k8s_io_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
