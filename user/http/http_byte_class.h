/* What each byte may be, for the request-head parser: one table lookup per
 * byte answers "does this byte continue the token being scanned?" for every
 * kind of token, so the scan loops have a single test (picohttpparser's
 * approach, without SSE4.2). Pure data. */
#ifndef ARCHEIO_HTTP_BYTE_CLASS_H
#define ARCHEIO_HTTP_BYTE_CLASS_H

enum {
	HTTP_BYTE_TCHAR = 1,  /* RFC 9110 tchar: method, header name (as http_is_tchar) */
	HTTP_BYTE_VALUE = 2,  /* field value: HTAB, 0x20-0x7e, obs-text 0x80-0xff */
	HTTP_BYTE_TARGET = 4, /* request target: neither a control, SP nor DEL */
	HTTP_BYTE_LINE = 8,   /* anything but CR and LF */
};

extern const unsigned char http_byte_class[256];

#endif
