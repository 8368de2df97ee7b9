/* URI syntax helpers for request targets: percent-decoding, query checks. */
#include "archeio/contract/uri.h"
#include "archeio/core/url_check.h"

#include <string.h>
#include <strings.h>

long uri_percent_decode(const char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;

	/* Runs without '%' are copied whole: every request path is decoded and
	 * almost none has an escape. memmove: out may be in itself. */
	while (i < len) {
		const char *pct = memchr(in + i, '%', len - i);
		size_t run = pct ? (size_t)(pct - in) - i : len - i;
		memmove(out + o, in + i, run);
		o += run;
		i += run;
		if (!pct)
			break;
		if (len - i < 3)
			return -1;
		int hi = url_hex_value(in[i + 1]);
		int lo = url_hex_value(in[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (char)(hi * 16 + lo);
		i += 3;
	}
	return (long)o;
}

bool uri_query_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (len - i < 3 || url_hex_value(s[i + 1]) < 0 ||
			    url_hex_value(s[i + 2]) < 0)
				return false;
			i += 2;
		} else if (!url_is_unreserved(c) && !url_is_sub_delim(c) && c != ':' && c != '@' &&
			   c != '/' && c != '?') {
			return false;
		}
	}
	return true;
}
