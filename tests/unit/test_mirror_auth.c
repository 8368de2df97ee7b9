/* WWW-Authenticate parsing and token endpoint handling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mirrortool/auth.h"

static void test_docker_hub_style(void **state)
{
	(void)state;
	struct auth_challenge c;
	char err[128];
	assert_true(auth_challenge_parse(
	    "Bearer realm=\"https://auth.example.test/token\",service=\"registry.example.test\","
	    "scope=\"repository:library/alpine:pull\"",
	    &c, err, sizeof(err)));
	assert_true(auth_challenge_is_bearer(&c));
	assert_string_equal(c.realm, "https://auth.example.test/token");
	assert_string_equal(c.service, "registry.example.test");
	assert_string_equal(c.scope, "repository:library/alpine:pull");
	assert_null(c.error);
	char *url = auth_token_url(&c, NULL);
	assert_string_equal(url, "https://auth.example.test/token?service=registry.example.test&"
				 "scope=repository%3Alibrary%2Falpine%3Apull");
	free(url);
	auth_challenge_free(&c);
}

static void test_spaces_case_escapes_unknown_params(void **state)
{
	(void)state;
	struct auth_challenge c;
	char err[128];
	assert_true(auth_challenge_parse("bearer  Realm = \"http://127.0.0.1:1/t?x=1\" , "
					 "error=\"invalid_token\", foo=bar, service=\"a\\\"b\"",
					 &c, err, sizeof(err)));
	assert_true(auth_challenge_is_bearer(&c));
	assert_string_equal(c.realm, "http://127.0.0.1:1/t?x=1");
	assert_string_equal(c.error, "invalid_token");
	assert_string_equal(c.service, "a\"b");
	assert_null(c.scope);
	/* No scope in the challenge: the default is used; realm already has '?'. */
	char *url = auth_token_url(&c, "repository:x/y:pull");
	assert_string_equal(
	    url, "http://127.0.0.1:1/t?x=1&service=a%22b&scope=repository%3Ax%2Fy%3Apull");
	free(url);
	auth_challenge_free(&c);
}

static void test_bearer_preferred_among_several(void **state)
{
	(void)state;
	struct auth_challenge c;
	char err[128];
	assert_true(auth_challenge_parse("Basic realm=\"reg\", Bearer realm=\"http://h/token\"", &c,
					 err, sizeof(err)));
	assert_true(auth_challenge_is_bearer(&c));
	assert_string_equal(c.realm, "http://h/token");
	auth_challenge_free(&c);
	assert_true(auth_challenge_parse("Basic realm=\"Registry Realm\"", &c, err, sizeof(err)));
	assert_false(auth_challenge_is_bearer(&c));
	assert_string_equal(c.realm, "Registry Realm");
	auth_challenge_free(&c);
}

static void test_malformed(void **state)
{
	(void)state;
	struct auth_challenge c;
	char err[128];
	assert_false(auth_challenge_parse("", &c, err, sizeof(err)));
	assert_false(auth_challenge_parse("Bearer realm=\"unterminated", &c, err, sizeof(err)));
	assert_non_null(strstr(err, "realm"));
	assert_false(auth_challenge_parse("Bearer realm=\"x\" junk", &c, err, sizeof(err)));
	assert_false(auth_challenge_parse("\"quoted\"", &c, err, sizeof(err)));
	assert_null(c.scheme);
}

static void expect_realm(const char *realm, const char *challenged, const char *want)
{
	struct auth_challenge c = {.realm = realm ? strdup(realm) : NULL};
	if (want) {
		assert_true(auth_challenge_resolve_realm(&c, challenged));
		assert_string_equal(c.realm, want);
	} else {
		assert_false(auth_challenge_resolve_realm(&c, challenged));
		if (realm)
			assert_string_equal(c.realm, realm); /* untouched */
	}
	auth_challenge_free(&c);
}

static void test_realm_resolved_against_registry(void **state)
{
	(void)state;
	const char *reg = "http://127.0.0.1:5000/v2/team/app/tags/list";
	expect_realm("https://auth.example.test/token", reg, "https://auth.example.test/token");
	expect_realm("/token", reg, "http://127.0.0.1:5000/token");
	expect_realm("//auth.example.test/t?x=1", reg, "http://auth.example.test/t?x=1");
	expect_realm("../../../token", reg, "http://127.0.0.1:5000/v2/token");
	expect_realm("HTTPS://Auth.example.test/t", reg, "https://Auth.example.test/t");
	expect_realm("ftp://auth.example.test/t", reg, NULL);
	expect_realm("", reg, NULL);
	expect_realm(NULL, reg, NULL);
}

static void test_token_url_needs_realm(void **state)
{
	(void)state;
	struct auth_challenge c = {0};
	assert_null(auth_token_url(&c, "scope"));
}

static void test_token_json(void **state)
{
	(void)state;
	const char *a = "{\"token\":\"abc\",\"expires_in\":300}";
	const char *b = "{\"access_token\":\"xyz\"}";
	const char *both = "{\"access_token\":\"xyz\",\"token\":\"abc\"}";
	const char *empty = "{\"token\":\"\"}";
	char *t = auth_token_from_json(a, strlen(a));
	assert_string_equal(t, "abc");
	free(t);
	t = auth_token_from_json(b, strlen(b));
	assert_string_equal(t, "xyz");
	free(t);
	t = auth_token_from_json(both, strlen(both));
	assert_string_equal(t, "abc");
	free(t);
	assert_null(auth_token_from_json(empty, strlen(empty)));
	assert_null(auth_token_from_json("not json", 8));
	assert_null(auth_token_from_json("[1]", 3));
	/* A token that would put a header of the endpoint's choosing into the
	 * next request (found by fuzz_registry_auth). */
	const char *injected = "{\"token\":\"abc\\r\\nX-Evil: 1\"}";
	const char *del = "{\"token\":\"ab\\u007fc\"}";
	assert_null(auth_token_from_json(injected, strlen(injected)));
	assert_null(auth_token_from_json(del, strlen(del)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_hub_style),
	    cmocka_unit_test(test_spaces_case_escapes_unknown_params),
	    cmocka_unit_test(test_bearer_preferred_among_several),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_token_url_needs_realm),
	    cmocka_unit_test(test_realm_resolved_against_registry),
	    cmocka_unit_test(test_token_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
