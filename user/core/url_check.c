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

/* Bytes no URL we emit or accept may contain anywhere ('#' is told apart:
 * it would start a fragment). */
static const char *forbidden_byte(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '#')
			return "a fragment (#) is not allowed";
		if (*p <= ' ' || *p >= 0x7f)
			return "spaces, control characters and non-ASCII bytes are not allowed";
	}
	return NULL;
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

/* Length of the host at the start of an authority ("[v6]" or a reg-name), 0
 * when it is malformed or empty. */
static size_t host_len(const char *s, size_t len)
{
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL || !ipv6_literal_valid(s + 1, (size_t)(close - s) - 1))
			return 0;
		return (size_t)(close - s) + 1;
	}
	size_t n = 0;
	while (n < len && s[n] != ':') {
		if (!reg_name_char(s[n]))
			return 0;
		n++;
	}
	return n;
}

/* authority = host [":" port], host = reg-name or "[" IPv6 "]"; no userinfo. */
static const char *authority_problem(const char *s, size_t len)
{
	if (memchr(s, '@', len) != NULL)
		return "user info (user:password@) is not allowed";
	if (len == 0 || s[0] == ':')
		return "no host";
	size_t host_end = host_len(s, len);
	if (host_end == 0)
		return "bad host";
	if (host_end == len)
		return NULL;
	if (s[host_end] != ':')
		return "bad host";
	return port_valid(s + host_end + 1, len - host_end - 1) ? NULL
								: "bad port (want 1 to 65535)";
}

const char *url_check_reason(const char *url, enum url_use use)
{
	size_t scheme_len;

	if (url == NULL)
		return URL_CHECK_NOT_HTTP;
	if (strncasecmp(url, "http://", 7) == 0)
		scheme_len = 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		scheme_len = 8;
	else
		return URL_CHECK_NOT_HTTP;
	const char *problem = forbidden_byte(url);
	if (problem != NULL)
		return problem;
	const char *auth = url + scheme_len;
	problem = authority_problem(auth, strcspn(auth, "/?"));
	if (problem != NULL)
		return problem;
	if (use == URL_BASE && strchr(url, '?') != NULL)
		return "a query is not allowed (paths are appended to this URL)";
	return NULL;
}

bool url_is_absolute_http(const char *url)
{
	return url_check_reason(url, URL_PAGE) == NULL;
}

bool url_is_base_http(const char *url)
{
	return url_check_reason(url, URL_BASE) == NULL;
}
