/* The pure parts of S3 multipart uploads: part sizes within S3's limits,
 * CreateMultipartUpload's answer, CompleteMultipartUpload's body. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/mirrortool/cli.h"
#include "mirrortool/s3_multipart.h"

#define MIB (1ULL << 20)

static void test_part_size(void **state)
{
	(void)state;
	assert_int_equal(s3_part_size_for(-1, 64 * MIB), 64 * MIB);
	assert_int_equal(s3_part_size_for(1, 64 * MIB), 64 * MIB);
	/* 10,000 parts of 64 MiB hold 625 GiB; a 1 TiB blob needs larger parts,
	 * in whole MiB, and then at most 10,000 of them. */
	uint64_t tib = 1ULL << 40;
	uint64_t part = s3_part_size_for((int64_t)tib, 64 * MIB);
	assert_true(part > 64 * MIB);
	assert_int_equal(part % MIB, 0);
	assert_true((tib + part - 1) / part <= MIRROR_S3_MAX_PARTS);
	/* S3's 5 TiB is the cap, and only it. */
	part = s3_part_size_for((int64_t)MIRROR_S3_MAX_OBJECT_SIZE, 5 * MIB);
	assert_true(part > 0 && part <= MIRROR_S3_MAX_PART_SIZE);
	assert_true((MIRROR_S3_MAX_OBJECT_SIZE + part - 1) / part <= MIRROR_S3_MAX_PARTS);
	assert_int_equal(s3_part_size_for((int64_t)MIRROR_S3_MAX_OBJECT_SIZE + 1, 5 * MIB), 0);
	/* 6 GiB, over the old single-PUT cap of 5 GiB, is an ordinary blob. */
	assert_int_equal(s3_part_size_for((int64_t)(6ULL << 30), 64 * MIB), 64 * MIB);
}

static void test_upload_id(void **state)
{
	(void)state;
	const char *xml = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket>"
			  "<Key>k</Key><UploadId>VXBsb2FkIElE.x_y-z</UploadId>"
			  "</InitiateMultipartUploadResult>";
	char *id = s3_parse_upload_id(xml, strlen(xml));
	assert_non_null(id);
	assert_string_equal(id, "VXBsb2FkIElE.x_y-z");
	free(id);
	assert_null(s3_parse_upload_id("<UploadId></UploadId>", 21));
	assert_null(s3_parse_upload_id("<Error><Code>AccessDenied</Code></Error>", 40));
	assert_null(s3_parse_upload_id("<UploadId>a&b</UploadId>", 24));
	/* Only the bytes given count. */
	assert_null(s3_parse_upload_id("<UploadId>abc</UploadId>", 16));
}

static void test_complete_body(void **state)
{
	(void)state;
	struct s3_part parts[2] = {{.etag = "\"e1\"", .checksum = "Y2hlY2sx"},
				   {.etag = "\"e<2>\"", .checksum = "Y2hlY2sy"}};
	char *body = s3_complete_body(parts, 2);
	assert_non_null(body);
	assert_string_equal(body, "<CompleteMultipartUpload>"
				  "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag>"
				  "<ChecksumSHA256>Y2hlY2sx</ChecksumSHA256></Part>"
				  "<Part><PartNumber>2</PartNumber><ETag>\"e&lt;2&gt;\"</ETag>"
				  "<ChecksumSHA256>Y2hlY2sy</ChecksumSHA256></Part>"
				  "</CompleteMultipartUpload>");
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_part_size),
	    cmocka_unit_test(test_upload_id),
	    cmocka_unit_test(test_complete_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
