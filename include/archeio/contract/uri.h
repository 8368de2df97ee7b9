/* URI syntax helpers (RFC 3986) shared by the router and the configuration
 * checks. Pure functions over spans; no allocation. */
#ifndef ARCHEIO_URI_H
#define ARCHEIO_URI_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes every %XX escape of in[0..len) exactly once into out (which needs
 * room for len bytes; decoding never grows). Returns the decoded length, or
 * -1 when an escape is malformed ('%' not followed by two hex digits). The
 * result may contain any byte, including '%', '/' and NUL: callers validate
 * it against their own grammar. */
long uri_percent_decode(const char *in, size_t len, char *out);

/* A query component that is safe to copy verbatim into a Location header:
 * only RFC 3986 query characters (unreserved, sub-delims, ':', '@', '/', '?')
 * and well-formed %XX escapes. Rejects spaces, control characters, '#',
 * non-ASCII bytes and the characters RFC 3986 excludes ('"', '<', '\\' ...). */
bool uri_query_valid(const char *s, size_t len);

#endif
