/* Link header pagination and URL resolution. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mirrortool/link.h"
#include "mirrortool/url.h"

static void expect_next(const char *header, const char *want)
{
	char *got = link_next_target(header);
	if (want) {
		assert_non_null(got);
		assert_string_equal(got, want);
	} else {
		assert_null(got);
	}
	free(got);
}

static void test_registry_style(void **state)
{
	(void)state;
	expect_next("</v2/test/img/tags/list?last=b&n=2>; rel=\"next\"",
		    "/v2/test/img/tags/list?last=b&n=2");
	expect_next("</v2/_catalog?last=x&n=100>; rel=next", "/v2/_catalog?last=x&n=100");
}

static void test_several_links_and_params(void **state)
{
	(void)state;
	expect_next(
	    "<http://a/prev>; rel=\"prev\", <http://a/next>; type=\"x\"; rel=\"other next\"",
	    "http://a/next");
	expect_next("<http://a/p>; rel=\"prev\"", NULL);
	/* A target with a space or control byte would go back into a request
	 * line (found by fuzz_registry_auth). */
	expect_next("</v2/x/ta s/list>; rel=\"next\"", NULL);
	expect_next("</v2/x/tags\x0e/list>; rel=\"next\"", NULL);
	expect_next("<http://a/p>; title=\"a, b; c\"; rel=\"NEXT\"", "http://a/p");
	expect_next("<http://a/p>; rel=\"nextish\"", NULL);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_next("", NULL);
	expect_next("http://no/brackets; rel=next", NULL);
	expect_next("<http://unterminated; rel=next", NULL);
	expect_next("<http://a/p> rel=next", NULL);
	expect_next("<http://a/p>; rel=\"next", NULL);
}

static void expect_resolve(const char *base, const char *ref, const char *want)
{
	char *got = url_resolve(base, ref);
	if (want) {
		assert_non_null(got);
		assert_string_equal(got, want);
	} else {
		assert_null(got);
	}
	free(got);
}

static void test_resolve(void **state)
{
	(void)state;
	const char *base = "http://127.0.0.1:5000/v2/a/tags/list?n=2";
	expect_resolve(base, "/v2/a/tags/list?last=x",
		       "http://127.0.0.1:5000/v2/a/tags/list?last=x");
	expect_resolve(base, "https://other/x", "https://other/x");
	expect_resolve(base, "?last=y", "http://127.0.0.1:5000/v2/a/tags/list?last=y");
	expect_resolve(base, "list2", "http://127.0.0.1:5000/v2/a/tags/list2");
	expect_resolve("http://h", "x", "http://h/x");
	expect_resolve("ftp://h/x", "/y", NULL);
}

/* RFC 3986 section 5.2 cases that a hand-written resolver got wrong. */
static void test_resolve_rfc3986(void **state)
{
	(void)state;
	static const struct {
		const char *base, *ref, *want;
	} cases[] = {
	    /* A network-path reference keeps only the scheme. */
	    {"https://registry.example/v2/a/tags/list", "//other.example/p",
	     "https://other.example/p"},
	    {"http://h:5000/v2/", "//cdn.example:8080/blob?sig=1",
	     "http://cdn.example:8080/blob?sig=1"},
	    /* Dot segments are merged with the base's directory. */
	    {"http://h/a/b/c", "../x", "http://h/a/x"},
	    {"http://h/a/b/c", "./x", "http://h/a/b/x"},
	    {"http://h/a/b/c", "../../../../x", "http://h/x"},
	    {"http://h/a/b/c", "/p/./q/../r", "http://h/p/r"},
	    /* Schemes are case-insensitive: accepted, and written lower case. */
	    {"http://h/a", "HTTPS://Host/p", "https://Host/p"},
	    {"http://h/a", "Http://h2/p", "http://h2/p"},
	    /* Only http(s) results. */
	    {"http://h/a", "mailto:x@y", NULL},
	    {"http://h/a", "ftp://h/x", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_resolve(cases[i].base, cases[i].ref, cases[i].want);
}

static void test_split_and_encode(void **state)
{
	(void)state;
	char *authority = NULL, *path = NULL;
	assert_true(url_split("http://127.0.0.1:9000/bucket/key?x=1#f", &authority, &path));
	assert_string_equal(authority, "127.0.0.1:9000");
	assert_string_equal(path, "/bucket/key?x=1");
	free(authority);
	free(path);
	assert_true(url_split("https://s3.amazonaws.com", &authority, &path));
	assert_string_equal(authority, "s3.amazonaws.com");
	assert_string_equal(path, "/");
	free(authority);
	free(path);
	assert_false(url_split("s3://bucket", &authority, &path));
	char *e = url_encode("a b/c:d~e", false);
	assert_string_equal(e, "a%20b%2Fc%3Ad~e");
	free(e);
	e = url_encode("p/containers/images/sha256:ab", true);
	assert_string_equal(e, "p/containers/images/sha256%3Aab");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry_style),  cmocka_unit_test(test_several_links_and_params),
	    cmocka_unit_test(test_malformed),	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_resolve_rfc3986), cmocka_unit_test(test_split_and_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
