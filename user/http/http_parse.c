/* The request-head parser: one forward pass over the bytes, resumable. Each
 * call goes on from where the last one stopped (struct http_parser), scans
 * tokens with one class-table lookup per byte (http_byte_class) and finds
 * the line ends in the same pass, so no byte is looked at twice but the
 * trimmed blanks of a value and a CR that ended a read. A malformed line is
 * answered only once its end has arrived, and the head limits are checked
 * at the same points as before, so every answer (400, 414, 431, 505) and
 * every "need more bytes" is what the rescanning parser gave. */
#include "archeio/http/http_parse.h"
#include "http_byte_class.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

enum stage {
	STAGE_SKIP, /* empty lines before the request-line (RFC 9112 2.2) */
	STAGE_METHOD,
	STAGE_TARGET,
	STAGE_VERSION,
	STAGE_NAME,  /* a header name, or the empty line that ends the head */
	STAGE_VALUE, /* a header value */
	STAGE_OWED,  /* the line is malformed: find its end, then answer p->owed */
};

/* The first byte from i on that is not of class `want` (len when all are).
 * Four lookups a step: the common tokens are a few dozen bytes long. */
static inline size_t scan(const char *buf, size_t i, size_t len, unsigned char want)
{
	const unsigned char *b = (const unsigned char *)buf;
	for (; len - i >= 4; i += 4) {
		if (!(http_byte_class[b[i]] & want))
			return i;
		if (!(http_byte_class[b[i + 1]] & want))
			return i + 1;
		if (!(http_byte_class[b[i + 2]] & want))
			return i + 2;
		if (!(http_byte_class[b[i + 3]] & want))
			return i + 3;
	}
	while (i < len && (http_byte_class[b[i]] & want))
		i++;
	return i;
}

#define BYTES_01 0x0101010101010101ull
#define BYTES_80 0x8080808080808080ull

