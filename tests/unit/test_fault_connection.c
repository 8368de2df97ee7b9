/* Allocation failure sweep along the connection layer (tests/unit/helpers/fail_alloc.h),
 * libevent's allocations counted too: a connection accepted on a socketpair,
 * one request whose head outgrows the small input buffer, then two pipelined
 * ones. For N = 1, 2, ... the Nth allocation fails; the client must then get
 * every answer or the connection closed after the answers it got (never a
 * wrong or partial answer, never a hang), and the connection set must end
 * empty. Leaks: the sanitizer build. */
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
#include "helpers/fail_alloc.h"

#define ANSWER_COUNT 3

static const struct response redirect = {
    .status = 307, .location = "https://example.test/x", .keep_alive = true};

static void on_request(void *ctx, struct http_connection *conn, const struct http_request *req)
{
	int *requests = ctx;
	(*requests)++;
	struct response resp = redirect;
	resp.keep_alive = req->keep_alive;
	http_connection_respond(conn, &resp, NULL);
}

static const char *fixed_date(void *ctx)
{
	(void)ctx;
	return "Mon, 01 Jan 2024 00:00:00 GMT";
}

static bool not_draining(void *ctx)
{
	(void)ctx;
	return false;
}

static void on_closed(void *ctx)
{
	(void)ctx;
}

static const struct http_connection_ops ops = {
    .handle = on_request, .date = fixed_date, .draining = not_draining, .closed = on_closed};

static void run_loop(struct event_base *base)
{
	for (int i = 0; i < 5; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Reads what arrived; *eof when the server closed. */
static size_t client_read(int fd, char *buf, size_t len, size_t cap, bool *eof)
{
	for (;;) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		*eof = *eof || n == 0;
		break;
	}
	buf[len] = '\0';
	return len;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The client's side: what it sends, all at once where the server reads in turns. */
static void client_send(int fd, const char *text)
{
	ssize_t n = send(fd, text, strlen(text), MSG_NOSIGNAL);
	assert_true(n == (ssize_t)strlen(text) || (n < 0 && errno == EPIPE));
}

/* One run with the nth allocation failing; whether a failure was injected. */
static bool run_once(long nth, const char *long_head)
{
	struct event_base *base = event_base_new();
	assert_non_null(base);
	int requests = 0;
	struct http_connections set = {.base = base,
				       .ops = &ops,
				       .ctx = &requests,
				       .header_timeout_ms = 5000,
				       .idle_timeout_ms = 5000};
	int fds[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	struct http_peer peer = {0};
	assert_true(ip_parse("192.0.2.1", &peer.addr));

	fail_alloc_arm(nth);
	http_connection_accept(&set, fds[0], &peer, NULL);
	run_loop(base);
	client_send(fds[1], long_head);
	run_loop(base);
	client_send(fds[1], "GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\n");
	run_loop(base);
	bool fired = fail_alloc_disarm();

	char buf[16384];
	bool eof = false;
	size_t len = client_read(fds[1], buf, 0, sizeof(buf), &eof);
	http_connections_close_all(&set);
	run_loop(base);
	client_read(fds[1], buf, len, sizeof(buf), &eof);
	assert_int_equal(set.count, 0);
	close(fds[1]);
	event_base_free(base);

	/* Whole answers only, each the redirect, at most one per request. */
	int answers = count_of(buf, "HTTP/1.1 307 Temporary Redirect\r\n");
	assert_int_equal(count_of(buf, "HTTP/1.1 "), answers);
	assert_int_equal(count_of(buf, "Location: https://example.test/x\r\n"), answers);
	assert_true(answers <= requests);
	if (!eof)
		print_message("nth %ld: answers %d requests %d fired %d\n", nth, answers, requests,
			      fired);
	assert_true(eof);
	if (!fired)
		assert_int_equal(answers, ANSWER_COUNT);
	else
		assert_true(answers <= ANSWER_COUNT);
	return fired;
}

static void every_allocation_failure_on_a_connection_closes_it_cleanly(void **state)
{
	(void)state;
	/* Longer than the connection's small input buffer, within 8 KiB. */
	char long_head[4096];
	snprintf(long_head, sizeof(long_head), "GET /a HTTP/1.1\r\nX-Padding: %03000d\r\n\r\n", 0);
	long nth = 1;
	while (run_once(nth, long_head)) {
		nth++;
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
	}
	print_message("connection sweep: %ld allocations\n", nth - 1);
	assert_true(nth > 1);
}

int main(void)
{
	fail_alloc_count_libevent();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_on_a_connection_closes_it_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
