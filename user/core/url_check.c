/* Absolute http(s) URL checks for configured URLs (upstreams, mirror bases,
 * info pages): both the redirector's configuration and its mirror rules use
 * them, so they live in the core. */
#include "archeio/core/url_check.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

int url_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool url_is_unreserved(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

bool url_is_sub_delim(char c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* Bytes no URL we emit or accept may contain anywhere. */
static bool has_forbidden_byte(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '#')
			return true;
	}
	return false;
}

static bool port_valid(const char *s, size_t len)
{
	unsigned long port = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/* A host name as resolvers and HTTP clients take it: letters, digits, '-',
 * '.', '_' and '~'. RFC 3986's reg-name also allows sub-delims and %-escapes,
 * but libcurl (the mirror checks) and container clients refuse those, so a
 * configured URL with them could never work. */
static bool reg_name_char(char c)
{
	return url_is_unreserved(c);
}

/* The inside of "[...]": an IPv6 address as inet_pton reads it (no zone). */
static bool ipv6_literal_valid(const char *s, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(AF_INET6, text, &addr) == 1;
}

/* authority = host [":" port], host = reg-name or "[" IPv6 "]"; no userinfo. */
static bool authority_valid(const char *s, size_t len)
{
	size_t host_end;

	if (len == 0)
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL || !ipv6_literal_valid(s + 1, (size_t)(close - s) - 1))
			return false;
		host_end = (size_t)(close - s) + 1;
	} else {
		host_end = 0;
		while (host_end < len && s[host_end] != ':') {
			if (!reg_name_char(s[host_end]))
				return false;
			host_end++;
		}
		if (host_end == 0)
			return false;
	}
	if (host_end == len)
		return true;
	if (s[host_end] != ':')
		return false;
	return port_valid(s + host_end + 1, len - host_end - 1);
}

bool url_is_absolute_http(const char *url)
{
	size_t scheme_len, auth_len;
	const char *auth;

	if (url == NULL || has_forbidden_byte(url))
		return false;
	if (strncasecmp(url, "http://", 7) == 0)
		scheme_len = 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		scheme_len = 8;
	else
		return false;
	auth = url + scheme_len;
	auth_len = strcspn(auth, "/?");
	return authority_valid(auth, auth_len);
}

bool url_is_base_http(const char *url)
{
	return url_is_absolute_http(url) && strchr(url, '?') == NULL;
}
