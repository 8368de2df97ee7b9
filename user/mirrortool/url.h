/* URL helpers for the mirror tool. Pure: strings in, heap strings out
 * (NULL on allocation failure or bad input; the caller frees). */
#ifndef ARCHEIO_MIRROR_URL_H
#define ARCHEIO_MIRROR_URL_H

#include <stdbool.h>

/* RFC 3986 percent-encoding of everything but unreserved characters
 * (A-Z a-z 0-9 - _ . ~); '/' is kept when keep_slash (S3 object keys). */
char *url_encode(const char *s, bool keep_slash);

/* Resolves ref against base as RFC 3986 section 5 says (libcurl's URL API
 * does the work): an absolute ref replaces base (its scheme lower-cased),
 * "//host/p" keeps only base's scheme, "/path" base's scheme://authority,
 * "?query" base's path, and "x" or "../x" is merged with base's directory.
 * NULL unless the result is an http(s) URL. */
char *url_resolve(const char *base, const char *ref);

/* Splits an absolute http(s) URL into host[:port] and path (path "/" when
 * absent, query included). Returns false on anything that is not http(s). */
bool url_split(const char *url, char **authority, char **path_and_query);

#endif
