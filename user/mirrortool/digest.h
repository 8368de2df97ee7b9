/* Content digests ("sha256:<64 hex>", "sha512:<128 hex>") and a streaming
 * verifier. Only sha256 and sha512 are accepted: a digest with any other
 * algorithm cannot be verified, so it is refused rather than trusted. */
#ifndef ARCHEIO_MIRROR_DIGEST_H
#define ARCHEIO_MIRROR_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_TEXT_MAX (7 + 128 + 1) /* "sha512:" + 128 hex + NUL */
#define DIGEST_SHA256_LEN 32

enum digest_algo { DIGEST_SHA256, DIGEST_SHA512 };

struct digest_ref {
	enum digest_algo algo;
	char text[DIGEST_TEXT_MAX]; /* canonical "algo:hex" */
};

/* Parses "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>" (the
 * OCI digest grammar of core/oci, limited to what can be verified here). */
bool digest_parse(const char *text, struct digest_ref *out);
/* digest_parse without keeping the result: is text a digest this tool can verify? */
bool digest_supported(const char *text);

/* "sha256:<hex>" of a buffer (manifests are addressed by this). */
void digest_sha256_text(const void *data, size_t len, char out[DIGEST_TEXT_MAX]);
/* Lowercase hex of raw bytes; out holds 2 * len + 1 (shared with SigV4). */
void digest_hex_encode(const unsigned char *raw, size_t len, char *out);

struct digest_verifier;

/* Hashes with expected's algorithm and, alongside, sha256 (S3 wants a
 * sha256 checksum whatever the blob's algorithm). NULL on allocation failure. */
struct digest_verifier *digest_verifier_new(const struct digest_ref *expected);
void digest_verifier_free(struct digest_verifier *v);
bool digest_verifier_update(struct digest_verifier *v, const void *data, size_t len);
/* Starts over, for a download that is retried from the beginning. */
bool digest_verifier_reset(struct digest_verifier *v);
/* Ends hashing: true when the content matches the expected digest. actual
 * gets "algo:hex" of what was hashed; sha256 (may be NULL) the raw sha256. */
bool digest_verifier_finish(struct digest_verifier *v, char actual[DIGEST_TEXT_MAX],
			    unsigned char sha256[DIGEST_SHA256_LEN]);

#endif
