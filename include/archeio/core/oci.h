/* OCI distribution spec grammar (spec v1.1, "Pulling" and "Content discovery"):
 *   name      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
 *   tag       [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
 *   digest    algorithm ":" encoded, algorithm [a-z0-9]+([+._-][a-z0-9]+)*,
 *             encoded [a-zA-Z0-9=_-]+; sha256 = 64 lowercase hex, sha512 = 128.
 * All functions take a span (not NUL-terminated) and are pure. */
#ifndef ARCHEIO_OCI_H
#define ARCHEIO_OCI_H

#include <stdbool.h>
#include <stddef.h>

bool oci_name_valid(const char *s, size_t len);
bool oci_tag_valid(const char *s, size_t len);
bool oci_digest_valid(const char *s, size_t len);

/* The algorithms whose encoding the spec pins (lowercase hex of a fixed
 * length); every other valid algorithm is OCI_DIGEST_OTHER. */
enum oci_digest_algorithm { OCI_DIGEST_OTHER, OCI_DIGEST_SHA256, OCI_DIGEST_SHA512 };

/* A valid digest taken apart; the spans point into the digest's text. */
struct oci_digest_parts {
	enum oci_digest_algorithm algorithm;
	const char *algorithm_name; /* before the ':' */
	size_t algorithm_len;
	const char *encoded; /* after the ':' (hex for sha256/sha512) */
	size_t encoded_len;
};

/* oci_digest_valid that also says which algorithm and where the encoded
 * part is, for callers that must hash with it. out may be NULL; it is
 * written only when the digest is valid. */
bool oci_digest_split(const char *s, size_t len, struct oci_digest_parts *out);
/* A cosign signature or attestation tag: "sha256-<64 lowercase hex>.sig|.att". */
bool oci_is_cosign_tag(const char *s, size_t len);

#endif
