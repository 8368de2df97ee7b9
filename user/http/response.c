#include "archeio/http/response.h"
#include "archeio/core/json_escape.h"

#include <string.h>

/* A constant string and its length (a reason phrase, a content type), so
 * writing it needs no strlen. */
struct text {
	const char *text;
	size_t len;
};

#define TEXT(s) ((struct text){s, sizeof(s) - 1})

static struct text reason_of(int status)
{
	switch (status) {
	case 200:
		return TEXT("OK");
	case 307:
		return TEXT("Temporary Redirect");
	case 400:
		return TEXT("Bad Request");
	case 404:
		return TEXT("Not Found");
	case 405:
		return TEXT("Method Not Allowed");
	case 408:
		return TEXT("Request Timeout");
	case 414:
		return TEXT("URI Too Long");
	case 429:
		return TEXT("Too Many Requests");
	case 431:
		return TEXT("Request Header Fields Too Large");
	case 500:
		return TEXT("Internal Server Error");
	case 501:
		return TEXT("Not Implemented");
	case 503:
		return TEXT("Service Unavailable");
	case 505:
		return TEXT("HTTP Version Not Supported");
	default:
		return TEXT("Unknown");
	}
}

const char *response_reason(int status)
{
	return reason_of(status).text;
}

/* Appends to a fixed buffer; on overflow it stops and remembers, so callers
 * check once at the end instead of after every piece. */
struct outbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static inline void put(struct outbuf *b, const char *s, size_t n)
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

/* A string literal: its length is known when compiling, and the inline
 * put() becomes a few moves. */
#define put_lit(b, lit) put(b, lit, sizeof(lit) - 1)

static void put_reason(struct outbuf *b, int status)
{
	struct text r = reason_of(status);
	put(b, r.text, r.len);
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

static struct text build_body(const struct response *resp, struct outbuf *body)
{
	if (resp->location) {
		/* Same body as Go's http.Redirect, so clients see what they saw before. */
		put_lit(body, "<a href=\"");
		put_escaped(body, resp->location, false);
		put_lit(body, "\">");
		put_reason(body, resp->status);
		put_lit(body, "</a>.\n\n");
		return TEXT("text/html; charset=utf-8");
	}
	if (resp->oci_error) {
		put_lit(body, "{\"errors\":[{\"code\":\"");
		put_str(body, resp->oci_error);
		put_lit(body, "\",\"message\":\"");
		put_escaped(body, resp->message ? resp->message : "", true);
		put_lit(body, "\",\"detail\":null}]}\n");
		return TEXT("application/json");
	}
	if (resp->status == 200) {
		put_lit(body, "{}\n");
		return TEXT("application/json");
	}
	put_str(body, resp->message ? resp->message : response_reason(resp->status));
	put_lit(body, "\n");
	return TEXT("text/plain; charset=utf-8");
}

size_t response_write(const struct response *resp, const char *date, char *out, size_t cap)
{
	char body_buf[RESPONSE_LOCATION_MAX * 2 + 256];
	struct outbuf body = {.p = body_buf, .cap = sizeof(body_buf)};
	struct text content_type = build_body(resp, &body);
	if (body.overflow)
		return 0;
	struct outbuf b = {.p = out, .cap = cap};
	put_lit(&b, "HTTP/1.1 ");
	put_uint(&b, (size_t)resp->status);
	put_lit(&b, " ");
	put_reason(&b, resp->status);
	put_lit(&b, "\r\nDate: ");
	put_str(&b, date);
	put_lit(&b, "\r\nContent-Type: ");
	put(&b, content_type.text, content_type.len);
	put_lit(&b, "\r\nContent-Length: ");
	put_uint(&b, body.len);
	put_lit(&b, "\r\n");
	if (resp->location) {
		put_lit(&b, "Location: ");
		put_str(&b, resp->location);
		put_lit(&b, "\r\n");
	}
	if (resp->allow_header)
		put_lit(&b, "Allow: GET, HEAD\r\n");
	if (resp->retry_after_s) {
		put_lit(&b, "Retry-After: ");
		put_uint(&b, resp->retry_after_s);
		put_lit(&b, "\r\n");
	}
	if (resp->api_version)
		put_lit(&b, "Docker-Distribution-Api-Version: registry/2.0\r\n");
	if (!resp->keep_alive)
		put_lit(&b, "Connection: close\r\n");
	put_lit(&b, "\r\n");
	if (!resp->head)
		put(&b, body.p, body.len);
	return b.overflow ? 0 : b.len;
}