/* Eight bytes as a number whose lowest byte is the first. */
static inline uint64_t load8(const unsigned char *b)
{
	uint64_t x;
	memcpy(&x, b, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* The high bit of some byte below n (n <= 0x80) in x. A borrow can flag a
 * byte above a flagged one, never one below: the lowest flag is exact. */
static inline uint64_t bytes_below(uint64_t x, unsigned n)
{
	return (x - BYTES_01 * n) & ~x & BYTES_80;
}

/* The first byte from i on that is below `below` or DEL (len when none),
 * eight bytes a step (SWAR): the target and the header values are the
 * longest runs of a head, and their classes are ranges. */
static inline size_t scan_ranges(const char *buf, size_t i, size_t len, unsigned below)
{
	const unsigned char *b = (const unsigned char *)buf;
	for (; len - i >= 8; i += 8) {
		uint64_t x = load8(b + i);
		uint64_t stop = bytes_below(x, below) | bytes_below(x ^ (BYTES_01 * 0x7f), 1);
		if (stop)
			return i + (size_t)__builtin_ctzll(stop) / 8;
	}
	while (i < len && b[i] >= below && b[i] != 0x7f)
		i++;
	return i;
}

/* A request target runs to a control byte, SP or DEL (HTTP_BYTE_TARGET). */
static size_t scan_target(const char *buf, size_t i, size_t len)
{
	return scan_ranges(buf, i, len, 0x21);
}

/* A field value runs to a control byte other than HTAB, or DEL
 * (HTTP_BYTE_VALUE): CR and LF end it. */
static size_t scan_value(const char *buf, size_t i, size_t len)
{
	for (;;) {
		i = scan_ranges(buf, i, len, 0x20);
		if (i == len || buf[i] != '\t')
			return i;
		i++;
	}
}

enum line_end { LINE_ENDED, LINE_WAIT, LINE_BARE_CR };

/* buf[i] is CR or LF. LINE_ENDED: the line's text ends at i and the next
 * line starts at p->at. A CR that is the last byte so far is looked at
 * again on the next call; a CR before anything but LF is an error at once,
 * as it always was. */
static enum line_end end_line(struct http_parser *p, const char *buf, size_t i, size_t len)
{
	if (buf[i] == '\n') {
		p->at = i + 1;
		return LINE_ENDED;
	}
	if (i + 1 == len) {
		p->at = i;
		return LINE_WAIT;
	}
	if (buf[i + 1] != '\n')
		return LINE_BARE_CR;
	p->at = i + 2;
	return LINE_ENDED;
}

static enum http_parse_result fail(int *status, int code)
{
	*status = code;
	return HTTP_PARSE_ERROR;
}

/* The line being read is malformed: its error is given when it ends. */
static void owe(struct http_parser *p, size_t i, int status)
{
	p->owed = status;
	p->at = i;
	p->stage = STAGE_OWED;
}

/* Does the header name equal lit (lower case letters and '-')? OR-ing 0x20
 * folds only letters here: a name holds tchars, and the one other byte that
 * folds onto '-' is CR. */
static bool name_is(const char *name, size_t len, const char *lit, size_t n)
{
	if (len != n)
		return false;
	if (n < 8) {
		for (size_t k = 0; k < n; k++)
			if ((name[k] | 0x20) != lit[k])
				return false;
		return true;
	}
	/* Eight bytes a compare; the last eight overlap the ones before. */
	const unsigned char *a = (const unsigned char *)name, *l = (const unsigned char *)lit;
	for (size_t k = 0; k + 8 < n; k += 8)
		if ((load8(a + k) | BYTES_01 * 0x20) != load8(l + k))
			return false;
	return (load8(a + n - 8) | BYTES_01 * 0x20) == load8(l + n - 8);
}

/* Does a comma-separated header value list contain the token (case-insensitive)? */
static bool list_has_token(const char *p, size_t len, const char *token)
{
	size_t n = strlen(token);
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
		if (end - start == n && strncasecmp(p + start, token, n) == 0)
			return true;
	}
	return false;
}

/* Content-Length is 1*DIGIT; *nonzero says whether a body follows. */
static bool content_length_valid(const char *v, size_t len, bool *nonzero)
{
	*nonzero = false;
	if (len == 0)
		return false;
	for (size_t k = 0; k < len; k++) {
		if (v[k] < '0' || v[k] > '9')
			return false;
		*nonzero |= v[k] != '0';
	}
	return true;
}

/* The headers a redirector acts on; names are told apart by length first,
 * so most lines cost one switch. Returns 0 or the error status. */
static int use_header(struct http_parser *p, const char *name, size_t nlen, const char *buf,
		      struct http_part value)
{
	const char *v = buf + value.off;
	bool nonzero;
	switch (nlen) {
	case 10:
		if (name_is(name, nlen, "connection", 10)) {
			p->conn_close |= list_has_token(v, value.len, "close");
			p->conn_keep_alive |= list_has_token(v, value.len, "keep-alive");
		} else if (p->user_agent.off == 0 && name_is(name, nlen, "user-agent", 10)) {
			p->user_agent = value; /* the first one; offset 0 is never a value */
		}
		return 0;
	case 14:
		if (!name_is(name, nlen, "content-length", 14))
			return 0;
		if (!content_length_valid(v, value.len, &nonzero))
			return 400;
		p->has_body |= nonzero;
		return 0;
	case 15:
		if (!name_is(name, nlen, "x-forwarded-for", 15))
			return 0;
		if (p->xff_count == HTTP_MAX_XFF_LINES)
			return 400;
		p->xff[p->xff_count++] = value;
		return 0;
	case 17:
		p->has_body |= name_is(name, nlen, "transfer-encoding", 17);
		return 0;
	default:
		return 0;
	}
}

/* A complete header line: name at p->line, value from p->mark to end
 * (blanks around it trimmed, RFC 9112 5). Returns 0 or the error status. */
static int finish_header(struct http_parser *p, const char *buf, size_t end)
{
	size_t start = p->mark, line_end = end;
	while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
		start++;
	while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	/* The blanks trimmed and the byte each trim stopped at. */
	p->examined += (start - p->mark) + (line_end - end) + 2;
	const char *name = buf + p->line;
	/* The first Host line is not one of the HTTP_MAX_HEADERS: every HTTP/1.1
	 * request carries it, and "100 headers" means 100 of the client's own. */
	if (!p->has_host && name_is(name, p->name_len, "host", 4))
		p->has_host = true;
	if (++p->header_count - (p->has_host ? 1 : 0) > HTTP_MAX_HEADERS)
		return 431;
	return use_header(p, name, p->name_len, buf, (struct http_part){start, end - start});
}

/* "HTTP/1.0" or "HTTP/1.1": another well-formed version is 505 (an unknown
 * minor version is not guessed at), anything else 400. Returns 0 or the
 * error status. */
static int finish_version(struct http_parser *p, const char *v, size_t vlen)
{
	p->examined += vlen;
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1' || v[7] > '1')
		return 505;
	p->version_minor = v[7] - '0';
	return 0;
}

/* A header line (or the head's end) starts at p->at. */
static void next_line(struct http_parser *p)
{
	p->line = p->at;
	p->stage = STAGE_NAME;
	p->in_headers = true;
}

/* The request-line up to the version: returns false to wait for bytes. */
static bool step_request_line(struct http_parser *p, const char *buf, size_t len)
{
	size_t i;
	switch (p->stage) {
	case STAGE_SKIP:
		while (p->at < len && p->at < 4 && (buf[p->at] == '\r' || buf[p->at] == '\n'))
			p->at++;
		if (p->at == len)
			return false;
		p->line = p->at;
		p->stage = STAGE_METHOD;
		return true;
	case STAGE_METHOD:
		i = scan(buf, p->at, len, HTTP_BYTE_TCHAR);
		p->at = i;
		if (i == len)
			return false;
		if (buf[i] != ' ' || i == p->line) {
			owe(p, i, 400);
			return true;
		}
		p->method = (struct http_part){p->line, i - p->line};
		p->at = p->mark = i + 1;
		p->stage = STAGE_TARGET;
		return true;
	default: /* STAGE_TARGET */
		i = scan_target(buf, p->at, len);
		p->at = i;
		if (i == len)
			return false;
		if (buf[i] != ' ' || i == p->mark) {
			owe(p, i, 400);
			return true;
		}
		p->target = (struct http_part){p->mark, i - p->mark};
		p->at = p->mark = i + 1;
		p->stage = STAGE_VERSION;
		return true;
	}
}

/* Scans a line to its end from p->at with `want`, which stops at CR and LF
 * (and, for a value, at a control byte: the line is then malformed).
 * Returns LINE_ENDED with *end at the line's last text byte + 1. */
static enum line_end scan_to_end(struct http_parser *p, const char *buf, size_t len,
				 unsigned char want, size_t *end)
{
	size_t i =
	    want == HTTP_BYTE_VALUE ? scan_value(buf, p->at, len) : scan(buf, p->at, len, want);
	p->at = i;
	if (i == len)
		return LINE_WAIT;
	if (buf[i] != '\r' && buf[i] != '\n') {
		owe(p, i, 400);
		return scan_to_end(p, buf, len, HTTP_BYTE_LINE, end);
	}
	*end = i;
	return end_line(p, buf, i, len);
}

/* What one step of the loop in run() decided. */
enum step { STEP_ON, STEP_WAIT, STEP_DONE, STEP_ERROR };

/* The empty line or a header name at the start of a line. */
static enum step step_name(struct http_parser *p, const char *buf, size_t len, int *status)
{
	size_t i = scan(buf, p->at, len, HTTP_BYTE_TCHAR);
	p->at = i;
	if (i == len)
		return STEP_WAIT;
	if (buf[i] == ':' && i > p->line) {
		p->name_len = i - p->line;
		p->at = p->mark = i + 1;
		p->stage = STAGE_VALUE;
		return STEP_ON;
	}
	if (i > p->line || (buf[i] != '\r' && buf[i] != '\n')) {
		owe(p, i, 400);
		return STEP_ON;
	}
	switch (end_line(p, buf, i, len)) {
	case LINE_WAIT:
		return STEP_WAIT;
	case LINE_BARE_CR:
		*status = 400;
		return STEP_ERROR;
	default:
		return STEP_DONE;
	}
}

/* A line that runs to its end: the version, a header value, or a
 * malformed line. */
static enum step step_to_line_end(struct http_parser *p, const char *buf, size_t len, int *status)
{
	static const unsigned char want[] = {
	    [STAGE_VERSION] = HTTP_BYTE_LINE,
	    [STAGE_VALUE] = HTTP_BYTE_VALUE,
	    [STAGE_OWED] = HTTP_BYTE_LINE,
	};
	size_t end = 0;
	enum line_end r = scan_to_end(p, buf, len, want[p->stage], &end);
	if (r == LINE_WAIT)
		return STEP_WAIT;
	if (r == LINE_BARE_CR)
		*status = 400;
	else if (p->stage == STAGE_OWED)
		*status = p->owed;
	else if (p->stage == STAGE_VERSION)
		*status = finish_version(p, buf + p->mark, end - p->mark);
	else
		*status = finish_header(p, buf, end);
	if (*status != 0)
		return STEP_ERROR;
	next_line(p);
	return STEP_ON;
}

static enum step step(struct http_parser *p, const char *buf, size_t len, size_t max_head,
		      int *status)
{
	switch (p->stage) {
	case STAGE_SKIP:
	case STAGE_METHOD:
	case STAGE_TARGET:
		return step_request_line(p, buf, len) ? STEP_ON : STEP_WAIT;
	case STAGE_NAME:
		/* Checked where each header line starts, as the rescanning parser did. */
		if (p->at == p->line && p->line > max_head) {
			*status = 431;
			return STEP_ERROR;
		}
		return step_name(p, buf, len, status);
	default:
		return step_to_line_end(p, buf, len, status);
	}
}

/* The request the finished head describes, its spans pointing into buf. */
static void fill_request(const struct http_parser *p, const char *buf, struct http_request *req)
{
	req->method = (struct http_span){buf + p->method.off, p->method.len};
	req->target = (struct http_span){buf + p->target.off, p->target.len};
	req->version_minor = p->version_minor;
	if (p->conn_close)
		req->keep_alive = false;
	else
		req->keep_alive = p->version_minor >= 1 || p->conn_keep_alive;
	req->has_body = p->has_body;
	req->xff_count = p->xff_count;
	for (size_t i = 0; i < p->xff_count; i++)
		req->xff[i] = (struct http_span){buf + p->xff[i].off, p->xff[i].len};
	req->user_agent = (struct http_span){p->user_agent.off ? buf + p->user_agent.off : NULL,
					     p->user_agent.len};
	req->header_count = p->header_count;
	req->has_host = p->has_host;
}

enum http_parse_result http_parser_feed(struct http_parser *p, const char *buf, size_t len,
					size_t max_head, struct http_request *req, size_t *consumed,
					int *status)
{
	size_t from = p->at;
	enum step s;
	do
		s = step(p, buf, len, max_head, status);
	while (s == STEP_ON);
	/* The bytes scanned, and the one the scan stopped at. */
	p->examined += p->at - from + 1;
	if (s == STEP_ERROR)
		return HTTP_PARSE_ERROR;
	if (s == STEP_WAIT)
		return len >= max_head ? fail(status, p->in_headers ? 431 : 414)
				       : HTTP_PARSE_INCOMPLETE;
	if (p->at > max_head)
		return fail(status, 431);
	fill_request(p, buf, req);
	*consumed = p->at;
	return HTTP_PARSE_DONE;
}

enum http_parse_result http_parse_request(const char *buf, size_t len, size_t max_head,
					  struct http_request *req, size_t *consumed, int *status)
{
	struct http_parser p;
	http_parser_reset(&p);
	return http_parser_feed(&p, buf, len, max_head, req, consumed, status);
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
