/* Pull-side client of an OCI distribution registry: ping, tags/list and
 * _catalog with Link pagination, manifests by tag or digest (digest
 * checked), blobs streamed into a sink. Anonymous, Basic or bearer-token
 * auth as the registry announces it, with credentials from an auth file
 * (auth_file.h); Authorization values are cached per repository and shared
 * by every thread (guarded by the registry's lock). Secrets never enter an
 * error message. */
#ifndef ARCHEIO_MIRROR_REGISTRY_H
#define ARCHEIO_MIRROR_REGISTRY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "digest.h"
#include "http.h"

#define REGISTRY_MAX_MANIFEST (4 * 1024 * 1024)
#define REGISTRY_MAX_PAGES 10000

struct registry;

struct fetched_manifest {
	char *body;
	size_t len;
	char *content_type;
	char digest[DIGEST_TEXT_MAX]; /* computed from the bytes */
};

struct registry *registry_new(const char *base_url, struct http_client *http);
void registry_free(struct registry *r);
/* host[:port] of the registry, as messages name it. */
const char *registry_host(const struct registry *r);
struct registry_credentials;
/* Credentials to answer challenges with (copied): Basic auth, or for token
 * requests (Basic, or the identity token as an OAuth2 refresh token). */
bool registry_set_credentials(struct registry *r, const struct registry_credentials *c);

bool registry_ping(struct registry *r, CURL *easy, char *err, size_t errlen);
/* Every tag of repo (all pages). */
bool registry_tags(struct registry *r, CURL *easy, const char *repo, char ***tags, size_t *count,
		   char *err, size_t errlen);
/* Every repository in /v2/_catalog (all pages). */
bool registry_catalog(struct registry *r, CURL *easy, char ***repos, size_t *count, char *err,
		      size_t errlen);
/* The manifest at ref (tag or digest); a digest ref must match the bytes. */
bool registry_manifest(struct registry *r, CURL *easy, const char *repo, const char *ref,
		       struct fetched_manifest *out, char *err, size_t errlen);
void fetched_manifest_free(struct fetched_manifest *m);
/* Streams the blob into sink (redirects to storage are followed). */
bool registry_blob(struct registry *r, CURL *easy, const char *repo, const char *digest,
		   const struct http_sink *sink, char *err, size_t errlen);

void registry_free_list(char **list, size_t count);

#endif
