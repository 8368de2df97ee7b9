/* Manifest and index parsing into the blobs the mirror copies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mirrortool/manifest.h"

#define D(c)                                                                                       \
	"sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
	    c c c c c c c c c c c c c c c c c c c c c c c c
#define DA D("a")
#define DB D("b")
#define DC D("c")

static const char image[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_OCI_MANIFEST "\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA
    "\",\"size\":10},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" DB
    "\",\"size\":20},{\"digest\":\"" DC "\",\"size\":0}]}";

static void test_oci_image(void **state)
{
	(void)state;
	struct manifest m;
	char err[200];
	assert_true(manifest_parse(image, strlen(image), NULL, &m, err, sizeof(err)));
	assert_int_equal(m.kind, MANIFEST_IMAGE);
	assert_int_equal(m.blob_count, 3);
	assert_string_equal(m.blobs[0].digest, DA);
	assert_int_equal(m.blobs[0].size, 10);
	assert_string_equal(m.blobs[1].digest, DB);
	assert_string_equal(m.blobs[2].digest, DC);
	assert_null(m.blobs[2].media_type);
	assert_int_equal(m.child_count, 0);
	manifest_free(&m);
}

static void test_index_by_content_type(void **state)
{
	(void)state;
	/* No mediaType in the document: the Content-Type decides. */
	const char index[] =
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MEDIA_DOCKER_MANIFEST
	    "\",\"digest\":\"" DA "\",\"size\":500,\"platform\":{\"os\":\"linux\"}},"
	    "{\"digest\":\"" DB "\",\"size\":501}]}";
	struct manifest m;
	char err[200];
	assert_true(manifest_parse(index, strlen(index), MEDIA_DOCKER_LIST "; charset=utf-8", &m,
				   err, sizeof(err)));
	assert_int_equal(m.kind, MANIFEST_INDEX);
	assert_int_equal(m.child_count, 2);
	assert_string_equal(m.children[0].digest, DA);
	assert_string_equal(m.children[0].media_type, MEDIA_DOCKER_MANIFEST);
	assert_int_equal(m.children[1].size, 501);
	assert_int_equal(m.blob_count, 0);
	manifest_free(&m);
}

static void test_foreign_layers_skipped(void **state)
{
	(void)state;
	const char doc[] = "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_DOCKER_MANIFEST "\","
			   "\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":["
			   "{\"digest\":\"" DB "\",\"size\":2,\"urls\":[\"https://x/y\"]},"
			   "{\"digest\":\"" DC "\",\"size\":3}]}";
	struct manifest m;
	char err[200];
	assert_true(manifest_parse(doc, strlen(doc), NULL, &m, err, sizeof(err)));
	assert_int_equal(m.blob_count, 2);
	assert_string_equal(m.blobs[1].digest, DC);
	assert_int_equal(m.skipped_foreign, 1);
	manifest_free(&m);
}

static void expect_error(const char *doc, const char *content_type, const char *needle)
{
	struct manifest m;
	char err[200] = "";
	assert_false(manifest_parse(doc, strlen(doc), content_type, &m, err, sizeof(err)));
	assert_non_null(strstr(err, needle));
	assert_null(m.blobs);
	assert_null(m.children);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("{", NULL, "invalid JSON");
	expect_error("[]", NULL, "not a JSON object");
	expect_error("{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, "schema 1");
	expect_error("{\"mediaType\":\"text/plain\"}", NULL, "unsupported media type");
	expect_error("{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"layers\":[]}", NULL,
		     "needs \"config\"");
	expect_error("{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"config\":{\"digest\":\"md5:ab\","
		     "\"size\":1},\"layers\":[]}",
		     NULL, "not sha256/sha512");
	expect_error("{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"config\":{\"digest\":\"" DA
		     "\",\"size\":-1},\"layers\":[]}",
		     NULL, "no valid size");
	expect_error("{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"config\":{\"digest\":\"" DA
		     "\",\"size\":1},\"layers\":[{\"size\":1}]}",
		     NULL, "layers[0] has no digest");
	expect_error("{\"mediaType\":\"" MEDIA_OCI_INDEX "\",\"manifests\":{}}", NULL,
		     "no \"manifests\" array");
	expect_error("{\"mediaType\":\"" MEDIA_OCI_INDEX "\",\"manifests\":[{\"digest\":\"" DA
		     "\",\"size\":1},{\"digest\":\"sha256:AB\",\"size\":1}]}",
		     NULL, "manifests[1]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oci_image),
	    cmocka_unit_test(test_index_by_content_type),
	    cmocka_unit_test(test_foreign_layers_skipped),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
