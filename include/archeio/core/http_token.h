/* RFC 9110 5.6.2 token characters (tchar): what may make up a method, a
 * header name or an auth scheme. The redirector's request parser and the
 * mirror tool's WWW-Authenticate parser both read tokens; one definition
 * keeps them agreeing on what a token is. */
#ifndef ARCHEIO_CORE_HTTP_TOKEN_H
#define ARCHEIO_CORE_HTTP_TOKEN_H

#include <stdbool.h>

extern const unsigned char http_tchar_table[256];

/* True for ALPHA, DIGIT and "!#$%&'*+-.^_`|~"; false for NUL, controls,
 * separators and every byte >= 0x80. Inline over a table: the request parser
 * calls it for every byte of a method and of each header name. */
static inline bool http_is_tchar(unsigned char c)
{
	return http_tchar_table[c] != 0;
}

#endif
