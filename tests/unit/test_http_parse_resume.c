/* The request-head parser across reads: a head fed in pieces (split at
 * every byte, in random chunks, moved between reads as the connection moves
 * it) ends as the same head parsed in one piece, and a head trickled a byte
 * at a time costs work linear in its size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/http_token.h"
#include "archeio/http/http_parse.h"
#include "http/http_byte_class.h"

#define MAX_HEAD 8192

/* Heads that end in each way the parser can end: done, every error, and
 * incomplete. */
static const char *const heads[] = {
    "GET /v2/pause/manifests/3.9 HTTP/1.1\r\nHost: x\r\n"
    "X-Forwarded-For: 203.0.113.9, 15.230.221.1\r\n\r\nGET /next",
    "\r\nHEAD / HTTP/1.0\nConnection: keep-alive\nUser-Agent:  docker/24 \t\n\n",
    "GET /a HTTP/1.1\r\nconnection: Close\r\nX-Forwarded-For: 1.2.3.4\r\n"
    "x-forwarded-for:\t5.6.7.8 \r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST /b HTTP/1.1\r\nContent-Length: 12\r\nUSER-AGENT: a\r\nUser-Agent: b\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",   /* 400 */
    "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",	      /* 400 */
    "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",	      /* 400 */
    "GET / HTTP/1.1\r\nX: a\rz\r\n\r\n",	      /* 400, bare CR */
    "GET / HTTP/1.1\r\n : x\r\n\r\n",		      /* 400 */
    "GET /\x7f HTTP/1.1\r\n\r\n",		      /* 400 */
    "GET / HTTP/2.0\r\n\r\n",			      /* 505 */
    "GET / HTTP/1.1 \r\n\r\n",			      /* 400 */
    "\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n",	      /* 400: 4 empty lines at most */
    "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n",	      /* incomplete */
    "GET /incomplete-target",			      /* incomplete */
    "GET / HTTP/1.1\r\nX: a\x01 and no line end yet", /* incomplete: bad, unfinished */
};

static enum http_parse_result one_piece(const char *buf, size_t len, struct http_request *req,
					size_t *used, int *status)
{
	*used = 0;
	*status = 0;
	return http_parse_request(buf, len, MAX_HEAD, req, used, status);
}

static void expect_same(enum http_parse_result r, const struct http_request *req, const char *buf,
			size_t used, int status, enum http_parse_result wr,
			const struct http_request *want, const char *wbuf, size_t wused,
			int wstatus)
{
	assert_int_equal(r, wr);
	if (r == HTTP_PARSE_ERROR)
		assert_int_equal(status, wstatus);
	if (r != HTTP_PARSE_DONE)
		return;
	assert_int_equal(used, wused);
	/* Same offsets into each buffer: spans of a moved head follow it. */
	assert_int_equal(req->method.ptr - buf, want->method.ptr - wbuf);
	assert_int_equal(req->method.len, want->method.len);
	assert_int_equal(req->target.ptr - buf, want->target.ptr - wbuf);
	assert_int_equal(req->target.len, want->target.len);
	assert_int_equal(req->version_minor, want->version_minor);
	assert_int_equal(req->keep_alive, want->keep_alive);
	assert_int_equal(req->has_body, want->has_body);
	assert_int_equal(req->has_host, want->has_host);
	assert_int_equal(req->header_count, want->header_count);
	assert_int_equal(req->xff_count, want->xff_count);
	for (size_t i = 0; i < req->xff_count; i++) {
		assert_int_equal(req->xff[i].ptr - buf, want->xff[i].ptr - wbuf);
		assert_int_equal(req->xff[i].len, want->xff[i].len);
	}
	assert_int_equal(req->user_agent.ptr == NULL, want->user_agent.ptr == NULL);
	if (req->user_agent.ptr)
		assert_int_equal(req->user_agent.ptr - buf, want->user_agent.ptr - wbuf);
	assert_int_equal(req->user_agent.len, want->user_agent.len);
}

