#include "archeio/http/response.h"
#include "archeio/core/json_escape.h"

#include <string.h>

const char *response_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 307:
		return "Temporary Redirect";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* Appends to a fixed buffer; on overflow it stops and remembers, so callers
 * check once at the end instead of after every piece. */
struct outbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

/* Inlined so that a literal's length is a constant and its memcpy a few
 * moves: a response is ~20 pieces, and a strlen and a memcpy call per piece
 * were most of the ~1,500 instructions a redirect cost to write. */
static inline __attribute__((always_inline)) void put(struct outbuf *b, const char *s, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_str(struct outbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_uint(struct outbuf *b, size_t v)
{
	char digits[24];
	size_t i = sizeof(digits);
	do
		digits[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(b, digits + i, sizeof(digits) - i);
}

/* A string literal: its length is known at compile time. */
#define PUT_LIT(b, lit) put((b), "" lit, sizeof(lit) - 1)

/* A status code of three digits (every status archeio sends) without
 * put_uint's division loop. */
static void put_status(struct outbuf *b, int status)
{
	if (status < 100 || status > 999) {
		put_uint(b, (size_t)(status < 0 ? 0 : status));
		return;
	}
	char digits[3] = {(char)('0' + status / 100), (char)('0' + status / 10 % 10),
			  (char)('0' + status % 10)};
	put(b, digits, sizeof(digits));
}

/* The replacement for a byte that could end an HTML attribute. */
static const char *html_escape_byte(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&#34;";
	default:
		return "&#39;";
	}
}

/* Escapes for an HTML attribute or a JSON string: the characters that could
 * end either. Validated locations never contain them, but the body must not
 * depend on that. */
static void put_escaped(struct outbuf *b, const char *text, bool json)
{
	for (;;) {
		/* Runs that need no escaping are copied whole. */
		size_t run = json ? json_plain_span(text) : strcspn(text, "&<>\"'");
		put(b, text, run);
		text += run;
		if (!*text)
			return;
		unsigned char c = (unsigned char)*text++;
		char tmp[JSON_ESCAPE_MAX];
		put_str(b, json ? json_escape_byte(c, tmp) : html_escape_byte(c));
	}
}

/* A string with its length, so it is measured once (or at compile time). */
struct text {
	const char *s;
	size_t len;
};

#define TEXT(lit) ((struct text){"" lit, sizeof(lit) - 1})

/* Writes the body; returns its Content-Type. */
static struct text build_body(const struct response *resp, struct text reason, struct outbuf *body)
{
	if (resp->location) {
		/* Same body as Go's http.Redirect, so clients see what they saw before. */
		PUT_LIT(body, "<a href=\"");
		put_escaped(body, resp->location, false);
		PUT_LIT(body, "\">");
		put(body, reason.s, reason.len);
		PUT_LIT(body, "</a>.\n\n");
		return TEXT("text/html; charset=utf-8");
	}
	if (resp->oci_error) {
		PUT_LIT(body, "{\"errors\":[{\"code\":\"");
		put_str(body, resp->oci_error);
		PUT_LIT(body, "\",\"message\":\"");
		put_escaped(body, resp->message ? resp->message : "", true);
		PUT_LIT(body, "\",\"detail\":null}]}\n");
		return TEXT("application/json");
	}
	if (resp->status == 200) {
		PUT_LIT(body, "{}\n");
		return TEXT("application/json");
	}
	if (resp->message)
		put_str(body, resp->message);
	else
		put(body, reason.s, reason.len);
	PUT_LIT(body, "\n");
	return TEXT("text/plain; charset=utf-8");
}

size_t response_write(const struct response *resp, const char *date, char *out, size_t cap)
{
	char body_buf[RESPONSE_LOCATION_MAX * 2 + 256];
	struct outbuf body = {.p = body_buf, .cap = sizeof(body_buf)};
	const char *reason_text = response_reason(resp->status);
	struct text reason = {reason_text, strlen(reason_text)};
	struct text content_type = build_body(resp, reason, &body);
	if (body.overflow)
		return 0;
	struct outbuf b = {.p = out, .cap = cap};
	PUT_LIT(&b, "HTTP/1.1 ");
	put_status(&b, resp->status);
	PUT_LIT(&b, " ");
	put(&b, reason.s, reason.len);
	PUT_LIT(&b, "\r\nDate: ");
	put_str(&b, date);
	PUT_LIT(&b, "\r\nContent-Type: ");
	put(&b, content_type.s, content_type.len);
	PUT_LIT(&b, "\r\nContent-Length: ");
	put_uint(&b, body.len);
	PUT_LIT(&b, "\r\n");
	if (resp->location) {
		PUT_LIT(&b, "Location: ");
		put_str(&b, resp->location);
		PUT_LIT(&b, "\r\n");
	}
	if (resp->allow_header)
		PUT_LIT(&b, "Allow: GET, HEAD\r\n");
	if (resp->retry_after_s) {
		PUT_LIT(&b, "Retry-After: ");
		put_uint(&b, resp->retry_after_s);
		PUT_LIT(&b, "\r\n");
	}
	if (resp->api_version)
		PUT_LIT(&b, "Docker-Distribution-Api-Version: registry/2.0\r\n");
	if (!resp->keep_alive)
		PUT_LIT(&b, "Connection: close\r\n");
	PUT_LIT(&b, "\r\n");
	if (!resp->head)
		put(&b, body.p, body.len);
	return b.overflow ? 0 : b.len;
}
