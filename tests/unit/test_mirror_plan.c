/* The copy plan (blob dedupe, image completeness) and the progress line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mirrortool/plan.h"
#include "mirrortool/progress.h"

static void digest_of(int n, char out[72])
{
	snprintf(out, 72, "sha256:%064d", n);
}

static void test_dedupe_across_images(void **state)
{
	(void)state;
	struct plan p;
	plan_init(&p);
	char d[72];
	struct plan_image *a = plan_add_image(&p, "repo/a", "v1");
	assert_non_null(a);
	for (int i = 0; i < 3; i++) {
		digest_of(i, d);
		assert_true(plan_image_add_blob(&p, a, d, 100 + i, "repo/a"));
	}
	/* The same blob twice in one image counts once. */
	digest_of(1, d);
	assert_true(plan_image_add_blob(&p, a, d, 101, "repo/a"));
	assert_int_equal(a->blob_count, 3);
	struct plan_image *b = plan_add_image(&p, "repo/b", "v2");
	a = &p.images[0]; /* images may move when the array grows */
	digest_of(2, d);
	assert_true(plan_image_add_blob(&p, b, d, 102, "repo/b"));
	digest_of(3, d);
	assert_true(plan_image_add_blob(&p, b, d, 103, "repo/b"));
	assert_int_equal(p.blob_count, 4);
	assert_int_equal(b->blob_count, 2);
	assert_int_equal(b->blobs[0], 2);
	/* Fetched from the first repository that referenced it. */
	assert_string_equal(p.blobs[2].repo, "repo/a");
	assert_int_equal(plan_total_bytes(&p), 100 + 101 + 102 + 103);
	plan_free(&p);
}

static void test_many_blobs_grow_index(void **state)
{
	(void)state;
	struct plan p;
	plan_init(&p);
	struct plan_image *img = plan_add_image(&p, "r", "t");
	char d[72];
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 500; i++) {
			digest_of(i, d);
			assert_true(plan_image_add_blob(&p, img, d, 1, "r"));
		}
	assert_int_equal(p.blob_count, 500);
	assert_true(p.slot_count >= 1000);
	plan_free(&p);
}

static void test_image_complete(void **state)
{
	(void)state;
	struct plan p;
	plan_init(&p);
	char d[72];
	struct plan_image *img = plan_add_image(&p, "r", "t");
	for (int i = 0; i < 2; i++) {
		digest_of(i, d);
		assert_true(plan_image_add_blob(&p, img, d, 1, "r"));
	}
	p.blobs[0].status = BLOB_COPIED;
	p.blobs[1].status = BLOB_PRESENT;
	/* No manifest recorded yet: nothing to mark complete. */
	assert_false(plan_image_complete(&p, img));
	assert_true(plan_image_add_manifest(
	    img, "sha256:"
		 "0000000000000000000000000000000000000000000000000000000000000009"));
	assert_true(plan_image_complete(&p, img));
	p.blobs[1].status = BLOB_FAILED;
	assert_false(plan_image_complete(&p, img));
	p.blobs[1].status = BLOB_WOULD_COPY;
	assert_false(plan_image_complete(&p, img));
	plan_add_image(&p, "r", "dropped");
	assert_int_equal(p.image_count, 2);
	plan_drop_last_image(&p);
	assert_int_equal(p.image_count, 1);
	plan_free(&p);
}

static void test_progress_line(void **state)
{
	(void)state;
	struct progress_counts c = {.blobs_total = 10,
				    .blobs_copied = 3,
				    .blobs_skipped = 2,
				    .blobs_failed = 1,
				    .bytes_total = 10 * 1024 * 1024,
				    .bytes_done = 3 * 1024 * 1024,
				    .images_skipped = 4};
	char line[256];
	progress_format(&c, 2.0, line, sizeof(line));
	assert_string_equal(line, "blobs 6/10 (3 copied, 2 present, 1 failed), bytes 3.0 MiB/10.0 "
				  "MiB, 1.5 MiB/s, 4 images already recorded");
	c.blobs_would_copy = 4;
	progress_format(&c, 0, line, sizeof(line));
	assert_non_null(strstr(line, "blobs 10/10 (3 copied, 2 present, 1 failed, 4 would copy)"));
	assert_non_null(strstr(line, " 0 B/s"));
	/* Failures besides blobs are counted on the same line, only when there
	 * are any, so the line never says "0 failed" above a list of failures. */
	struct progress_counts f = {
	    .images_failed = 1, .listings_failed = 2, .records_failed = 3, .setup_failed = 1};
	progress_format(&f, 0, line, sizeof(line));
	assert_string_equal(line, "blobs 0/0 (0 copied, 0 present, 0 failed), 1 image failed, 2 "
				  "listings failed, 3 records failed, 1 setup step failed, bytes "
				  "0 B/0 B, 0 B/s, 0 images already recorded");
	f = (struct progress_counts){.listings_failed = 1};
	progress_format(&f, 0, line, sizeof(line));
	assert_string_equal(line, "blobs 0/0 (0 copied, 0 present, 0 failed), 1 listing failed, "
				  "bytes 0 B/0 B, 0 B/s, 0 images already recorded");
	progress_format_bytes(1023, line, sizeof(line));
	assert_string_equal(line, "1023 B");
	progress_format_bytes(1536, line, sizeof(line));
	assert_string_equal(line, "1.5 KiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedupe_across_images),
	    cmocka_unit_test(test_many_blobs_grow_index),
	    cmocka_unit_test(test_image_complete),
	    cmocka_unit_test(test_progress_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
