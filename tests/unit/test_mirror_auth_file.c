/* Credentials from auth.json / config.json, matched as skopeo matches them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mirrortool/auth_file.h"

/* base64("alice:s3cr3t:with:colons") */
#define ALICE "YWxpY2U6czNjcjN0OndpdGg6Y29sb25z"

static bool lookup(const char *text, const char *registry, struct registry_credentials *c,
		   bool *found)
{
	char err[256] = "";
	return auth_file_lookup(text, strlen(text), registry, c, found, err, sizeof(err));
}

static void test_key_forms(void **state)
{
	(void)state;
	const char *cases[][2] = {
	    {"reg.example:5000", "reg.example:5000"},
	    {"https://reg.example:5000", "reg.example:5000"},
	    {"http://reg.example/v2/", "reg.example"},
	    {"https://index.docker.io/v1/", "index.docker.io"},
	    {"docker.io", "index.docker.io"},
	    {"registry-1.docker.io", "index.docker.io"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = auth_file_key_registry(cases[i][0]);
		assert_non_null(got);
		assert_string_equal(got, cases[i][1]);
		free(got);
	}
	/* A namespace key is not a registry-wide one. */
	assert_null(auth_file_key_registry("reg.example/team"));
}

static void test_basic_from_auth(void **state)
{
	(void)state;
	struct registry_credentials c;
	bool found;
	const char *text = "{\"auths\":{\"other:1\":{\"auth\":\"eDp5\"},"
			   "\"https://127.0.0.1:5000\":{\"auth\":\"" ALICE "\"}}}";
	assert_true(lookup(text, "127.0.0.1:5000", &c, &found));
	assert_true(found);
	assert_string_equal(c.username, "alice");
	/* Only the first colon separates: passwords may hold colons. */
	assert_string_equal(c.password, "s3cr3t:with:colons");
	assert_null(c.identity_token);
	registry_credentials_free(&c);
	/* Another port is another registry. */
	assert_true(lookup(text, "127.0.0.1:5001", &c, &found));
	assert_false(found);
	assert_null(c.username);
}

static void test_username_password_and_identity_token(void **state)
{
	(void)state;
	struct registry_credentials c;
	bool found;
	assert_true(lookup("{\"auths\":{\"r.io\":{\"username\":\"u\",\"password\":\"p\"}}}", "r.io",
			   &c, &found));
	assert_true(found);
	assert_string_equal(c.username, "u");
	assert_string_equal(c.password, "p");
	registry_credentials_free(&c);
	assert_true(lookup("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"\","
			   "\"identitytoken\":\"refresh-me\"}}}",
			   "docker.io", &c, &found));
	assert_true(found);
	assert_string_equal(c.identity_token, "refresh-me");
	assert_null(c.username);
	registry_credentials_free(&c);
}

static void test_exact_key_wins(void **state)
{
	(void)state;
	struct registry_credentials c;
	bool found;
	const char *text = "{\"auths\":{\"https://r.io/v1/\":{\"username\":\"old\",\"password\":"
			   "\"x\"},\"r.io\":{\"username\":\"new\",\"password\":\"y\"}}}";
	assert_true(lookup(text, "r.io", &c, &found));
	assert_string_equal(c.username, "new");
	registry_credentials_free(&c);
}

static void test_malformed_never_echoes_secrets(void **state)
{
	(void)state;
	struct registry_credentials c;
	bool found;
	char err[256];
	const char *bad[] = {
	    "not json",
	    "{\"auths\":[]}",
	    "{\"auths\":{\"r.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", /* "nocolon" */
	    "{\"auths\":{\"r.io\":{\"auth\":\"!!!!\"}}}",
	    "{\"auths\":{\"r.io\":{}}}",
	    "{\"auths\":{\"r.io\":\"x\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_false(
		    auth_file_lookup(bad[i], strlen(bad[i]), "r.io", &c, &found, err, sizeof(err)));
		assert_false(found);
		assert_true(err[0] != '\0');
		assert_null(strstr(err, "bm9jb2xvbg"));
		assert_null(strstr(err, "nocolon"));
	}
	/* No auths at all: nothing found, nothing wrong. */
	assert_true(lookup("{}", "r.io", &c, &found));
	assert_false(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_forms),
	    cmocka_unit_test(test_basic_from_auth),
	    cmocka_unit_test(test_username_password_and_identity_token),
	    cmocka_unit_test(test_exact_key_wins),
	    cmocka_unit_test(test_malformed_never_echoes_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
