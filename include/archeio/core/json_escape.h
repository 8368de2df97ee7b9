/* Escaping text for the inside of a JSON string (RFC 8259 section 7): '"' and
 * '\' get a backslash, control characters (< 0x20) become \u00XX, every other
 * byte (UTF-8 included) stands for itself. The logger's JSON records and the
 * redirector's OCI error bodies both write JSON strings this way. */
#ifndef ARCHEIO_CORE_JSON_ESCAPE_H
#define ARCHEIO_CORE_JSON_ESCAPE_H

#include <stddef.h>

/* Room for the longest escape of one byte ("\u001f") and a NUL. */
#define JSON_ESCAPE_MAX 7

/* Length of the leading run of s that needs no escaping (up to the first
 * byte that does, or the end). */
size_t json_plain_span(const char *s);
/* The escape for c, or NULL when c needs none; tmp holds \u00XX forms. */
const char *json_escape_byte(unsigned char c, char tmp[JSON_ESCAPE_MAX]);
/* Writes src escaped into dst, always NUL-terminated (cap > 0). A value that
 * does not fit is cut off, never in the middle of an escape: bytes are taken
 * only while room for a whole escape and the NUL is left. */
void json_escape(char *dst, size_t cap, const char *src);

#endif
