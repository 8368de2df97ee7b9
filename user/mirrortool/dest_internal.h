/* The operations each kind of destination provides (private to dest*.c). */
#ifndef ARCHEIO_MIRROR_DEST_INTERNAL_H
#define ARCHEIO_MIRROR_DEST_INTERNAL_H

#include "dest.h"

struct dest_ops {
	void (*describe)(const struct dest *d, const char *digest, char *out, size_t len);
	bool (*has_blob)(struct dest *d, CURL *easy, const char *digest, bool *present, char *err,
			 size_t errlen);
	bool (*commit)(struct dest *d, CURL *easy, const char *digest, int fd,
		       const char *temp_path, int64_t size,
		       const unsigned char sha256[DIGEST_SHA256_LEN], char *err, size_t errlen);
	void (*free)(struct dest *d);
	bool (*check)(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		      enum dest_blob_state *state, char *err, size_t errlen);
};

struct dest {
	const struct dest_ops *ops;
	char *staging_dir;
};

#endif
