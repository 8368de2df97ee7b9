/* The mirroring tool's manifest and index parser (registry answers).
 * Properties: a manifest that parses names only digests the OCI grammar
 * accepts (they become file and object names) and no negative sizes; an
 * image has blobs and no children, an index the reverse. First byte: which
 * Content-Type the registry claimed. */
#include <stdint.h>

#include "archeio/core/oci.h"
#include "fuzz_check.h"
#include "mirrortool/manifest.h"

static void check_desc(const struct manifest_desc *d)
{
	FUZZ_CHECK(d->digest && oci_digest_valid(d->digest, strlen(d->digest)));
	FUZZ_CHECK(!strchr(d->digest, '/'));
	FUZZ_CHECK(d->size >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	static const char *const types[] = {NULL,
					    MEDIA_OCI_INDEX,
					    MEDIA_OCI_MANIFEST,
					    MEDIA_DOCKER_LIST,
					    MEDIA_DOCKER_MANIFEST,
					    "application/json"};
	struct manifest m;
	char err[512];
	if (!manifest_parse((const char *)data + 1, size - 1, types[data[0] % 6], &m, err,
			    sizeof(err))) {
		FUZZ_CHECK(strlen(err) > 0);
		return 0;
	}
	if (m.kind == MANIFEST_IMAGE)
		FUZZ_CHECK(m.child_count == 0);
	else
		FUZZ_CHECK(m.blob_count == 0);
	for (size_t i = 0; i < m.child_count; i++)
		check_desc(&m.children[i]);
	for (size_t i = 0; i < m.blob_count; i++)
		check_desc(&m.blobs[i]);
	manifest_free(&m);
	return 0;
}
