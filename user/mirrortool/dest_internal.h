/* The operations each kind of destination and its writers provide (private
 * to dest*.c and s3_*.c). */
#ifndef ARCHEIO_MIRROR_DEST_INTERNAL_H
#define ARCHEIO_MIRROR_DEST_INTERNAL_H

#include "dest.h"

struct dest_ops {
	void (*describe)(const struct dest *d, const char *digest, char *out, size_t len);
	bool (*has_blob)(struct dest *d, CURL *easy, const char *digest, bool *present, char *err,
			 size_t errlen);
	struct dest_writer *(*open_writer)(struct dest *d, const char *digest,
					   int64_t expected_size, char *err, size_t errlen);
	void (*free)(struct dest *d);
	bool (*check)(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		      enum dest_blob_state *state, char *err, size_t errlen);
};

struct dest_writer_ops {
	bool (*write)(struct dest_writer *w, const char *data, size_t len, char *err,
		      size_t errlen);
	bool (*reset)(struct dest_writer *w, char *err, size_t errlen);
	bool (*commit)(struct dest_writer *w, int64_t size,
		       const unsigned char sha256[DIGEST_SHA256_LEN], char *err, size_t errlen);
	void (*abort)(struct dest_writer *w);
};

struct dest {
	const struct dest_ops *ops;
};

struct dest_writer {
	const struct dest_writer_ops *ops;
};

#endif
