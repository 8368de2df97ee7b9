#include "url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

char *url_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(s);
	char *out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c) || (keep_slash && c == '/')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* Length of "scheme://authority" in an absolute http(s) URL, 0 if not one. */
static size_t origin_length(const char *url)
{
	const char *rest;
	if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	else
		return 0;
	size_t authority = strcspn(rest, "/?#");
	if (authority == 0)
		return 0;
	return (size_t)(rest - url) + authority;
}

static char *concat(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	char *out = malloc(alen + blen + 1);
	if (!out)
		return NULL;
	memcpy(out, a, alen);
	memcpy(out + alen, b, blen + 1);
	return out;
}

static bool scheme_is_http(CURLU *url)
{
	char *scheme = NULL;
	bool http = curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
	curl_free(scheme);
	return http;
}

char *url_resolve(const char *base, const char *ref)
{
	/* libcurl applies RFC 3986 section 5 when a URL is set on a handle that
	 * already holds one: "//host", "../", dot segments, any-case schemes. */
	CURLU *url = curl_url();
	char *resolved = NULL;
	if (url && curl_url_set(url, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(url, CURLUPART_URL, ref, 0) == CURLUE_OK && scheme_is_http(url))
		curl_url_get(url, CURLUPART_URL, &resolved, 0); /* leaves NULL on failure */
	curl_url_cleanup(url);
	/* Callers free() what they get; curl's strings want curl_free(). */
	char *out = resolved ? strdup(resolved) : NULL;
	curl_free(resolved);
	return out;
}

bool url_split(const char *url, char **authority, char **path_and_query)
{
	size_t origin = origin_length(url);
	if (origin == 0)
		return false;
	const char *host = strstr(url, "://") + 3;
	size_t host_len = (size_t)(url + origin - host);
	const char *path = url + origin;
	*authority = strndup(host, host_len);
	*path_and_query = path[0] == '/' ? strdup(path) : concat("/", 1, path);
	if (!*authority || !*path_and_query) {
		free(*authority);
		free(*path_and_query);
		*authority = *path_and_query = NULL;
		return false;
	}
	char *fragment = strchr(*path_and_query, '#');
	if (fragment)
		*fragment = '\0';
	return true;
}
