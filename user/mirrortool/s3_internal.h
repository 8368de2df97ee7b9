/* An S3 destination's state and the signed-request helpers its writers
 * share (private to dest_s3.c and s3_writer.c). */
#ifndef ARCHEIO_MIRROR_S3_INTERNAL_H
#define ARCHEIO_MIRROR_S3_INTERNAL_H

#include "dest_internal.h"
#include "sigv4.h"

struct dest_s3 {
	struct dest base;
	struct http_client *http;
	char *base_url; /* up to and including the bucket: ".../bucket" or "https://bucket.s3..." */
	char *prefix;	/* "" or "a/b/" (with trailing slash) */
	char *region;
	char *access_key;
	char *secret_key;
	char *session_token;
	uint64_t part_size;
	unsigned part_concurrency;
};

/* The object URL of digest (heap). */
char *s3_object_url(const struct dest_s3 *s, const char *digest);
/* The signed header list for method on url (its query included); extra are
 * signed too. */
struct curl_slist *s3_signed_headers(const struct dest_s3 *s, const char *method, const char *url,
				     const char *payload_hex, const struct sigv4_header *extra,
				     size_t extra_count);
/* One line naming what failed: the transport error or the status and the
 * start of the error body. */
void s3_describe_status(const struct http_response *resp, const char *what, const char *url,
			char *err, size_t errlen);
struct dest_writer *s3_open_writer(struct dest *d, const char *digest, int64_t expected_size,
				   char *err, size_t errlen);

#endif