/* Feeds text in chunks (sizes[i % n], 1 each when n is 0); between calls
 * the bytes move to the other of two buffers, as the connection moves an
 * unfinished head to the front of its buffer. */
static void feed_in_chunks(const char *text, const size_t *sizes, size_t n)
{
	size_t len = strlen(text);
	static char a[MAX_HEAD * 2], b[MAX_HEAD * 2];
	struct http_request want, req;
	size_t wused, used = 0;
	int wstatus, status = 0;
	enum http_parse_result wr = one_piece(text, len, &want, &wused, &wstatus);
	struct http_parser p;
	http_parser_reset(&p);
	enum http_parse_result r = HTTP_PARSE_INCOMPLETE;
	size_t have = 0;
	char *buf = a;
	for (size_t call = 0; r == HTTP_PARSE_INCOMPLETE && have < len; call++) {
		size_t step = n ? sizes[call % n] : 1;
		have = len - have < step ? len : have + step;
		buf = buf == a ? b : a;
		memcpy(buf, text, have);
		r = http_parser_feed(&p, buf, have, MAX_HEAD, &req, &used, &status);
	}
	expect_same(r, &req, buf, used, status, wr, &want, text, wused, wstatus);
}

/* Every head cut at every byte: the first piece, then the rest. */
static void split_at_every_byte(void **state)
{
	(void)state;
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		size_t len = strlen(heads[h]);
		for (size_t cut = 1; cut < len; cut++) {
			size_t sizes[2] = {cut, len};
			feed_in_chunks(heads[h], sizes, 2);
		}
		feed_in_chunks(heads[h], NULL, 0); /* and a byte at a time */
	}
}

/* Random chunk sizes (a fixed xorshift seed, so a failure repeats). */
static void random_chunks(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 2000; round++) {
		size_t sizes[8];
		for (size_t i = 0; i < 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			sizes[i] = (size_t)(x % 23) + 1;
		}
		feed_in_chunks(heads[(size_t)round % (sizeof(heads) / sizeof(heads[0]))], sizes, 8);
	}
}

/* A head near the limit (long values, many lines) trickled one byte a
 * call examines at most about two bytes per byte of head: each call looks
 * at the new byte and at the one it stopped on. Rescanning from the first
 * byte, as the parser did before, would examine about len^2 / 2 (some 30
 * million here). */
static void trickled_head_costs_linear_work(void **state)
{
	(void)state;
	static char text[MAX_HEAD];
	size_t o = (size_t)snprintf(text, sizeof(text), "GET /v2/%0400d HTTP/1.1\r\n", 0);
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "X-Header-%d: %0150d\r\n", i, i);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "\r\n");
	assert_true(o > 6000 && o < MAX_HEAD);
	struct http_parser p;
	http_parser_reset(&p);
	struct http_request req;
	size_t used = 0;
	int status = 0;
	enum http_parse_result r = HTTP_PARSE_INCOMPLETE;
	size_t calls = 0;
	for (size_t have = 1; have <= o && r == HTTP_PARSE_INCOMPLETE; have++, calls++)
		r = http_parser_feed(&p, text, have, MAX_HEAD, &req, &used, &status);
	assert_int_equal(r, HTTP_PARSE_DONE);
	assert_int_equal(used, o);
	assert_int_equal(calls, o);
	/* 2 per byte (the new one, the one stopped at), plus the version (8)
	 * and per header line the blank after the colon and the two bytes the
	 * trims stopped at: 14 150 for these 7 011 bytes. */
	assert_true(p.examined <= 2 * o + 8 + 3 * 40);

	/* In one piece: each byte once, and the same bookkeeping. */
	struct http_parser once;
	http_parser_reset(&once);
	assert_int_equal(http_parser_feed(&once, text, o, MAX_HEAD, &req, &used, &status),
			 HTTP_PARSE_DONE);
	assert_true(once.examined <= o + 1 + 8 + 3 * 40);
}

