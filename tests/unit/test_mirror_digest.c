/* Digest parsing and streaming verification. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mirrortool/digest.h"

/* sha256("abc"), sha512("abc") (FIPS 180-2 examples). */
#define ABC256 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC512                                                                                     \
	"sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"  \
	"36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static void test_parse(void **state)
{
	(void)state;
	struct digest_ref d;
	assert_true(digest_parse(ABC256, &d));
	assert_int_equal(d.algo, DIGEST_SHA256);
	assert_string_equal(d.text, ABC256);
	assert_true(digest_parse(ABC512, &d));
	assert_int_equal(d.algo, DIGEST_SHA512);
	assert_false(digest_parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F"
				  "20015AD",
				  &d));
	assert_false(digest_parse("sha256:ba78", &d));
	assert_false(digest_parse(ABC256 "0", &d));
	assert_false(digest_parse("md5:900150983cd24fb0d6963f7d28e17f72", &d));
	assert_false(
	    digest_parse("sha256:../../../../etc/passwd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaa",
			 &d));
	assert_false(digest_parse("", &d));
}

static void test_sha256_text(void **state)
{
	(void)state;
	char out[DIGEST_TEXT_MAX];
	digest_sha256_text("abc", 3, out);
	assert_string_equal(out, ABC256);
}

static void test_stream_match_in_pieces(void **state)
{
	(void)state;
	struct digest_ref d;
	assert_true(digest_parse(ABC256, &d));
	struct digest_verifier *v = digest_verifier_new(&d);
	assert_non_null(v);
	assert_true(digest_verifier_update(v, "a", 1));
	assert_true(digest_verifier_update(v, "bc", 2));
	char actual[DIGEST_TEXT_MAX];
	unsigned char sha[DIGEST_SHA256_LEN];
	assert_true(digest_verifier_finish(v, actual, sha));
	assert_string_equal(actual, ABC256);
	assert_int_equal(sha[0], 0xba);
	assert_int_equal(sha[31], 0xad);
	digest_verifier_free(v);
}

static void test_mismatch_and_reset(void **state)
{
	(void)state;
	struct digest_ref d;
	assert_true(digest_parse(ABC256, &d));
	struct digest_verifier *v = digest_verifier_new(&d);
	char actual[DIGEST_TEXT_MAX];
	assert_true(digest_verifier_update(v, "abd", 3));
	assert_false(digest_verifier_finish(v, actual, NULL));
	assert_string_not_equal(actual, ABC256);
	/* A retried download starts over: earlier bytes must not count. */
	assert_true(digest_verifier_reset(v));
	assert_true(digest_verifier_update(v, "xx", 2));
	assert_true(digest_verifier_reset(v));
	assert_true(digest_verifier_update(v, "abc", 3));
	assert_true(digest_verifier_finish(v, actual, NULL));
	digest_verifier_free(v);
}

static void test_sha512_with_side_sha256(void **state)
{
	(void)state;
	struct digest_ref d;
	assert_true(digest_parse(ABC512, &d));
	struct digest_verifier *v = digest_verifier_new(&d);
	assert_true(digest_verifier_update(v, "abc", 3));
	char actual[DIGEST_TEXT_MAX];
	unsigned char sha[DIGEST_SHA256_LEN];
	assert_true(digest_verifier_finish(v, actual, sha));
	assert_string_equal(actual, ABC512);
	assert_int_equal(sha[0], 0xba); /* the sha256 of the same bytes */
	digest_verifier_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_sha256_text),
	    cmocka_unit_test(test_stream_match_in_pieces),
	    cmocka_unit_test(test_mismatch_and_reset),
	    cmocka_unit_test(test_sha512_with_side_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
