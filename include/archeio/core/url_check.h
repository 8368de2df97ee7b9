/* Checks of the absolute http(s) URLs an operator configures. */
#ifndef ARCHEIO_CORE_URL_CHECK_H
#define ARCHEIO_CORE_URL_CHECK_H

#include <stdbool.h>

/* What a configured URL is for. */
enum url_use {
	URL_PAGE, /* answered as it is (info, privacy): a query is allowed */
	URL_BASE, /* paths are appended (upstreams, mirrors): no query */
};

/* The reason given when url is no http(s) URL at all (another scheme, none). */
#define URL_CHECK_NOT_HTTP "not an absolute http(s) URL"

/* Why url is not an absolute http(s) URL fit for that use, as a short phrase
 * for a message ("user info (user:password@) is not allowed"), or NULL when
 * it is fit. The rules are url_is_absolute_http()'s. */
const char *url_check_reason(const char *url, enum url_use use);

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