/* The parser's byte classes are their definitions, byte for byte. */
static void byte_classes_match_definitions(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		unsigned k = http_byte_class[c];
		assert_int_equal(!!(k & HTTP_BYTE_TCHAR), http_is_tchar((unsigned char)c));
		assert_int_equal(!!(k & HTTP_BYTE_VALUE), c == '\t' || (c >= 0x20 && c != 0x7f));
		assert_int_equal(!!(k & HTTP_BYTE_TARGET), c > 0x20 && c != 0x7f);
		assert_int_equal(!!(k & HTTP_BYTE_LINE), c != '\r' && c != '\n');
	}
}

/* Writes "GET /" + 24 bytes (obs-text and letters, `stop` at pos) + rest. */
static size_t target_with(char *text, size_t cap, size_t pos, char stop, const char *rest)
{
	size_t o = (size_t)snprintf(text, cap, "GET /");
	for (size_t i = 0; i < 24; i++)
		text[o++] = i == pos ? stop : (i % 3 ? 'a' : '\xe9');
	return o + (size_t)snprintf(text + o, cap - o, "%s", rest);
}

/* The eight-bytes-a-step scans stop at the first stop byte wherever it
 * lies in a word, and take a byte >= 0x80 as an ordinary byte. */
static void stop_bytes_found_at_every_position(void **state)
{
	(void)state;
	char text[160];
	struct http_request req;
	size_t used;
	int status;
	for (size_t pos = 0; pos < 24; pos++) {
		/* A control byte or DEL in the target: 400. */
		const char stops[] = {'\x01', '\x1f', '\x7f', '\t'};
		for (size_t s = 0; s < sizeof(stops); s++) {
			size_t o =
			    target_with(text, sizeof(text), pos, stops[s], " HTTP/1.1\r\n\r\n");
			assert_int_equal(one_piece(text, o, &req, &used, &status),
					 HTTP_PARSE_ERROR);
			assert_int_equal(status, 400);
		}
		/* A space ends the target exactly there (the rest is taken as
		 * the version: 400), found by the same scan. */
		size_t o = target_with(text, sizeof(text), pos, ' ', "\r\n\r\n");
		assert_int_equal(one_piece(text, o, &req, &used, &status), HTTP_PARSE_ERROR);
		/* The same bytes up to the space, then the version: a target of
		 * pos + 1 bytes. */
		o = target_with(text, sizeof(text), pos, ' ', "HTTP/1.1\r\n\r\n");
		memmove(text + 5 + pos + 1, text + 5 + 24, o - 5 - 24);
		o -= 24 - pos - 1;
		assert_int_equal(one_piece(text, o, &req, &used, &status), HTTP_PARSE_DONE);
		assert_int_equal(req.target.len, pos + 1);
		/* In a value: a control byte at pos is 400; HTAB is part of it. */
		o = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nX-Forwarded-For: ");
		size_t v = o;
		for (size_t i = 0; i < 24; i++)
			text[o++] = i == pos ? '\x7f' : '\xe9';
		o += (size_t)snprintf(text + o, sizeof(text) - o, "\r\n\r\n");
		assert_int_equal(one_piece(text, o, &req, &used, &status), HTTP_PARSE_ERROR);
		text[v + pos] = '\t';
		assert_int_equal(one_piece(text, o, &req, &used, &status), HTTP_PARSE_DONE);
		/* A leading or trailing HTAB is a blank around the value: trimmed. */
		assert_int_equal(req.xff[0].len, pos == 0 || pos == 23 ? 23 : 24);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(split_at_every_byte),
	    cmocka_unit_test(random_chunks),
	    cmocka_unit_test(trickled_head_costs_linear_work),
	    cmocka_unit_test(byte_classes_match_definitions),
	    cmocka_unit_test(stop_bytes_found_at_every_position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
