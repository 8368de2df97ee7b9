#include "auth.h"
#include "archeio/core/http_token.h"
#include "url.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a token or quoted-string at *p into a heap string. */
static char *read_value(const char **p)
{
	const char *s = *p;
	if (*s != '"') {
		const char *start = s;
		while (http_is_tchar((unsigned char)*s) || *s == '/' || *s == ':' || *s == '=')
			s++;
		*p = s;
		return strndup(start, (size_t)(s - start));
	}
	s++;
	char *out = malloc(strlen(s) + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	while (*s && *s != '"') {
		if (*s == '\\' && s[1])
			s++;
		out[o++] = *s++;
	}
	if (*s != '"') {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*p = s + 1;
	return out;
}

static char **param_slot(struct auth_challenge *c, const char *key, size_t key_len)
{
	static const char *const names[] = {"realm", "service", "scope", "error"};
	char **slots[] = {&c->realm, &c->service, &c->scope, &c->error};
	for (size_t i = 0; i < 4; i++)
		if (strlen(names[i]) == key_len && strncasecmp(key, names[i], key_len) == 0)
			return slots[i];
	return NULL;
}

/* Parses one challenge starting at *p; stops before the next scheme. */
static bool parse_one(const char **p, struct auth_challenge *c, char *err, size_t errlen)
{
	const char *s = *p;
	while (*s == ',' || *s == ' ' || *s == '\t')
		s++;
	const char *scheme = s;
	while (http_is_tchar((unsigned char)*s))
		s++;
	if (s == scheme) {
		snprintf(err, errlen, "WWW-Authenticate: expected an auth scheme at \"%.40s\"", s);
		return false;
	}
	c->scheme = strndup(scheme, (size_t)(s - scheme));
	if (!c->scheme) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	s = skip_space(s);
	while (*s) {
		const char *key = skip_space(s);
		const char *k = key;
		while (http_is_tchar((unsigned char)*k))
			k++;
		const char *eq = skip_space(k);
		if (*eq != '=') {
			/* A bare token here starts the next challenge. */
			break;
		}
		const char *v = skip_space(eq + 1);
		char *value = read_value(&v);
		if (!value) {
			snprintf(err, errlen, "WWW-Authenticate: bad value for \"%.*s\"",
				 (int)(k - key), key);
			return false;
		}
		char **slot = param_slot(c, key, (size_t)(k - key));
		if (slot) {
			free(*slot);
			*slot = value;
		} else {
			free(value);
		}
		s = skip_space(v);
		if (*s == ',')
			s = skip_space(s + 1);
		else if (*s != '\0') {
			snprintf(err, errlen, "WWW-Authenticate: unexpected \"%.40s\"", s);
			return false;
		}
	}
	*p = s;
	return true;
}

bool auth_challenge_parse(const char *value, struct auth_challenge *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *p = value;
	bool have_first = false;
	/* Bounded: every round consumes at least the scheme token. */
	while (*skip_space(p)) {
		struct auth_challenge c = {0};
		if (!parse_one(&p, &c, err, errlen)) {
			auth_challenge_free(&c);
			auth_challenge_free(out);
			return false;
		}
		if (!have_first ||
		    (!auth_challenge_is_bearer(out) && auth_challenge_is_bearer(&c))) {
			auth_challenge_free(out);
			*out = c;
			have_first = true;
		} else {
			auth_challenge_free(&c);
		}
	}
	if (!have_first) {
		snprintf(err, errlen, "WWW-Authenticate: empty");
		return false;
	}
	return true;
}

void auth_challenge_free(struct auth_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

bool auth_challenge_is_bearer(const struct auth_challenge *c)
{
	return c->scheme && strcasecmp(c->scheme, "Bearer") == 0;
}

bool auth_challenge_resolve_realm(struct auth_challenge *c, const char *challenged_url)
{
	char *absolute = c->realm && *c->realm ? url_resolve(challenged_url, c->realm) : NULL;
	if (!absolute)
		return false;
	free(c->realm);
	c->realm = absolute;
	return true;
}

static bool append_param(char **url, size_t *cap, const char *key, const char *value)
{
	if (!value)
		return true;
	char *encoded = url_encode(value, false);
	if (!encoded)
		return false;
	size_t need = strlen(*url) + strlen(key) + strlen(encoded) + 3;
	if (need > *cap) {
		char *grown = realloc(*url, need);
		if (!grown) {
			free(encoded);
			return false;
		}
		*url = grown;
		*cap = need;
	}
	strcat(*url, strchr(*url, '?') ? "&" : "?");
	strcat(*url, key);
	strcat(*url, "=");
	strcat(*url, encoded);
	free(encoded);
	return true;
}

char *auth_token_url(const struct auth_challenge *c, const char *default_scope)
{
	if (!c->realm || !*c->realm)
		return NULL;
	size_t cap = strlen(c->realm) + 1;
	char *url = strdup(c->realm);
	if (!url)
		return NULL;
	if (!append_param(&url, &cap, "service", c->service) ||
	    !append_param(&url, &cap, "scope", c->scope ? c->scope : default_scope)) {
		free(url);
		return NULL;
	}
	return url;
}

/* A bearer token goes into an Authorization header: visible ASCII only
 * (RFC 6750's b64token is narrower still), so a token endpoint cannot make
 * the tool send a header of its choosing (JSON can carry "\r\n"). */
static bool token_usable(const char *v)
{
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return false;
	return true;
}

char *auth_token_from_json(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	if (!root)
		return NULL;
	char *token = NULL;
	const char *keys[] = {"token", "access_token"};
	for (size_t i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(root, keys[i]));
		if (v && *v && token_usable(v)) {
			/* The first usable one, or nothing when it cannot be copied
			 * (not the other field in its place). */
			token = strdup(v);
			break;
		}
	}
	json_decref(root);
	return token;
}
