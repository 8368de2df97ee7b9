/* URI helpers: percent-decoding once, query checks, absolute URL checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "archeio/contract/uri.h"
#include "archeio/core/url_check.h"

static void check_decode(const char *in, const char *want, long want_len)
{
	char out[256];
	long n = uri_percent_decode(in, strlen(in), out);

	if (n != want_len)
		fail_msg("decode(\"%s\") length %ld, want %ld", in, n, want_len);
	if (want != NULL)
		assert_memory_equal(out, want, (size_t)want_len);
}

static void test_percent_decode(void **state)
{
	(void)state;
	check_decode("", "", 0);
	check_decode("plain/path", "plain/path", 10);
	check_decode("a%2Fb", "a/b", 3);
	check_decode("a%2fb", "a/b", 3);
	check_decode("%41%62", "Ab", 2);
	/* once only: %25 gives a '%' that is not decoded again */
	check_decode("%252e", "%2e", 3);
	check_decode("%00", "\0", 1);
	check_decode("%ff", "\xff", 1);
	check_decode("%", NULL, -1);
	check_decode("a%", NULL, -1);
	check_decode("a%4", NULL, -1);
	check_decode("%g0", NULL, -1);
	check_decode("%0g", NULL, -1);
	check_decode("%%41", NULL, -1);
}

static void test_query_valid(void **state)
{
	static const char *const good[] = {
	    "",
	    "n=10&last=3.8",
	    "artifactType=application/vnd.dev.sigstore.bundle%2Bjson",
	    "a=b?c:d@e/f",
	    "x=!$&'()*+,;=",
	    "x=-._~",
	    "%41%4a%4A",
	};
	static const char *const bad[] = {
	    "a b",  "a\tb", "a\r\nb", "a#b",  "a%",   "a%4",  "a%zz",
	    "a\"b", "a<b",  "a>b",    "a\\b", "a^b",  "a`b",  "a{b",
	    "a}b",  "a|b",  "a[b",    "a]b",  "\x7f", "\x01", "caf\xc3\xa9",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!uri_query_valid(good[i], strlen(good[i])))
			fail_msg("query \"%s\" rejected", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (uri_query_valid(bad[i], strlen(bad[i])))
			fail_msg("query \"%s\" accepted", bad[i]);
	}
	assert_false(uri_query_valid("a\0b", 3));
}

static void test_url_is_absolute_http(void **state)
{
	static const char *const good[] = {
	    "http://127.0.0.1",
	    "https://127.0.0.1",
	    "http://127.0.0.1:8080",
	    "http://127.0.0.1:65535/",
	    "https://localhost/a/b",
	    "HTTPS://localhost/",
	    "http://[::1]",
	    "http://[::1]:8080/x",
	    "http://[::ffff:127.0.0.1]/",
	    "https://registry.test/info?x=1&y=2",
	    "http://host.test?x=1",
	    "https://d1be1w964nk82h.cloudfront.net",
	    "http://a_b-c.test",
	};
	static const char *const bad[] = {
	    "",
	    "127.0.0.1",
	    "//127.0.0.1/",
	    "ftp://127.0.0.1/",
	    "file:///etc/passwd",
	    "http:/127.0.0.1",
	    "http://",
	    "https:///path",
	    "http://:80",
	    "http://user@127.0.0.1/",
	    "http://user:pw@127.0.0.1/",
	    "http://127.0.0.1/#frag",
	    "http://127.0.0.1/a b",
	    "http://127.0.0.1/a\tb",
	    "http://127.0.0.1/\r\nX: y",
	    "http://127.0.0.1/caf\xc3\xa9",
	    "http://127.0.0.1:/",
	    "http://127.0.0.1:0/",
	    "http://127.0.0.1:65536/",
	    "http://127.0.0.1:123456/",
	    "http://127.0.0.1:8x/",
	    "http://[::1/",
	    "http://[]/",
	    "http://[::1]x/",
	    "http://[::g]/",
	    "http://a<b/",
	    /* Hosts libcurl and container clients refuse (found by fuzz_url_check). */
	    "https://+us-central1.pkg.dev",
	    "http://a%20b/",
	    "http://a,b/",
	    "http://[:]/",
	    "http://[::1::2]/",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!url_is_absolute_http(good[i]))
			fail_msg("url \"%s\" rejected", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (url_is_absolute_http(bad[i]))
			fail_msg("url \"%s\" accepted", bad[i]);
	}
	assert_false(url_is_absolute_http(NULL));
}

static void test_url_is_base_http(void **state)
{
	(void)state;
	assert_true(url_is_base_http("https://127.0.0.1/prefix"));
	assert_false(url_is_base_http("https://127.0.0.1/prefix?x=1"));
	assert_false(url_is_base_http("https://127.0.0.1?"));
	assert_false(url_is_base_http("ftp://127.0.0.1/"));
	assert_false(url_is_base_http(NULL));
}

/* The reason for each way a configured URL can be wrong; NULL when right. */
static void test_url_check_reason(void **state)
{
	static const struct {
		const char *url;
		enum url_use use;
		const char *reason;
	} cases[] = {
	    {"https://127.0.0.1/info?x=1", URL_PAGE, NULL},
	    {"https://127.0.0.1/prefix/", URL_BASE, NULL},
	    {"https://127.0.0.1/info?x=1", URL_BASE,
	     "a query is not allowed (paths are appended to this URL)"},
	    {"https://127.0.0.1?", URL_BASE,
	     "a query is not allowed (paths are appended to this URL)"},
	    {"http://u:p@127.0.0.1", URL_PAGE, "user info (user:password@) is not allowed"},
	    {"http://user@127.0.0.1/", URL_BASE, "user info (user:password@) is not allowed"},
	    {"http://127.0.0.1/#frag", URL_PAGE, "a fragment (#) is not allowed"},
	    {"http://127.0.0.1/a b", URL_PAGE,
	     "spaces, control characters and non-ASCII bytes are not allowed"},
	    {"http://127.0.0.1/\xc3\xa9", URL_PAGE,
	     "spaces, control characters and non-ASCII bytes are not allowed"},
	    {"http://", URL_PAGE, "no host"},
	    {"https:///path", URL_BASE, "no host"},
	    {"http://:80", URL_PAGE, "no host"},
	    {"http://127.0.0.1:0", URL_PAGE, "bad port (want 1 to 65535)"},
	    {"http://127.0.0.1:65536/", URL_PAGE, "bad port (want 1 to 65535)"},
	    {"http://127.0.0.1:/", URL_PAGE, "bad port (want 1 to 65535)"},
	    {"http://[::1/", URL_PAGE, "bad host"},
	    {"http://a<b/", URL_PAGE, "bad host"},
	    {"ftp://127.0.0.1/", URL_PAGE, "not an absolute http(s) URL"},
	    {"127.0.0.1", URL_BASE, "not an absolute http(s) URL"},
	    {"", URL_PAGE, "not an absolute http(s) URL"},
	    {NULL, URL_PAGE, "not an absolute http(s) URL"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = url_check_reason(cases[i].url, cases[i].use);
		const char *want = cases[i].reason;
		if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
			fail_msg("url \"%s\": got \"%s\", want \"%s\"",
				 cases[i].url ? cases[i].url : "(null)", got ? got : "(ok)",
				 want ? want : "(ok)");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_percent_decode),	 cmocka_unit_test(test_query_valid),
	    cmocka_unit_test(test_url_is_absolute_http), cmocka_unit_test(test_url_is_base_http),
	    cmocka_unit_test(test_url_check_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
