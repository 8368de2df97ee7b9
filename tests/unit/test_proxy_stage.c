/* http/proxy_stage: the PROXY header read from a real (non-blocking) socket
 * pair: waiting while nothing or only part of a header is there, taking
 * exactly the header's bytes (what follows stays in the socket for TLS or
 * HTTP), refusals with their reason, and a client that leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/proxy_stage.h"

struct ends {
	int server, client;
};

static struct ends ends_new(void)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	return (struct ends){sv[0], sv[1]};
}

static void ends_free(struct ends *e)
{
	close(e->server);
	if (e->client >= 0)
		close(e->client);
}

static void send_text(struct ends *e, const char *text)
{
	assert_int_equal(write(e->client, text, strlen(text)), (ssize_t)strlen(text));
}

/* What is left in the socket after the stage. */
static void assert_left(struct ends *e, const char *want)
{
	char buf[64] = "";
	ssize_t n = recv(e->server, buf, sizeof(buf) - 1, 0);
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_string_equal(buf, want);
}

static struct http_peer trusted_peer(void)
{
	struct http_peer peer = {.tagged = true, .tag = 7, .proxy = HTTP_PROXY_REQUIRED};
	assert_true(ip_parse("127.0.0.1", &peer.addr));
	return peer;
}

static void a_header_in_pieces_names_the_client_and_leaves_the_request(void **state)
{
	(void)state;
	struct ends e = ends_new();
	struct proxy_stage stage = {.len = 0};
	struct http_peer peer = trusted_peer();
	const char *why = "stale";
	/* Nothing yet. */
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_WAIT);
	assert_null(why);
	send_text(&e, "PROXY TCP4 198.18.0.9 ");
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_WAIT);
	assert_int_equal(stage.len, 22);
	/* Taken: the socket is empty while the stage waits for the rest. */
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_WAIT);
	send_text(&e, "198.18.0.1 40000 80\r\nGET / HTTP/1.1\r\n");
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_DONE);
	assert_null(why);
	char text[64];
	ip_format(&peer.addr, text, sizeof(text));
	assert_string_equal(text, "198.18.0.9");
	assert_true(peer.proxied);
	assert_false(peer.tagged); /* the tag named the balancer */
	assert_int_equal(peer.proxy, HTTP_PROXY_OFF);
	assert_left(&e, "GET / HTTP/1.1\r\n");
	ends_free(&e);
}

static void a_local_header_keeps_the_peer(void **state)
{
	(void)state;
	struct ends e = ends_new();
	struct proxy_stage stage = {.len = 0};
	struct http_peer peer = trusted_peer();
	const char *why = NULL;
	/* v2 LOCAL, no addresses: the balancer's own health check. */
	static const uint8_t local[16] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
					  0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00};
	assert_int_equal(write(e.client, local, sizeof(local)), (ssize_t)sizeof(local));
	send_text(&e, "GET");
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_DONE);
	char text[64];
	ip_format(&peer.addr, text, sizeof(text));
	assert_string_equal(text, "127.0.0.1");
	assert_false(peer.proxied);
	assert_true(peer.tagged);
	assert_left(&e, "GET");
	ends_free(&e);
}

static void a_bad_header_is_refused_with_its_reason(void **state)
{
	(void)state;
	struct ends e = ends_new();
	struct proxy_stage stage = {.len = 0};
	struct http_peer peer = trusted_peer();
	const char *why = NULL;
	send_text(&e, "GET / HTTP/1.1\r\n");
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_CLOSE);
	assert_string_equal(why, "no PROXY header");
	assert_false(peer.proxied);
	ends_free(&e);
}

static void a_client_that_leaves_is_closed_without_a_reason(void **state)
{
	(void)state;
	struct ends e = ends_new();
	struct proxy_stage stage = {.len = 0};
	struct http_peer peer = trusted_peer();
	const char *why = "stale";
	close(e.client);
	e.client = -1;
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_CLOSE);
	assert_null(why);
	peer.proxy = HTTP_PROXY_REFUSED;
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_CLOSE);
	assert_null(why);
	ends_free(&e);
}

static void an_untrusted_peer_may_not_send_a_header(void **state)
{
	(void)state;
	struct ends e = ends_new();
	struct proxy_stage stage = {.len = 0};
	struct http_peer peer = trusted_peer();
	peer.proxy = HTTP_PROXY_REFUSED;
	const char *why = NULL;
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_WAIT);
	send_text(&e, "PROXY TCP4 198.18.0.9 198.18.0.1 40000 80\r\n");
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_CLOSE);
	assert_string_equal(why, "PROXY header from a peer that is not a trusted proxy");
	ends_free(&e);
}

static void an_untrusted_peer_goes_on_with_http_untouched(void **state)
{
	(void)state;
	struct ends e = ends_new();
	struct proxy_stage stage = {.len = 0};
	struct http_peer peer = trusted_peer();
	peer.proxy = HTTP_PROXY_REFUSED;
	const char *why = NULL;
	/* "PROX" could still become a signature; the stage does not wait for
	 * it: HTTP will refuse it as a request. */
	send_text(&e, "POST / HTTP/1.1\r\n");
	assert_int_equal(proxy_stage_read(&stage, e.server, &peer, &why), PROXY_STAGE_DONE);
	assert_null(why);
	assert_int_equal(peer.proxy, HTTP_PROXY_OFF);
	assert_left(&e, "POST / HTTP/1.1\r\n"); /* peeked, nothing taken */
	ends_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_header_in_pieces_names_the_client_and_leaves_the_request),
	    cmocka_unit_test(a_local_header_keeps_the_peer),
	    cmocka_unit_test(a_bad_header_is_refused_with_its_reason),
	    cmocka_unit_test(a_client_that_leaves_is_closed_without_a_reason),
	    cmocka_unit_test(an_untrusted_peer_may_not_send_a_header),
	    cmocka_unit_test(an_untrusted_peer_goes_on_with_http_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
