/* JSON string escaping (see json_escape.h). */
#include "archeio/core/json_escape.h"

#include <stdio.h>
#include <string.h>

/* Every byte that cannot stand for itself inside a JSON string, except NUL,
 * which ends the text anyway. */
static const char json_specials[] = "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
				    "\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15"
				    "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f";

size_t json_plain_span(const char *s)
{
	/* strcspn jumps over long runs that need nothing (a whole validated
	 * URL), so the common case is one copy. */
	return strcspn(s, json_specials);
}

const char *json_escape_byte(unsigned char c, char tmp[JSON_ESCAPE_MAX])
{
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c >= 0x20)
		return NULL;
	snprintf(tmp, JSON_ESCAPE_MAX, "\\u%04x", c);
	return tmp;
}

void json_escape(char *dst, size_t cap, const char *src)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (; *src && o + JSON_ESCAPE_MAX < cap; src++) {
		char tmp[JSON_ESCAPE_MAX];
		const char *escaped = json_escape_byte((unsigned char)*src, tmp);
		if (escaped == NULL) {
			dst[o++] = *src;
			continue;
		}
		size_t n = strlen(escaped);
		memcpy(dst + o, escaped, n);
		o += n;
	}
	dst[o] = '\0';
}
