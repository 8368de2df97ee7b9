/* AWS Signature Version 4 for header-based auth (S3 PUT/HEAD). Pure: the
 * time is passed in as the x-amz-date text, nothing is read from the clock
 * or the environment. */
#ifndef ARCHEIO_MIRROR_SIGV4_H
#define ARCHEIO_MIRROR_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_header {
	const char *name; /* any case; canonicalised to lower case */
	const char *value;
};

struct sigv4_request {
	const char *method;
	const char *path;  /* already URI-encoded, e.g. "/bucket/key" */
	const char *query; /* already encoded "a=b&c=d", or "" */
	/* Every header to sign; must include host and x-amz-date. */
	const struct sigv4_header *headers;
	size_t header_count;
	const char *payload_sha256_hex; /* hex sha256 of the body, or UNSIGNED-PAYLOAD */
};

struct sigv4_key {
	const char *access_key;
	const char *secret_key;
	const char *region;
	const char *service; /* "s3" */
};

/* The canonical request text (heap, caller frees); NULL on allocation failure. */
char *sigv4_canonical_request(const struct sigv4_request *req);
/* The string to sign for amz_date ("YYYYMMDDTHHMMSSZ"); heap. */
char *sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_key *key,
			   const char *amz_date);
/* The Authorization header value; heap. NULL when amz_date is malformed or
 * allocation fails. */
char *sigv4_authorization(const struct sigv4_request *req, const struct sigv4_key *key,
			  const char *amz_date);
/* Formats t as x-amz-date ("20150830T123600Z"). */
void sigv4_amz_date(time_t t, char out[17]);

#endif
