/* URI syntax helpers for request targets: percent-decoding, query checks. */
#include "archeio/contract/uri.h"
#include "archeio/core/url_check.h"

#include <string.h>
#include <strings.h>

long uri_percent_decode(const char *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		if (len - i < 3)
			return -1;
		int hi = url_hex_value(in[i + 1]);
		int lo = url_hex_value(in[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
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
