/* Connection I/O over a socketpair, with a fake handler above it: answers now
 * and later, answers in request order, a client leaving while its answer is
 * pending, draining, and what the connection tells its owner. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "archeio/http/connection.h"

/* The layer above: records requests, answers at once unless told to wait. */
struct fake_owner {
	bool answer_later;
	const char *location; /* NULL: the short redirect's */
	bool draining;
	int requests;
	int closed;
	char last_target[256];
	struct http_connection *waiting; /* the connection owed an answer */
	uint32_t seen_tag;
	bool seen_tagged;
	char seen_addr[64];
	bool seen_proxied;
	int proxy_refusals;
	char proxy_why[128];
	/* What the connection told about the answers it serialised. */
	int sent_calls;
	size_t sent_bytes;
	int requests_when_sent; /* requests handed up when the last one was told */
};

struct fixture {
	struct event_base *base;
	struct fake_owner owner;
	struct http_connections set;
	int client; /* the test's end of the socketpair */
};

static const struct response redirect = {
    .status = 307, .location = "https://example.test/x", .keep_alive = true};

static void record_sent(void *arg, size_t bytes)
{
	struct fake_owner *o = arg;
	o->sent_calls++;
	o->sent_bytes = bytes;
	o->requests_when_sent = o->requests;
}

static void on_request(void *ctx, struct http_connection *conn, const struct http_request *req)
{
	struct fake_owner *o = ctx;
	o->requests++;
	snprintf(o->last_target, sizeof(o->last_target), "%.*s", (int)req->target.len,
		 req->target.ptr);
	const struct http_peer *peer = http_connection_peer(conn);
	o->seen_tagged = peer->tagged;
	o->seen_tag = peer->tag;
	o->seen_proxied = peer->proxied;
	ip_format(&peer->addr, o->seen_addr, sizeof(o->seen_addr));
	struct response resp = redirect;
	resp.keep_alive = req->keep_alive;
	if (o->location)
		resp.location = o->location;
	if (o->answer_later) {
		o->waiting = conn;
		return;
	}
	http_connection_respond(conn, &resp, &(struct http_sent){record_sent, o});
}

static const char *fixed_date(void *ctx)
{
	(void)ctx;
	return "Mon, 01 Jan 2024 00:00:00 GMT";
}

static bool is_draining(void *ctx)
{
	const struct fake_owner *o = ctx;
	return o->draining;
}

static void on_closed(void *ctx)
{
	struct fake_owner *o = ctx;
	o->closed++;
}

static void on_proxy_refused(void *ctx, const struct http_peer *peer, const char *why)
{
	(void)peer;
	struct fake_owner *o = ctx;
	o->proxy_refusals++;
	snprintf(o->proxy_why, sizeof(o->proxy_why), "%s", why);
}

static const struct http_connection_ops ops = {.handle = on_request,
					       .date = fixed_date,
					       .draining = is_draining,
					       .closed = on_closed,
					       .proxy_refused = on_proxy_refused};

static int setup_mode(void **state, enum http_proxy_mode mode)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->base = event_base_new();
	f->set = (struct http_connections){.base = f->base,
					   .ops = &ops,
					   .ctx = &f->owner,
					   .header_timeout_ms = 5000,
					   .idle_timeout_ms = 5000};
	int fds[2];
	if (!f->base || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		return -1;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	f->client = fds[1];
	struct http_peer peer = {.tagged = true, .tag = 7, .proxy = mode};
	ip_parse("192.0.2.1", &peer.addr);
	http_connection_accept(&f->set, fds[0], &peer, NULL);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_mode(state, HTTP_PROXY_OFF);
}

static int setup_proxy_required(void **state)
{
	return setup_mode(state, HTTP_PROXY_REQUIRED);
}

