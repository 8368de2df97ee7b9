/* Registry credentials from an auth file in the containers auth.json /
 * docker config.json format, looked up as skopeo (containers/image) does:
 *   {"auths": {"KEY": {"auth": base64("user:password")}
 *                   or {"username": ..., "password": ...}
 *                   or {"identitytoken": ...}}}
 * KEY is host[:port], with or without an http(s):// scheme; behind a scheme
 * any path is ignored ("https://index.docker.io/v1/"), and docker.io,
 * registry-1.docker.io and index.docker.io are one registry. Keys naming a
 * repository namespace ("host/team") are not matched: credentials here
 * are per registry. Pure: the caller reads the file. */
#ifndef ARCHEIO_MIRROR_AUTH_FILE_H
#define ARCHEIO_MIRROR_AUTH_FILE_H

#include <stdbool.h>
#include <stddef.h>

struct registry_credentials {
	char *username; /* with password: Basic auth, and for token requests */
	char *password;
	char *identity_token; /* OAuth2 refresh token for the registry's token endpoint */
};

/* The host[:port] an auth-file key stands for (heap; NULL on allocation
 * failure or when the key names a namespace, which is not matched). */
char *auth_file_key_registry(const char *key);

/* Looks up registry (host[:port]) in the file's text. *found is false when
 * no key matches (anonymous then). False with err naming the problem (never
 * a secret) when the text is malformed. */
bool auth_file_lookup(const char *text, size_t len, const char *registry,
		      struct registry_credentials *out, bool *found, char *err, size_t errlen);
void registry_credentials_free(struct registry_credentials *c);

#endif
