/* SigV4 against AWS's published vectors: the SigV4 test suite's get-vanilla
 * and get-vanilla-query-order-key-case, and the S3 API reference examples
 * ("Signature Calculations for the Authorization Header"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mirrortool/sigv4.h"

static const struct sigv4_key suite_key = {
    .access_key = "AKIDEXAMPLE",
    .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "service",
};

static const struct sigv4_key s3_key = {
    .access_key = "AKIAIOSFODNN7EXAMPLE",
    .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "s3",
};

static void test_get_vanilla(void **state)
{
	(void)state;
	const struct sigv4_header headers[] = {
	    {"Host", "example.amazonaws.com"},
	    {"X-Amz-Date", "20150830T123600Z"},
	};
	struct sigv4_request req = {"GET", "/", "", headers, 2, SIGV4_EMPTY_SHA256};
	char *canonical = sigv4_canonical_request(&req);
	assert_string_equal(canonical,
			    "GET\n/\n\nhost:example.amazonaws.com\n"
			    "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" SIGV4_EMPTY_SHA256);
	char *sts = sigv4_string_to_sign(&req, &suite_key, "20150830T123600Z");
	assert_string_equal(
	    sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
		 "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	char *auth = sigv4_authorization(&req, &suite_key, "20150830T123600Z");
	assert_string_equal(
	    auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
		  "aws4_request, SignedHeaders=host;x-amz-date, "
		  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	free(canonical);
	free(sts);
	free(auth);
}

static void test_query_sorted(void **state)
{
	(void)state;
	const struct sigv4_header headers[] = {
	    {"host", "example.amazonaws.com"},
	    {"x-amz-date", "20150830T123600Z"},
	};
	struct sigv4_request req = {"GET",   "/", "Param2=value2&Param1=value1",
				    headers, 2,	  SIGV4_EMPTY_SHA256};
	char *auth = sigv4_authorization(&req, &suite_key, "20150830T123600Z");
	assert_non_null(strstr(
	    auth, "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
	free(auth);
}

static void test_s3_get_object(void **state)
{
	(void)state;
	const struct sigv4_header headers[] = {
	    {"Host", "examplebucket.s3.amazonaws.com"},
	    {"Range", "bytes=0-9"},
	    {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
	    {"x-amz-date", "20130524T000000Z"},
	};
	struct sigv4_request req = {"GET", "/test.txt", "", headers, 4, SIGV4_EMPTY_SHA256};
	char *sts = sigv4_string_to_sign(&req, &s3_key, "20130524T000000Z");
	assert_string_equal(
	    sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
		 "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
	char *auth = sigv4_authorization(&req, &s3_key, "20130524T000000Z");
	assert_string_equal(
	    auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
		  "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
		  "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	free(sts);
	free(auth);
}

static void test_s3_put_object(void **state)
{
	(void)state;
	const char *payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
	/* Unsorted and with untrimmed spaces: the signer must canonicalise. */
	const struct sigv4_header headers[] = {
	    {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
	    {"Host", "examplebucket.s3.amazonaws.com"},
	    {"Date", "  Fri, 24 May 2013   00:00:00 GMT "},
	    {"x-amz-date", "20130524T000000Z"},
	    {"x-amz-content-sha256", payload},
	};
	struct sigv4_request req = {"PUT", "/test%24file.text", "", headers, 5, payload};
	char *auth = sigv4_authorization(&req, &s3_key, "20130524T000000Z");
	assert_non_null(strstr(auth, "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
				     "x-amz-storage-class, "));
	assert_non_null(strstr(
	    auth, "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
	free(auth);
}

static void test_s3_list_query(void **state)
{
	(void)state;
	const struct sigv4_header headers[] = {
	    {"Host", "examplebucket.s3.amazonaws.com"},
	    {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
	    {"x-amz-date", "20130524T000000Z"},
	};
	struct sigv4_request req = {"GET",   "/", "prefix=J&max-keys=2",
				    headers, 3,	  SIGV4_EMPTY_SHA256};
	char *auth = sigv4_authorization(&req, &s3_key, "20130524T000000Z");
	assert_non_null(strstr(
	    auth, "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
	free(auth);
	/* A parameter without a value is signed as "lifecycle=". */
	struct sigv4_request lifecycle = {"GET", "/", "lifecycle", headers, 3, SIGV4_EMPTY_SHA256};
	auth = sigv4_authorization(&lifecycle, &s3_key, "20130524T000000Z");
	assert_non_null(strstr(
	    auth, "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
	free(auth);
}

static void test_bad_date_refused(void **state)
{
	(void)state;
	const struct sigv4_header headers[] = {{"host", "h"}};
	struct sigv4_request req = {"GET", "/", "", headers, 1, SIGV4_EMPTY_SHA256};
	assert_null(sigv4_authorization(&req, &s3_key, "2013-05-24"));
	assert_null(sigv4_authorization(&req, &s3_key, "20130524X000000Z"));
}

static void test_amz_date(void **state)
{
	(void)state;
	char out[17];
	sigv4_amz_date(1440938160, out);
	assert_string_equal(out, "20150830T123600Z");
	sigv4_amz_date(0, out);
	assert_string_equal(out, "19700101T000000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_vanilla),	  cmocka_unit_test(test_query_sorted),
	    cmocka_unit_test(test_s3_get_object), cmocka_unit_test(test_s3_put_object),
	    cmocka_unit_test(test_s3_list_query), cmocka_unit_test(test_bad_date_refused),
	    cmocka_unit_test(test_amz_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
