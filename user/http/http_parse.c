#include "archeio/http/http_parse.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

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
	for (size_t i = at; i < len; i++) {
		if (buf[i] == '\n')
			return (long)i;
		if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n')
			return -1;
	}
	return (long)len;
}

static enum http_parse_result fail(int *status, int code)
{
	*status = code;
	return HTTP_PARSE_ERROR;
}

static enum http_parse_result parse_request_line(const char *line, size_t len,
						 struct http_request *req, int *status)
{
	size_t i = 0;
	while (i < len && is_tchar((unsigned char)line[i]))
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
	const char *v = line + i + 1;
	size_t vlen = len - i - 1;
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return fail(status, 400);
	if (v[5] != '1')
		return fail(status, 505);
	req->version_minor = v[7] - '0';
	req->keep_alive = req->version_minor >= 1;
	return HTTP_PARSE_DONE;
}

static enum http_parse_result parse_header(const char *line, size_t len, struct http_request *req,
					   bool *saw_close, bool *saw_keep_alive, int *status)
{
	size_t i = 0;
	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	/* No empty names, no whitespace before the colon, no obs-fold (RFC 9112 5.1, 5.2). */
	if (i == 0 || i >= len || line[i] != ':')
		return fail(status, 400);
	const char *name = line;
	size_t name_len = i++;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t end = len;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	const char *value = line + i;
	size_t value_len = end - i;
	for (size_t k = 0; k < value_len; k++) {
		unsigned char c = (unsigned char)value[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(status, 400);
	}
	if (++req->header_count > HTTP_MAX_HEADERS)
		return fail(status, 431);
	if (span_ieq(name, name_len, "Connection")) {
		*saw_close |= list_has_token(value, value_len, "close");
		*saw_keep_alive |= list_has_token(value, value_len, "keep-alive");
	} else if (span_ieq(name, name_len, "Content-Length")) {
		if (value_len == 0)
			return fail(status, 400);
		bool nonzero = false;
		for (size_t k = 0; k < value_len; k++) {
			if (value[k] < '0' || value[k] > '9')
				return fail(status, 400);
			nonzero |= value[k] != '0';
		}
		req->has_body |= nonzero;
	} else if (span_ieq(name, name_len, "Transfer-Encoding")) {
		req->has_body = true;
	} else if (span_ieq(name, name_len, "X-Forwarded-For")) {
		if (req->xff_count == HTTP_MAX_XFF_LINES)
			return fail(status, 400);
		req->xff[req->xff_count++] = (struct http_span){value, value_len};
	}
	return HTTP_PARSE_DONE;
}

enum http_parse_result http_parse_request(const char *buf, size_t len, size_t max_head,
					  struct http_request *req, size_t *consumed, int *status)
{
	memset(req, 0, sizeof(*req));
	size_t at = 0;
	/* RFC 9112 2.2: ignore at least one empty line before the request-line. */
	while (at < len && (buf[at] == '\r' || buf[at] == '\n') && at < 4)
		at++;
	long eol = find_line_end(buf, at, len);
	if (eol < 0)
		return fail(status, 400);
	if ((size_t)eol == len)
		return len >= max_head ? fail(status, 414) : HTTP_PARSE_INCOMPLETE;
	size_t line_len = (size_t)eol - at;
	if (line_len > 0 && buf[at + line_len - 1] == '\r')
		line_len--;
	if (parse_request_line(buf + at, line_len, req, status) != HTTP_PARSE_DONE)
		return HTTP_PARSE_ERROR;
	bool saw_close = false, saw_keep_alive = false;
	at = (size_t)eol + 1;
	for (;;) {
		if (at > max_head)
			return fail(status, 431);
		eol = find_line_end(buf, at, len);
		if (eol < 0)
			return fail(status, 400);
		if ((size_t)eol == len)
			return len >= max_head ? fail(status, 431) : HTTP_PARSE_INCOMPLETE;
		line_len = (size_t)eol - at;
		if (line_len > 0 && buf[at + line_len - 1] == '\r')
			line_len--;
		if (line_len == 0) {
			at = (size_t)eol + 1;
			break;
		}
		if (parse_header(buf + at, line_len, req, &saw_close, &saw_keep_alive, status) !=
		    HTTP_PARSE_DONE)
			return HTTP_PARSE_ERROR;
		at = (size_t)eol + 1;
	}
	if (at > max_head)
		return fail(status, 431);
	if (saw_close)
		req->keep_alive = false;
	else if (req->version_minor == 0)
		req->keep_alive = saw_keep_alive;
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