static int setup_proxy_refused(void **state)
{
	return setup_mode(state, HTTP_PROXY_REFUSED);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	http_connections_close_all(&f->set);
	if (f->owner.waiting)
		http_connection_respond(f->owner.waiting, &redirect, NULL); /* frees the gone one */
	assert_int_equal(f->set.count, 0);
	if (f->client >= 0)
		close(f->client);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void run_loop(struct fixture *f)
{
	for (int i = 0; i < 5; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static void client_send(struct fixture *f, const char *text)
{
	assert_int_equal(send(f->client, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
	run_loop(f);
}

/* What arrived for the client so far; *eof when the server closed. */
static const char *client_read(struct fixture *f, char *buf, size_t cap, bool *eof)
{
	size_t len = 0;
	*eof = false;
	for (;;) {
		ssize_t n = recv(f->client, buf + len, cap - 1 - len, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		*eof = n == 0;
		break;
	}
	buf[len] = '\0';
	return buf;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void answer_now_keeps_the_connection(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /v2/a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(f->owner.requests, 1);
	assert_string_equal(f->owner.last_target, "/v2/a");
	assert_true(f->owner.seen_tagged);
	assert_int_equal(f->owner.seen_tag, 7);
	char buf[8192];
	bool eof;
	const char *out = client_read(f, buf, sizeof(buf), &eof);
	assert_non_null(strstr(out, "HTTP/1.1 307 Temporary Redirect\r\n"));
	assert_non_null(strstr(out, "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"));
	assert_non_null(strstr(out, "Location: https://example.test/x\r\n"));
	assert_null(strstr(out, "Connection: close"));
	assert_false(eof);
	client_send(f, "GET /v2/b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 2);
	assert_int_equal(f->set.count, 1);
}

static void pending_answer_holds_the_next_request(void **state)
{
	struct fixture *f = *state;
	f->owner.answer_later = true;
	client_send(f, "GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
	/* Only the first is handed up: answers leave in request order. */
	assert_int_equal(f->owner.requests, 1);
	assert_string_equal(f->owner.last_target, "/first");
	char buf[8192];
	bool eof;
	assert_string_equal(client_read(f, buf, sizeof(buf), &eof), "");
	f->owner.answer_later = false;
	struct http_connection *conn = f->owner.waiting;
	f->owner.waiting = NULL;
	assert_false(http_connection_is_gone(conn));
	http_connection_respond(conn, &redirect, NULL);
	/* The late answer resumes reading: the second request is answered too. */
	assert_int_equal(f->owner.requests, 2);
	assert_string_equal(f->owner.last_target, "/second");
	assert_int_equal(count_of(client_read(f, buf, sizeof(buf), &eof), "HTTP/1.1 307"), 2);
}

static void client_gone_while_pending(void **state)
{
	struct fixture *f = *state;
	f->owner.answer_later = true;
	client_send(f, "GET /slow HTTP/1.1\r\n\r\n");
	assert_non_null(f->owner.waiting);
	/* Shutting down: the connection loses its socket but waits for its answer. */
	http_connections_close_all(&f->set);
	assert_true(http_connection_is_gone(f->owner.waiting));
	assert_int_equal(f->owner.closed, 0);
	assert_int_equal(f->set.count, 1);
	struct http_sent sent = {record_sent, &f->owner};
	http_connection_respond(f->owner.waiting, &redirect, &sent);
	f->owner.waiting = NULL;
	assert_int_equal(f->owner.sent_calls, 0); /* nobody reads it: nothing to tell */
	assert_int_equal(f->owner.closed, 1);
	assert_int_equal(f->set.count, 0);
}

static void draining_makes_the_answer_final(void **state)
{
	struct fixture *f = *state;
	f->owner.draining = true;
	client_send(f, "GET /v2/ HTTP/1.1\r\n\r\n");
	char buf[8192];
	bool eof;
	const char *out = client_read(f, buf, sizeof(buf), &eof);
	assert_non_null(strstr(out, "HTTP/1.1 307"));
	assert_non_null(strstr(out, "Connection: close\r\n"));
	assert_true(eof); /* half-closed after the answer (lingering for our input) */
	close(f->client);
	f->client = -1;
	run_loop(f);
	assert_int_equal(f->owner.closed, 1);
	assert_int_equal(f->set.count, 0);
}

static void drain_closes_idle_connections(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /v2/ HTTP/1.1\r\n\r\n");
	assert_int_equal(f->set.count, 1);
	http_connections_drain(&f->set);
	assert_int_equal(f->set.count, 0);
	assert_int_equal(f->owner.closed, 1);
}

static void malformed_request_is_answered_here(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /v2/ HTTP/9.9\r\n\r\n");
	assert_int_equal(f->owner.requests, 0);
	char buf[8192];
	bool eof;
	const char *out = client_read(f, buf, sizeof(buf), &eof);
	assert_non_null(strstr(out, "HTTP/1.1 505 "));
	assert_non_null(strstr(out, "Connection: close\r\n"));
}

/* A client that pipelines and does not read: the answers that do not fit the
 * socket are queued, reading stops, and everything is answered once the
 * client reads. */
static void backpressure_queues_and_resumes(void **state)
{
	struct fixture *f = *state;
	static char location[8000];
	memcpy(location, "https://example.test/", 21);
	memset(location + 21, 'a', sizeof(location) - 22);
	f->owner.location = location;
	enum { REQUESTS = 60 };
	char pipeline[REQUESTS * 32] = "";
	for (int i = 0; i < REQUESTS; i++)
		strcat(pipeline, "GET /v2/ HTTP/1.1\r\n\r\n");
	client_send(f, pipeline);
	assert_true(f->owner.requests < REQUESTS); /* the socket filled: parsing paused */
	/* Everything the client reads, so no status line is split between reads. */
	static char all[2 << 20];
	size_t len = 0;
	int answers = 0;
	for (int round = 0; round < 1000 && answers < REQUESTS; round++) {
		bool eof;
		client_read(f, all + len, sizeof(all) - len, &eof);
		assert_false(eof);
		len += strlen(all + len);
		answers = count_of(all, "HTTP/1.1 307");
		run_loop(f);
	}
	assert_int_equal(answers, REQUESTS);
	assert_int_equal(f->owner.requests, REQUESTS);
	assert_int_equal(f->set.count, 1);
}

/* The owner is told the length of each answer as serialised (what the client
 * reads), and a late answer's length before the next request is handed up,
 * so what it logs about answers keeps the order of the requests. */
static void answer_length_is_told_in_order(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /v2/a HTTP/1.1\r\n\r\n");
	char buf[8192];
	bool eof;
	size_t read_len = strlen(client_read(f, buf, sizeof(buf), &eof));
	assert_int_equal(f->owner.sent_calls, 1);
	assert_int_equal(f->owner.sent_bytes, read_len);

	f->owner.answer_later = true;
	client_send(f, "HEAD /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 2);
	f->owner.answer_later = false;
	struct http_connection *conn = f->owner.waiting;
	f->owner.waiting = NULL;
	struct response head = redirect;
	head.head = true;
	http_connection_respond(conn, &head, &(struct http_sent){record_sent, &f->owner});
	assert_int_equal(f->owner.requests, 3); /* the second was handled after */
	assert_int_equal(f->owner.sent_calls, 3);
	const char *out = client_read(f, buf, sizeof(buf), &eof);
	const char *second = strstr(out + 1, "HTTP/1.1 307");
	assert_non_null(second);
	assert_int_equal(f->owner.sent_bytes, strlen(second)); /* the last told: /second's */
	assert_int_equal(f->owner.requests_when_sent, 3);
	/* A late answer is told before the next pipelined request is handed up. */
	f->owner.sent_calls = 0;
	f->owner.answer_later = true;
	client_send(f, "GET /third HTTP/1.1\r\n\r\nGET /fourth HTTP/1.1\r\n\r\n");
	conn = f->owner.waiting;
	f->owner.waiting = NULL;
	f->owner.answer_later = true;
	http_connection_respond(conn, &redirect, &(struct http_sent){record_sent, &f->owner});
	assert_int_equal(f->owner.sent_calls, 1);
	assert_int_equal(f->owner.requests_when_sent, 4); /* told before /fourth came up */
	assert_int_equal(f->owner.requests, 5);
}

/* Another connection on the fixture's set; returns the client's end. */
static int accept_another(struct fixture *f)
{
	int fds[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	struct http_peer peer = {0};
	ip_parse("192.0.2.2", &peer.addr);
	http_connection_accept(&f->set, fds[0], &peer, NULL);
	return fds[1];
}

/* The client sends text, reads what comes back, then closes its end. */
static void exchange_and_leave(struct fixture *f, int client, const char *text)
{
	if (*text)
		assert_int_equal(send(client, text, strlen(text), MSG_NOSIGNAL),
				 (ssize_t)strlen(text));
	run_loop(f);
	char buf[8192];
	while (recv(client, buf, sizeof(buf), 0) > 0)
		;
	close(client);
	run_loop(f);
}

static void exchange_and_stay(struct fixture *f, int client, const char *text)
{
	assert_int_equal(send(client, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
	run_loop(f);
}

static uint64_t closed(const struct fixture *f, enum http_close_reason reason)
{
	return counter_read(&f->set.stats.closed[reason]);
}

/* Every accepted connection is counted once when it closes, under the first
 * cause of its end; the answers this layer gives itself by their status. */
static void closes_and_errors_are_counted(void **state)
{
	struct fixture *f = *state;
	/* The fixture's connection: a keep-alive request, then the client leaves. */
	exchange_and_leave(f, f->client, "GET /v2/ HTTP/1.1\r\n\r\n");
	f->client = -1;
	assert_int_equal(closed(f, HTTP_CLOSE_CLIENT), 1);
	/* Connection: close: archeio ends it after its answer. */
	exchange_and_leave(f, accept_another(f), "GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(closed(f, HTTP_CLOSE_SERVER), 1);
	/* 505 and a truncated request: errors (400 and 505), even though the
	 * client closes the lingering connection. */
	exchange_and_leave(f, accept_another(f), "GET /v2/ HTTP/9.9\r\n\r\n");
	int client = accept_another(f);
	assert_int_equal(send(client, "GET /v2/ HT", 11, MSG_NOSIGNAL), 11);
	shutdown(client, SHUT_WR);
	exchange_and_leave(f, client, "");
	assert_int_equal(closed(f, HTTP_CLOSE_ERROR), 2);
	assert_int_equal(counter_read(&f->set.stats.errors[HTTP_ERROR_505]), 1);
	assert_int_equal(counter_read(&f->set.stats.errors[HTTP_ERROR_400]), 1);
	/* A request line over the limit: 414, a limit. */
	static char long_line[9000];
	memcpy(long_line, "GET /", 5);
	memset(long_line + 5, 'a', sizeof(long_line) - 6);
	exchange_and_leave(f, accept_another(f), long_line);
	assert_int_equal(counter_read(&f->set.stats.errors[HTTP_ERROR_414]), 1);
	assert_int_equal(closed(f, HTTP_CLOSE_LIMIT), 1);
	/* Idle past the keep-alive timeout: a timeout. */
	f->set.idle_timeout_ms = 50;
	client = accept_another(f);
	exchange_and_stay(f, client, "GET /v2/ HTTP/1.1\r\n\r\n");
	struct timeval wait = {0, 200 * 1000};
	event_base_loopexit(f->base, &wait);
	event_base_dispatch(f->base);
	assert_int_equal(closed(f, HTTP_CLOSE_TIMEOUT), 1);
	close(client);
	/* Draining closes the idle ones: server. */
	f->set.idle_timeout_ms = 5000;
	client = accept_another(f);
	http_connections_drain(&f->set);
	assert_int_equal(closed(f, HTTP_CLOSE_SERVER), 2);
	close(client);
	assert_int_equal(counter_read(&f->set.stats.accepted), 7);
	uint64_t all = 0;
	for (int r = 0; r < HTTP_CLOSE_REASON_COUNT; r++)
		all += closed(f, (enum http_close_reason)r);
	assert_int_equal(all, 7);
	assert_int_equal(f->set.count, 0);
	assert_string_equal(http_close_reason_name(HTTP_CLOSE_LIMIT), "limit");
	assert_int_equal(http_error_status_code(HTTP_ERROR_431), 431);
}

static void send_bytes(struct fixture *f, const void *data, size_t len)
{
	assert_int_equal(send(f->client, data, len, MSG_NOSIGNAL), (ssize_t)len);
	run_loop(f);
}

/* A head that arrives a byte per read, behind a pipelined request: the
 * parser resumes where it stopped while the connection moves the
 * unfinished head to the front of its buffer and then into the big one
 * (it outgrows the 2 KiB small buffer). */
static void head_trickled_across_buffer_moves(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /first HTTP/1.1\r\n\r\nGET /sec");
	assert_int_equal(f->owner.requests, 1);
	char rest[4096];
	size_t o = (size_t)snprintf(rest, sizeof(rest), "ond HTTP/1.1\r\nX-Pad: ");
	memset(rest + o, 'a', 3000);
	o += 3000;
	o += (size_t)snprintf(rest + o, sizeof(rest) - o, "\r\nUser-Agent: t\r\n\r\n");
	for (size_t i = 0; i < o; i++) {
		assert_int_equal(f->owner.requests, 1);
		send_bytes(f, rest + i, 1);
	}
	assert_int_equal(f->owner.requests, 2);
	assert_string_equal(f->owner.last_target, "/second");
	char buf[8192];
	bool eof;
	assert_int_equal(count_of(client_read(f, buf, sizeof(buf), &eof), "HTTP/1.1 307"), 2);
	assert_false(eof);
	/* The next head starts fresh. */
	client_send(f, "GET /third HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 3);
	assert_string_equal(f->owner.last_target, "/third");
}

/* A trusted balancer's v1 header, cut anywhere: the client it names is the
 * peer above, the balancer's XDP tag is gone; the request after it is read. */
static void proxy_v1_header_in_pieces_names_the_client(void **state)
{
	struct fixture *f = *state;
	client_send(f, "PROXY TCP4 203.0.113.7 192");
	client_send(f, ".0.2.9 40000 443\r");
	assert_int_equal(f->owner.requests, 0);
	client_send(f, "\nGET /a HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 1);
	assert_string_equal(f->owner.last_target, "/a");
	assert_string_equal(f->owner.seen_addr, "203.0.113.7");
	assert_true(f->owner.seen_proxied);
	assert_false(f->owner.seen_tagged);
	char buf[4096];
	bool eof;
	assert_non_null(strstr(client_read(f, buf, sizeof(buf), &eof), "307"));
	assert_false(eof);
}

static void proxy_v2_header_and_request_in_one_segment(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[256];
	memcpy(msg, "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16);
	memcpy(msg + 16, "\xcb\x00\x71\x07\xc0\x00\x02\x01\x9c\x40\x01\xbb", 12);
	static const char req[] = "GET /b HTTP/1.1\r\n\r\n";
	memcpy(msg + 28, req, sizeof(req) - 1);
	send_bytes(f, msg, 28 + sizeof(req) - 1);
	assert_int_equal(f->owner.requests, 1);
	assert_string_equal(f->owner.last_target, "/b");
	assert_string_equal(f->owner.seen_addr, "203.0.113.7");
}

/* LOCAL: the balancer's own health check; the peer (and its tag) stay. */
static void proxy_v2_local_keeps_the_peer(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[64];
	memcpy(msg, "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
	memcpy(msg + 16, "GET /c HTTP/1.1\r\n\r\n", 19);
	send_bytes(f, msg, 35);
	assert_int_equal(f->owner.requests, 1);
	assert_string_equal(f->owner.seen_addr, "192.0.2.1");
	assert_true(f->owner.seen_tagged);
	assert_false(f->owner.seen_proxied);
}

static void proxy_required_without_header_closes(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /d HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 0);
	assert_int_equal(f->owner.proxy_refusals, 1);
	assert_string_equal(f->owner.proxy_why, "no PROXY header");
	assert_int_equal(counter_read(&f->set.stats.proxy_refused[HTTP_PROXY_REFUSED_MALFORMED]),
			 1);
	char buf[256];
	bool eof;
	/* nothing answered; closed (unread bytes may make it a reset, not an EOF) */
	assert_string_equal(client_read(f, buf, sizeof(buf), &eof), "");
	assert_int_equal(f->set.count, 0);
}

static void proxy_malformed_header_closes(void **state)
{
	struct fixture *f = *state;
	client_send(f, "PROXY TCP4 203.0.113.7 192.0.2.9 40000 99999\r\nGET / HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 0);
	assert_string_equal(f->owner.proxy_why, "v1: bad port");
	assert_int_equal(f->set.count, 0);
	assert_int_equal(counter_read(&f->set.stats.proxy_refused[HTTP_PROXY_REFUSED_MALFORMED]),
			 1);
	assert_int_equal(counter_read(&f->set.stats.closed[HTTP_CLOSE_ERROR]), 1);
}

/* A peer that is not trusted: its PROXY header is refused, not believed. */
static void proxy_header_from_untrusted_peer_is_refused(void **state)
{
	struct fixture *f = *state;
	client_send(f, "PROXY TCP4 203.0.113.7 192.0.2.9 40000 443\r\nGET / HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 0);
	assert_int_equal(f->owner.proxy_refusals, 1);
	assert_int_equal(f->set.count, 0);
	assert_int_equal(counter_read(&f->set.stats.proxy_refused[HTTP_PROXY_REFUSED_UNTRUSTED]),
			 1);
	assert_int_equal(counter_read(&f->set.stats.proxy_refused[HTTP_PROXY_REFUSED_MALFORMED]),
			 0);
}

static void untrusted_peer_without_header_is_served(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /e HTTP/1.1\r\n\r\n");
	assert_int_equal(f->owner.requests, 1);
	assert_string_equal(f->owner.seen_addr, "192.0.2.1");
	assert_true(f->owner.seen_tagged);
	assert_int_equal(f->owner.proxy_refusals, 0);
}

/* An answer that does not fit the connection's buffer becomes a 500 rather
 * than a cut header. */
static void oversized_answer_becomes_500(void **state)
{
	struct fixture *f = *state;
	static char location[20000];
	memcpy(location, "https://example.test/", 21);
	memset(location + 21, 'a', sizeof(location) - 22);
	f->owner.location = location;
	client_send(f, "GET /v2/ HTTP/1.1\r\n\r\n");
	static char buf[65536];
	bool eof;
	const char *out = client_read(f, buf, sizeof(buf), &eof);
	assert_non_null(strstr(out, "HTTP/1.1 500 "));
	assert_non_null(strstr(out, "response too large"));
	assert_null(strstr(out, "aaaaaaaa"));
	assert_int_equal(f->owner.sent_bytes, strlen(out));
}

/* The client left (both directions) while its answer was pending: the send
 * fails, the connection is closed as an error and freed. */
static void client_gone_before_a_late_answer(void **state)
{
	struct fixture *f = *state;
	f->owner.answer_later = true;
	client_send(f, "GET /slow HTTP/1.1\r\n\r\n");
	assert_non_null(f->owner.waiting);
	close(f->client);
	f->client = -1;
	struct http_connection *conn = f->owner.waiting;
	f->owner.waiting = NULL;
	http_connection_respond(conn, &redirect, &(struct http_sent){record_sent, &f->owner});
	run_loop(f);
	assert_int_equal(closed(f, HTTP_CLOSE_ERROR), 1);
	assert_int_equal(f->owner.closed, 1);
	assert_int_equal(f->set.count, 0);
}

/* Answers queued for a client that stopped reading, then the client leaves:
 * the queued send fails and the connection is closed as an error. */
static void client_gone_with_answers_queued(void **state)
{
	struct fixture *f = *state;
	static char location[8000];
	memcpy(location, "https://example.test/", 21);
	memset(location + 21, 'a', sizeof(location) - 22);
	f->owner.location = location;
	char pipeline[40 * 32] = "";
	for (int i = 0; i < 40; i++)
		strcat(pipeline, "GET /v2/ HTTP/1.1\r\n\r\n");
	client_send(f, pipeline);
	assert_true(f->owner.requests < 40); /* the socket is full: answers queued */
	close(f->client);
	f->client = -1;
	run_loop(f);
	assert_int_equal(closed(f, HTTP_CLOSE_ERROR), 1);
	assert_int_equal(f->set.count, 0);
}

/* A client that asked to close and left nothing unread: the connection is
 * closed right after the answer (a FIN, no RST: nothing is unread), without
 * lingering for the client's own FIN. */
static void connection_close_with_nothing_unread_closes_at_once(void **state)
{
	struct fixture *f = *state;
	client_send(f, "GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n");
	char buf[8192];
	bool eof;
	const char *out = client_read(f, buf, sizeof(buf), &eof);
	assert_non_null(strstr(out, "HTTP/1.1 307"));
	assert_non_null(strstr(out, "Connection: close\r\n"));
	assert_true(eof);
	assert_int_equal(f->set.count, 0); /* not waiting for the client's FIN */
	assert_int_equal(f->owner.closed, 1);
	assert_int_equal(closed(f, HTTP_CLOSE_SERVER), 1);
}

/* The same, with the request arriving only after the connection's first
 * read found nothing (it must then register and wait for it), and HTTP/1.0
 * (closes unless it asks for keep-alive). */
static void request_after_an_empty_first_read_is_answered(void **state)
{
	struct fixture *f = *state;
	run_loop(f); /* the read right after accept: nothing there yet */
	assert_int_equal(f->set.count, 1);
	client_send(f, "GET /v2/ HTTP/1.0\r\n\r\n");
	assert_int_equal(f->owner.requests, 1);
	char buf[8192];
	bool eof;
	assert_non_null(strstr(client_read(f, buf, sizeof(buf), &eof), "HTTP/1.1 307"));
	assert_true(eof);
	assert_int_equal(f->set.count, 0);
}

/* Unread input when the last answer goes out (a request pipelined after
 * "Connection: close", or a body that was never read): the connection
 * half-closes and lingers, discarding input until the client closes, so the
 * kernel never answers unread data with a RST that could destroy the answer. */
static void unread_input_makes_the_close_linger(void **state)
{
	struct fixture *f = *state;
	static const char *const heads[] = {
	    "GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
	    "GET /a HTTP/1.1\r\nConnection: close\r\nContent-Length: 5\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		int client = i == 0 ? f->client : accept_another(f);
		assert_int_equal(send(client, heads[i], strlen(heads[i]), MSG_NOSIGNAL),
				 (ssize_t)strlen(heads[i]));
		run_loop(f);
		char buf[8192];
		ssize_t n = recv(client, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_int_equal(count_of(buf, "HTTP/1.1 307"), 1);
		assert_int_equal(recv(client, buf, sizeof(buf), 0), 0);	     /* half-closed */
		assert_int_equal(f->set.count, 1);			     /* lingering */
		assert_int_equal(send(client, "abcde", 5, MSG_NOSIGNAL), 5); /* discarded */
		run_loop(f);
		assert_int_equal(f->set.count, 1);
		close(client);
		run_loop(f);
		assert_int_equal(f->set.count, 0);
		if (i == 0)
			f->client = -1;
	}
	assert_int_equal(f->owner.requests, 2); /* /b was never handed up */
}

/* A last answer given later (the handler waited, e.g. for a mirror check):
 * the socket was not watched meanwhile, so something may be unread there, and
 * the connection lingers even though the client asked to close. */
static void late_last_answer_lingers(void **state)
{
	struct fixture *f = *state;
	f->owner.answer_later = true;
	client_send(f, "GET /slow HTTP/1.1\r\nConnection: close\r\n\r\n");
	struct http_connection *conn = f->owner.waiting;
	assert_non_null(conn);
	f->owner.waiting = NULL;
	struct response resp = redirect;
	resp.keep_alive = false;
	http_connection_respond(conn, &resp, NULL);
	char buf[8192];
	bool eof;
	assert_non_null(strstr(client_read(f, buf, sizeof(buf), &eof), "HTTP/1.1 307"));
	assert_true(eof);		   /* half-closed */
	assert_int_equal(f->set.count, 1); /* lingering */
	close(f->client);
	f->client = -1;
	run_loop(f);
	assert_int_equal(f->set.count, 0);
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    TEST(answer_now_keeps_the_connection),
	    TEST(pending_answer_holds_the_next_request),
	    TEST(client_gone_while_pending),
	    TEST(draining_makes_the_answer_final),
	    TEST(drain_closes_idle_connections),
	    TEST(malformed_request_is_answered_here),
	    TEST(backpressure_queues_and_resumes),
	    TEST(answer_length_is_told_in_order),
	    TEST(closes_and_errors_are_counted),
	    TEST(head_trickled_across_buffer_moves),
	    TEST(oversized_answer_becomes_500),
	    TEST(client_gone_before_a_late_answer),
	    TEST(client_gone_with_answers_queued),
	    TEST(connection_close_with_nothing_unread_closes_at_once),
	    TEST(request_after_an_empty_first_read_is_answered),
	    TEST(unread_input_makes_the_close_linger),
	    TEST(late_last_answer_lingers),
#define TEST_REQUIRED(name) cmocka_unit_test_setup_teardown(name, setup_proxy_required, teardown)
#define TEST_REFUSED(name) cmocka_unit_test_setup_teardown(name, setup_proxy_refused, teardown)
	    TEST_REQUIRED(proxy_v1_header_in_pieces_names_the_client),
	    TEST_REQUIRED(proxy_v2_header_and_request_in_one_segment),
	    TEST_REQUIRED(proxy_v2_local_keeps_the_peer),
	    TEST_REQUIRED(proxy_required_without_header_closes),
	    TEST_REQUIRED(proxy_malformed_header_closes),
	    TEST_REFUSED(proxy_header_from_untrusted_peer_is_refused),
	    TEST_REFUSED(untrusted_peer_without_header_is_served),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
