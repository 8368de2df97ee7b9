/* HTTP/1.x request-head parser (RFC 9112), pure: bytes in, spans out.
 * Only what a redirector needs: method, target, version, connection
 * persistence, body framing (so the connection can be closed when a body is
 * sent), X-Forwarded-For and User-Agent (for the access log). A body, chunked or not, is never
 * refused (no 501): it is left unread and the connection closes after the answer. Spans point into
 * the caller's buffer. */
#ifndef ARCHEIO_HTTP_HTTP_PARSE_H
#define ARCHEIO_HTTP_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS 100 /* besides the first Host */
#define HTTP_MAX_XFF_LINES 8

struct http_span {
	const char *ptr;
	size_t len;
};

struct http_request {
	struct http_span method;
	struct http_span target;
	int version_minor; /* HTTP/1.0 or HTTP/1.1 */
	bool keep_alive;
	bool has_body; /* Content-Length > 0 or Transfer-Encoding: not read, conn closes */
	struct http_span xff[HTTP_MAX_XFF_LINES];
	size_t xff_count;
	struct http_span user_agent; /* the first User-Agent line; empty when none */
	size_t header_count;	     /* every header line, Host included */
	bool has_host; /* a Host line was seen (it is not counted against the limit) */
};

enum http_parse_result {
	HTTP_PARSE_DONE,       /* *consumed = bytes of the request head */
	HTTP_PARSE_INCOMPLETE, /* need more bytes (and len < max) */
	HTTP_PARSE_ERROR,      /* *status = 400, 414, 431 or 505 */
};

/* A part of the head as an offset from its first byte: the connection moves
 * an unfinished head to the front of its buffer (or into a bigger one)
 * between reads, so the parser keeps offsets, not pointers. */
struct http_part {
	size_t off, len;
};

/* A request head being parsed across reads: where the scan stopped and what
 * the finished lines said. The next call examines only the bytes after
 * `at` (a trailing CR once more), so a head that arrives a byte at a time
 * costs work linear in its size. All zero is the state before the first
 * byte (http_parser_reset). */
struct http_parser {
	size_t at;	 /* next byte to examine */
	size_t line;	 /* where the line being read starts */
	size_t mark;	 /* where the target, version or header value starts */
	size_t name_len; /* the header name of the line being read */
	size_t examined; /* bytes looked at over all calls (the linear-work test reads it) */
	unsigned char stage;
	bool in_headers;      /* the request line is done: incomplete at the limit is 431 */
	bool conn_close;      /* a Connection header said close... */
	bool conn_keep_alive; /* ...or keep-alive; applied once the head is complete */
	bool has_body, has_host;
	int owed; /* the error of a malformed line, answered once the line has ended */
	int version_minor;
	size_t header_count, xff_count;
	struct http_part method, target, user_agent;
	struct http_part xff[HTTP_MAX_XFF_LINES];
};

static inline void http_parser_reset(struct http_parser *p)
{
	*p = (struct http_parser){0};
}

/* Goes on parsing the head that starts at buf[0]: buf[0..len) must begin
 * with the bytes of the earlier calls since the last reset (it may have
 * moved). max_head bounds the head size: an incomplete head at or beyond it
 * is 431 (or 414 while still in the request line). DONE fills *req (spans
 * into buf) and *consumed; after DONE or ERROR reset before the next head. */
enum http_parse_result http_parser_feed(struct http_parser *p, const char *buf, size_t len,
					size_t max_head, struct http_request *req, size_t *consumed,
					int *status);

/* One head from buf[0..len) in one call (a fresh parser). */
enum http_parse_result http_parse_request(const char *buf, size_t len, size_t max_head,
					  struct http_request *req, size_t *consumed, int *status);

/* Joins the X-Forwarded-For lines with ", " into out (NUL-terminated).
 * Returns the length, or -1 when it does not fit. */
long http_join_xff(const struct http_request *req, char *out, size_t cap);

#endif
