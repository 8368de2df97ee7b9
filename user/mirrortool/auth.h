/* Registry pull authentication as registries announce it: a 401 with
 * `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` names a
 * token endpoint; an anonymous GET there returns {"token": ...} (or
 * "access_token"), sent back as `Authorization: Bearer <token>`.
 * Pure: parsing and URL building only. */
#ifndef ARCHEIO_MIRROR_AUTH_H
#define ARCHEIO_MIRROR_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct auth_challenge {
	char *scheme; /* as sent, e.g. "Bearer" or "Basic" */
	char *realm;  /* NULL when absent */
	char *service;
	char *scope;
	char *error;
};

/* Parses a WWW-Authenticate value. When it holds several challenges the
 * Bearer one is chosen, else the first. Returns false (and fills err) on
 * malformed input or allocation failure; out is then zeroed. */
bool auth_challenge_parse(const char *value, struct auth_challenge *out, char *err, size_t errlen);
void auth_challenge_free(struct auth_challenge *c);
bool auth_challenge_is_bearer(const struct auth_challenge *c);

/* Makes the realm absolute, resolved against the URL that was answered with
 * the challenge (a registry may name its token endpoint relative to itself).
 * False, realm untouched, when there is none or it is no http(s) URL then. */
bool auth_challenge_resolve_realm(struct auth_challenge *c, const char *challenged_url);

/* realm?service=...&scope=... with the values percent-encoded; the
 * challenge's scope, or default_scope when it has none (may be NULL). */
char *auth_token_url(const struct auth_challenge *c, const char *default_scope);

/* The token from a token endpoint's JSON answer ("token", else
 * "access_token"); NULL when neither is a non-empty string. */
char *auth_token_from_json(const char *body, size_t len);

#endif
