/* Checks of the absolute http(s) URLs an operator configures. */
#ifndef ARCHEIO_CORE_URL_CHECK_H
#define ARCHEIO_CORE_URL_CHECK_H

#include <stdbool.h>

/* An absolute http:// or https:// URL (scheme case-insensitive) with a
 * non-empty host, an optional numeric port, no userinfo ('@'), no fragment
 * ('#'), and no spaces, control characters or non-ASCII bytes. A query is
 * allowed (an info page may carry one). */
bool url_is_absolute_http(const char *url);

/* url_is_absolute_http() without a query: a base that paths are appended to
 * (upstream, signature upstream, mirrors). */
bool url_is_base_http(const char *url);

/* RFC 3986 character classes, shared with the request-target checks. */
int url_hex_value(char c); /* 0..15, or -1 for a non-hex character */
bool url_is_unreserved(char c);
bool url_is_sub_delim(char c);

#endif
