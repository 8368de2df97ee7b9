/* OCI name/tag/digest grammar: each case is one edge of the spec's regexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "archeio/core/oci.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX128 HEX64 HEX64

struct grammar_case {
	const char *text;
	bool valid;
};

static void check_cases(bool (*fn)(const char *, size_t), const struct grammar_case *cases,
			size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		bool got = fn(cases[i].text, strlen(cases[i].text));
		if (got != cases[i].valid)
			fail_msg("%s(\"%s\") = %d, want %d", what, cases[i].text, got,
				 cases[i].valid);
	}
}

static void test_name(void **state)
{
	(void)state;
	static const struct grammar_case cases[] = {
	    {"pause", true},
	    {"a", true},
	    {"0", true},
	    {"kube-apiserver", true},
	    {"a--b", true}, /* -+ : any number of dashes */
	    {"a---b", true},
	    {"a.b", true},
	    {"a_b", true},
	    {"a__b", true},   /* "__" is one separator */
	    {"a___b", false}, /* "___" is not */
	    {"a._b", false},  /* two separators in a row */
	    {"a..b", false},
	    {"a-.b", false},
	    {"sig-storage/csi-provisioner", true},
	    {"a/b/c/d", true},
	    {"", false},
	    {"/a", false}, /* empty component */
	    {"a/", false},
	    {"a//b", false},
	    {".", false},
	    {"..", false},
	    {"a/./b", false},
	    {"a/../b", false},
	    {"-a", false}, /* components start with [a-z0-9] */
	    {"a-", false}, /* and end with one */
	    {"_a", false},
	    {"a.", false},
	    {"Pause", false}, /* lowercase only */
	    {"paUse", false},
	    {"a b", false},
	    {"a%2fb", false},
	    {"a:b", false},
	    {"a\x01", false},
	    {"caf\xc3\xa9", false},
	};
	check_cases(oci_name_valid, cases, sizeof(cases) / sizeof(cases[0]), "oci_name_valid");
	/* an embedded NUL is a byte like any other, not an end */
	assert_false(oci_name_valid("a\0b", 3));
}

static void test_name_length(void **state)
{
	char name[300];

	(void)state;
	memset(name, 'a', sizeof(name));
	assert_true(oci_name_valid(name, 255));
	assert_false(oci_name_valid(name, 256));
	/* 127 components of "a/" plus "a" = 255 characters */
	for (size_t i = 0; i < 255; i++)
		name[i] = (i % 2) ? '/' : 'a';
	assert_true(oci_name_valid(name, 255));
}

static void test_tag(void **state)
{
	(void)state;
	static const struct grammar_case cases[] = {
	    {"latest", true},
	    {"v1.2.3", true},
	    {"3.9", true},
	    {"_private", true},
	    {"UPPER-case_Tag.1", true},
	    {"v1.30.0-rc.1", true},
	    {"", false},
	    {".hidden", false}, /* first char [a-zA-Z0-9_] */
	    {"-dash", false},
	    {"a:b", false},
	    {"a/b", false},
	    {"a+b", false},
	    {"a b", false},
	    {"a%", false},
	    {"\x7f", false},
	};
	char tag[200];

	check_cases(oci_tag_valid, cases, sizeof(cases) / sizeof(cases[0]), "oci_tag_valid");
	memset(tag, 'a', sizeof(tag));
	assert_true(oci_tag_valid(tag, 128));
	assert_false(oci_tag_valid(tag, 129));
}

static void test_digest(void **state)
{
	(void)state;
	static const struct grammar_case cases[] = {
	    {"sha256:" HEX64, true},
	    {"sha512:" HEX128, true},
	    {"sha256:" HEX64 "0", false}, /* 65 */
	    {"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	     false}, /* 63 */
	    {"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	     false}, /* uppercase */
	    {"sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     false},		      /* not hex */
	    {"sha512:" HEX64, false}, /* sha512 wants 128 */
	    {"sha256:", false},
	    {"SHA256:" HEX64, false}, /* algorithm lowercase */
	    {"blake3:abc", true},     /* generic grammar */
	    {"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", true},
	    {"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", true},
	    {"a.b_c-d:x=y", true},
	    {"x:ABC=_-", true},
	    {"a+:b", false}, /* separator must be followed by [a-z0-9] */
	    {"+a:b", false},
	    {"a++b:c", false},
	    {":abc", false},
	    {"abc", false},
	    {"abc:", false},
	    {"abc:d:e", false}, /* ':' not in the encoded alphabet */
	    {"abc:d/e", false},
	    {"abc:d.e", false},
	    {"abc:d+e", false},
	    {"abc:d e", false},
	};
	check_cases(oci_digest_valid, cases, sizeof(cases) / sizeof(cases[0]), "oci_digest_valid");
}

static void expect_split(const char *text, enum oci_digest_algorithm algorithm, const char *name,
			 const char *encoded)
{
	struct oci_digest_parts parts;

	assert_true(oci_digest_split(text, strlen(text), &parts));
	assert_int_equal(parts.algorithm, algorithm);
	assert_int_equal(parts.algorithm_len, strlen(name));
	assert_memory_equal(parts.algorithm_name, name, parts.algorithm_len);
	assert_int_equal(parts.encoded_len, strlen(encoded));
	assert_memory_equal(parts.encoded, encoded, parts.encoded_len);
	assert_ptr_equal(parts.encoded, text + strlen(name) + 1);
}

static void test_digest_split(void **state)
{
	struct oci_digest_parts parts = {.algorithm = OCI_DIGEST_SHA512, .encoded_len = 7};

	(void)state;
	expect_split("sha256:" HEX64, OCI_DIGEST_SHA256, "sha256", HEX64);
	expect_split("sha512:" HEX128, OCI_DIGEST_SHA512, "sha512", HEX128);
	expect_split("blake3:abc", OCI_DIGEST_OTHER, "blake3", "abc");
	expect_split("sha256+b64u:LCa0", OCI_DIGEST_OTHER, "sha256+b64u", "LCa0");
	/* Invalid digests leave out alone. */
	assert_false(oci_digest_split("sha256:" HEX128, 7 + 128, &parts));
	assert_false(oci_digest_split("sha256", 6, &parts));
	assert_int_equal(parts.algorithm, OCI_DIGEST_SHA512);
	assert_int_equal(parts.encoded_len, 7);
	/* out is optional. */
	assert_true(oci_digest_split("sha256:" HEX64, 7 + 64, NULL));
}

static void test_cosign_tag(void **state)
{
	(void)state;
	static const struct grammar_case cases[] = {
	    {"sha256-" HEX64 ".sig", true},
	    {"sha256-" HEX64 ".att", true},
	    {"sha256-" HEX64 ".sbom", false},
	    {"sha256-" HEX64, false},
	    {"sha256-" HEX64 ".SIG", false},
	    {"sha256-" HEX64 "0.sig", false},
	    {"sha256-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.sig", false},
	    {"sha512-" HEX64 ".sig", false},
	    {"sha256:" HEX64 ".sig", false},
	    {"latest", false},
	    {"", false},
	};
	check_cases(oci_is_cosign_tag, cases, sizeof(cases) / sizeof(cases[0]),
		    "oci_is_cosign_tag");
	/* every cosign tag is also a valid tag, so it routes like one without a
	 * signature upstream */
	assert_true(oci_tag_valid("sha256-" HEX64 ".sig", strlen("sha256-" HEX64 ".sig")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name),       cmocka_unit_test(test_name_length),
	    cmocka_unit_test(test_tag),	       cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_cosign_tag), cmocka_unit_test(test_digest_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
