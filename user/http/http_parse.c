#include "archeio/http/http_parse.h"
#include "archeio/core/http_token.h"

#include <string.h>
#include <strings.h>

static bool span_ieq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len == n && strncasecmp(p, lit, n) == 0;
}

/* Does a comma-separated header value list contain the token (case-insensitive)? */
static bool list_has_token(const char *p, size_t len, const char *token)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		size_t start = i;
		while (i < len && p[i] != ',')
			i++;
		size_t end = i;
		while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (span_ieq(p + start, end - start, token))
			return true;
	}
	return false;
}

/* Finds the end of the line starting at `at`: returns the index of '\n', or
 * len when there is none yet. A bare CR inside a line is an error (-1). */
static long find_line_end(const char *buf, size_t at, size_t len)
{
	/* memchr scans many bytes a step; a CR is then looked for only before
	 * the line's end, where a byte-at-a-time loop had compared every byte
	 * twice. */
	const char *nl = memchr(buf + at, '\n', len - at);
	size_t end = nl ? (size_t)(nl - buf) : len;
	for (const char *cr = memchr(buf + at, '\r', end - at); cr;
	     cr = memchr(cr + 1, '\r', end - (size_t)(cr + 1 - buf))) {
		size_t i = (size_t)(cr - buf);
		if (i + 1 < len && buf[i + 1] != '\n')
			return -1;
	}
	return (long)end;
}

static enum http_parse_result fail(int *status, int code)
{
	*status = code;
	return HTTP_PARSE_ERROR;
}

/* "HTTP/1.0" or "HTTP/1.1": another well-formed version is 505 (an unknown
 * minor version is not guessed at), anything else 400. */
static enum http_parse_result parse_version(const char *v, size_t vlen, struct http_request *req,
					    int *status)
{
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return fail(status, 400);
	if (v[5] != '1' || v[7] > '1')
		return fail(status, 505);
	req->version_minor = v[7] - '0';
	req->keep_alive = req->version_minor >= 1;
	return HTTP_PARSE_DONE;
}

static enum http_parse_result parse_request_line(const char *line, size_t len,
						 struct http_request *req, int *status)
{
	size_t i = 0;
	while (i < len && http_is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= len || line[i] != ' ')
		return fail(status, 400);
	req->method = (struct http_span){line, i};
	size_t t = ++i;
	while (i < len && line[i] != ' ') {
		unsigned char c = (unsigned char)line[i];
		if (c <= 0x20 || c == 0x7f)
			return fail(status, 400);
		i++;
	}
	if (i == t || i >= len)
		return fail(status, 400);
	req->target = (struct http_span){line + t, i - t};
	return parse_version(line + i + 1, len - i - 1, req, status);
}

/* Splits `name ":" OWS value OWS` (RFC 9112 5): no empty names, no whitespace
 * before the colon, no obs-fold (5.1, 5.2), no control characters but HTAB in
 * the value. */
