/* Image manifests and indexes (OCI image spec v1.1 and Docker v2 schema 2)
 * parsed into what the mirror copies: child manifests of an index, and the
 * config and layer blobs of an image manifest. Pure. */
#ifndef ARCHEIO_MIRROR_MANIFEST_H
#define ARCHEIO_MIRROR_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* The Accept header value for manifest requests. */
#define MANIFEST_ACCEPT                                                                            \
	MEDIA_OCI_INDEX ", " MEDIA_OCI_MANIFEST ", " MEDIA_DOCKER_LIST ", " MEDIA_DOCKER_MANIFEST

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

struct manifest_desc {
	char *digest;	  /* validated with digest_parse */
	char *media_type; /* may be NULL */
	int64_t size;
};

struct manifest {
	enum manifest_kind kind;
	struct manifest_desc *children; /* index: child manifests */
	size_t child_count;
	struct manifest_desc *blobs; /* image: config first, then layers */
	size_t blob_count;
	size_t skipped_foreign; /* layers with external "urls" (not in the registry) */
};

/* Parses body; content_type (the response's, may be NULL) decides the kind
 * when the document has no mediaType. Returns false with a message in err on
 * anything unusable (bad JSON, schema 1, a digest that is not sha256/sha512,
 * a negative size); out is then empty. */
bool manifest_parse(const char *body, size_t len, const char *content_type, struct manifest *out,
		    char *err, size_t errlen);
void manifest_free(struct manifest *m);

#endif
