#include "auth_file.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The three names of Docker Hub are one registry. */
static const char *canonical_registry(const char *host)
{
	if (strcmp(host, "docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0)
		return "index.docker.io";
	return host;
}

char *auth_file_key_registry(const char *key)
{
	const char *stripped = key;
	if (strncmp(key, "https://", 8) == 0)
		stripped = key + 8;
	else if (strncmp(key, "http://", 7) == 0)
		stripped = key + 7;
	size_t len = strcspn(stripped, "/");
	/* Without a scheme a path makes the key a namespace: not matched. */
	if (stripped == key && stripped[len] == '/')
		return NULL;
	char *host = strndup(stripped, len);
	if (!host)
		return NULL;
	char *canonical = strdup(canonical_registry(host));
	free(host);
	return canonical;
}

/* Decodes standard base64 into a NUL-terminated heap string. */
static char *base64_decode(const char *text)
{
	size_t len = strlen(text);
	if (len == 0 || len % 4 != 0)
		return NULL;
	unsigned char *out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	int n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	for (size_t i = len; i > 0 && text[i - 1] == '='; i--)
		n--;
	out[n] = '\0';
	if (memchr(out, '\0', (size_t)n)) {
		free(out);
		return NULL;
	}
	return (char *)out;
}

/* Fills out from one auths entry; false with err when unusable. */
static bool parse_entry(json_t *entry, const char *key, struct registry_credentials *out, char *err,
			size_t errlen)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	const char *user = json_string_value(json_object_get(entry, "username"));
	const char *pass = json_string_value(json_object_get(entry, "password"));
	const char *identity = json_string_value(json_object_get(entry, "identitytoken"));
	if (identity && *identity) {
		out->identity_token = strdup(identity);
		if (!out->identity_token)
			snprintf(err, errlen, "out of memory");
		return out->identity_token != NULL;
	}
	if (auth && *auth) {
		char *decoded = base64_decode(auth);
		char *colon = decoded ? strchr(decoded, ':') : NULL;
		if (!colon) {
			free(decoded);
			snprintf(err, errlen,
				 "\"auths\" entry %.200s: \"auth\" is not base64 of "
				 "user:password",
				 key);
			return false;
		}
		*colon = '\0';
		out->username = strdup(decoded);
		out->password = strdup(colon + 1);
		/* The decoded secret is wiped before the memory is returned. */
		memset(decoded, 0, strlen(decoded) + strlen(colon + 1) + 1);
		free(decoded);
	} else if (user && pass) {
		out->username = strdup(user);
		out->password = strdup(pass);
	} else {
		snprintf(err, errlen,
			 "\"auths\" entry %.200s has no auth, username/password or "
			 "identitytoken",
			 key);
		return false;
	}
	if (!out->username || !out->password) {
		registry_credentials_free(out);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

bool auth_file_lookup(const char *text, size_t len, const char *registry,
		      struct registry_credentials *out, bool *found, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	*found = false;
	json_t *root = json_loadb(text, len, 0, NULL);
	json_t *auths = json_object_get(root, "auths");
	bool ok = json_is_object(root) && (!auths || json_is_object(auths));
	if (!ok)
		snprintf(err, errlen, "not an auth file: expected {\"auths\": {...}}");
	const char *want = canonical_registry(registry);
	const char *key;
	json_t *entry;
	/* The key spelled as the registry wins over others that mean it. */
	bool exact = ok && json_object_get(auths, registry);
	json_object_foreach(ok ? auths : NULL, key, entry)
	{
		char *host = auth_file_key_registry(key);
		bool match = exact ? strcmp(key, registry) == 0 : host && strcmp(host, want) == 0;
		free(host);
		if (!match)
			continue;
		ok = json_is_object(entry) && parse_entry(entry, key, out, err, errlen);
		if (!json_is_object(entry))
			snprintf(err, errlen, "\"auths\" entry %.200s is not an object", key);
		*found = ok;
		break;
	}
	json_decref(root);
	return ok;
}

void registry_credentials_free(struct registry_credentials *c)
{
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	if (c->identity_token)
		memset(c->identity_token, 0, strlen(c->identity_token));
	free(c->username);
	free(c->password);
	free(c->identity_token);
	memset(c, 0, sizeof(*c));
}
