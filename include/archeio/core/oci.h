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
/* A cosign signature or attestation tag: "sha256-<64 lowercase hex>.sig|.att". */
bool oci_is_cosign_tag(const char *s, size_t len);

#endif