static bool split_header(const char *line, size_t len, struct http_span *name,
			 struct http_span *value)
{
	size_t i = 0;
	while (i < len && http_is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= len || line[i] != ':')
		return false;
	*name = (struct http_span){line, i++};
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t end = len;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	*value = (struct http_span){line + i, end - i};
	for (size_t k = 0; k < value->len; k++) {
		unsigned char c = (unsigned char)value->ptr[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Content-Length is 1*DIGIT; *nonzero says whether a body follows. */
static bool content_length_valid(struct http_span value, bool *nonzero)
{
	*nonzero = false;
	if (value.len == 0)
		return false;
	for (size_t k = 0; k < value.len; k++) {
		if (value.ptr[k] < '0' || value.ptr[k] > '9')
			return false;
		*nonzero |= value.ptr[k] != '0';
	}
	return true;
}

/* What the Connection headers asked for; applied once the head is complete. */
struct connection_tokens {
	bool close;
	bool keep_alive;
};

static enum http_parse_result parse_header(const char *line, size_t len, struct http_request *req,
					   struct connection_tokens *seen, int *status)
{
	struct http_span name, value;
	bool nonzero;
	if (!split_header(line, len, &name, &value))
		return fail(status, 400);
	/* The first Host line is not one of the HTTP_MAX_HEADERS: every HTTP/1.1
	 * request carries it, and "100 headers" means 100 of the client's own. */
	if (!req->has_host && span_ieq(name.ptr, name.len, "Host"))
		req->has_host = true;
	if (++req->header_count - (req->has_host ? 1 : 0) > HTTP_MAX_HEADERS)
		return fail(status, 431);
	if (span_ieq(name.ptr, name.len, "Connection")) {
		seen->close |= list_has_token(value.ptr, value.len, "close");
		seen->keep_alive |= list_has_token(value.ptr, value.len, "keep-alive");
	} else if (span_ieq(name.ptr, name.len, "Content-Length")) {
		if (!content_length_valid(value, &nonzero))
			return fail(status, 400);
		req->has_body |= nonzero;
	} else if (span_ieq(name.ptr, name.len, "Transfer-Encoding")) {
		req->has_body = true;
	} else if (span_ieq(name.ptr, name.len, "X-Forwarded-For")) {
		if (req->xff_count == HTTP_MAX_XFF_LINES)
			return fail(status, 400);
		req->xff[req->xff_count++] = value;
	} else if (req->user_agent.ptr == NULL && span_ieq(name.ptr, name.len, "User-Agent")) {
		req->user_agent = value;
	}
	return HTTP_PARSE_DONE;
}

enum line_result { LINE_OK, LINE_INCOMPLETE, LINE_BAD };

/* The line starting at `at`, without its CRLF (or bare LF); *next is where
 * the following line starts. */
static enum line_result read_line(const char *buf, size_t at, size_t len, struct http_span *line,
				  size_t *next)
{
	long eol = find_line_end(buf, at, len);
	if (eol < 0)
		return LINE_BAD;
	if ((size_t)eol == len)
		return LINE_INCOMPLETE;
	size_t line_len = (size_t)eol - at;
	if (line_len > 0 && buf[at + line_len - 1] == '\r')
		line_len--;
	*line = (struct http_span){buf + at, line_len};
	*next = (size_t)eol + 1;
	return LINE_OK;
}

/* A line that could not be read: malformed (400), or unfinished: more bytes
 * are wanted unless the head is already as long as allowed (too_long). */
static enum http_parse_result line_failed(enum line_result r, size_t len, size_t max_head,
					  int too_long, int *status)
{
	if (r == LINE_BAD)
		return fail(status, 400);
	return len >= max_head ? fail(status, too_long) : HTTP_PARSE_INCOMPLETE;
}

/* Header lines from *at up to and including the empty line ending the head. */
static enum http_parse_result parse_headers(const char *buf, size_t len, size_t max_head,
					    size_t *at, struct http_request *req,
					    struct connection_tokens *seen, int *status)
{
	for (;;) {
		struct http_span line;
		size_t next;
		if (*at > max_head)
			return fail(status, 431);
		enum line_result r = read_line(buf, *at, len, &line, &next);
		if (r != LINE_OK)
			return line_failed(r, len, max_head, 431, status);
		*at = next;
		if (line.len == 0)
			return HTTP_PARSE_DONE;
		if (parse_header(line.ptr, line.len, req, seen, status) != HTTP_PARSE_DONE)
			return HTTP_PARSE_ERROR;
	}
}

enum http_parse_result http_parse_request(const char *buf, size_t len, size_t max_head,
					  struct http_request *req, size_t *consumed, int *status)
{
	memset(req, 0, sizeof(*req));
	size_t at = 0;
	/* RFC 9112 2.2: ignore at least one empty line before the request-line. */
	while (at < len && (buf[at] == '\r' || buf[at] == '\n') && at < 4)
		at++;
	struct http_span line;
	enum line_result r = read_line(buf, at, len, &line, &at);
	if (r != LINE_OK)
		return line_failed(r, len, max_head, 414, status);
	if (parse_request_line(line.ptr, line.len, req, status) != HTTP_PARSE_DONE)
		return HTTP_PARSE_ERROR;
	struct connection_tokens seen = {false, false};
	enum http_parse_result headers = parse_headers(buf, len, max_head, &at, req, &seen, status);
	if (headers != HTTP_PARSE_DONE)
		return headers;
	if (at > max_head)
		return fail(status, 431);
	if (seen.close)
		req->keep_alive = false;
	else if (req->version_minor == 0)
		req->keep_alive = seen.keep_alive;
	*consumed = at;
	return HTTP_PARSE_DONE;
}

long http_join_xff(const struct http_request *req, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < req->xff_count; i++) {
		size_t need = req->xff[i].len + (i ? 2 : 0);
		if (o + need + 1 > cap)
			return -1;
		if (i) {
			out[o++] = ',';
			out[o++] = ' ';
		}
		memcpy(out + o, req->xff[i].ptr, req->xff[i].len);
		o += req->xff[i].len;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return (long)o;
}
