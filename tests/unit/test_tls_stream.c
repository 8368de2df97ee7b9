/* http/tls_stream: OpenSSL's non-blocking results mapped onto enum conn_io
 * and enum tls_handshake, over in-memory BIO pairs (a small pair buffer
 * makes a full socket), and the first byte peeked from a socket pair. Each
 * failure must leave OpenSSL's per-thread error queue empty, or the next
 * connection on the thread would be blamed for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers/test_certs.h"
#include "http/tls_stream.h"

struct fixture {
	char *dir;
	SSL_CTX *server_ctx, *client_ctx;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.dir = test_dir_new();
	struct test_ca *ca = test_ca_new(f.dir);
	if (!ca || !test_ca_issue(ca, f.dir, "a", "a.test", NULL))
		return -1;
	test_ca_free(ca);
	char crt[600], key[600];
	snprintf(crt, sizeof(crt), "%s/a.crt", f.dir);
	snprintf(key, sizeof(key), "%s/a.key", f.dir);
	f.server_ctx = SSL_CTX_new(TLS_server_method());
	f.client_ctx = SSL_CTX_new(TLS_client_method());
	if (!f.server_ctx || !f.client_ctx ||
	    SSL_CTX_use_certificate_chain_file(f.server_ctx, crt) != 1 ||
	    SSL_CTX_use_PrivateKey_file(f.server_ctx, key, SSL_FILETYPE_PEM) != 1)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	SSL_CTX_free(f->server_ctx);
	SSL_CTX_free(f->client_ctx);
	test_dir_remove(f->dir);
	return 0;
}

struct pair {
	SSL *client, *server;
};

/* bufsize 0: OpenSSL's default (17 KiB) each way. */
static struct pair pair_new(struct fixture *f, size_t bufsize)
{
	struct pair p = {SSL_new(f->client_ctx), SSL_new(f->server_ctx)};
	assert_non_null(p.client);
	assert_non_null(p.server);
	BIO *cb, *sb;
	assert_int_equal(BIO_new_bio_pair(&cb, bufsize, &sb, bufsize), 1);
	SSL_set_bio(p.client, cb, cb);
	SSL_set_bio(p.server, sb, sb);
	SSL_set_connect_state(p.client);
	SSL_set_accept_state(p.server);
	return p;
}

static void pair_free(struct pair *p)
{
	SSL_free(p->client);
	SSL_free(p->server);
}

/* The server side through tls_stream_handshake(), the client through OpenSSL. */
static void handshake(struct pair *p)
{
	bool client_done = false, server_done = false;
	for (int round = 0; round < 50 && !(client_done && server_done); round++) {
		if (!client_done) {
			int r = SSL_do_handshake(p->client);
			client_done = r == 1;
			assert_true(client_done ||
				    SSL_get_error(p->client, r) == SSL_ERROR_WANT_READ);
		}
		if (!server_done) {
			char why[128] = "";
			enum tls_handshake h = tls_stream_handshake(p->server, why, sizeof(why));
			server_done = h == TLS_HANDSHAKE_DONE;
			assert_true(server_done || h == TLS_HANDSHAKE_WANT_READ);
		}
	}
	assert_true(client_done && server_done);
}

static void first_byte_names_handshake_plain_http_and_garbage(void **state)
{
	(void)state;
	assert_int_equal(tls_stream_classify(0x16), TLS_FIRST_HANDSHAKE);
	assert_int_equal(tls_stream_classify('G'), TLS_FIRST_PLAIN_HTTP);
	assert_int_equal(tls_stream_classify('g'), TLS_FIRST_GARBAGE);
	assert_int_equal(tls_stream_classify(0), TLS_FIRST_GARBAGE);
}

static void peeking_waits_classifies_and_sees_the_client_gone(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	assert_int_equal(tls_stream_peek_first(sv[0]), TLS_FIRST_WAIT);
	assert_int_equal(write(sv[1], "\x16\x03\x01", 3), 3);
	assert_int_equal(tls_stream_peek_first(sv[0]), TLS_FIRST_HANDSHAKE);
	/* Peeked, not consumed: the handshake will read the byte again. */
	assert_int_equal(tls_stream_peek_first(sv[0]), TLS_FIRST_HANDSHAKE);
	close(sv[1]);
	char drain[8];
	assert_int_equal(read(sv[0], drain, sizeof(drain)), 3);
	assert_int_equal(tls_stream_peek_first(sv[0]), TLS_FIRST_GONE);
	close(sv[0]);
	assert_int_equal(tls_stream_peek_first(sv[0]), TLS_FIRST_GONE); /* EBADF */
}

static void a_handshake_with_garbage_fails_with_openssl_reason(void **state)
{
	struct pair p = pair_new(*state, 0);
	BIO *client_end = SSL_get_wbio(p.client);
	static const char junk[] = "\x16\x03\x01\x00\x05hello, not a ClientHello";
	assert_int_equal(BIO_write(client_end, junk, sizeof(junk) - 1), (int)sizeof(junk) - 1);
	char why[128] = "";
	assert_int_equal(tls_stream_handshake(p.server, why, sizeof(why)), TLS_HANDSHAKE_FAILED);
	assert_true(why[0] != '\0');
	assert_null(strstr(why, "connection closed"));
	assert_int_equal(ERR_peek_error(), 0);
	pair_free(&p);
}

static void a_handshake_with_nothing_to_say_is_closed_or_reset(void **state)
{
	struct pair p = pair_new(*state, 0);
	/* The client closes its end without a byte: EOF during the handshake. */
	BIO_shutdown_wr(SSL_get_wbio(p.client));
	char why[128] = "";
	assert_int_equal(tls_stream_handshake(p.server, why, sizeof(why)), TLS_HANDSHAKE_FAILED);
	assert_true(why[0] != '\0');
	assert_int_equal(ERR_peek_error(), 0);
	pair_free(&p);
}

static void a_full_socket_makes_the_handshake_want_write(void **state)
{
	/* 64 bytes each way: the server's flight (certificate and all) does not fit. */
	struct pair p = pair_new(*state, 64);
	int r = SSL_do_handshake(p.client);
	assert_int_equal(SSL_get_error(p.client, r), SSL_ERROR_WANT_WRITE);
	/* The client's hello waits in pieces; feed the server until it must answer. */
	enum tls_handshake h = TLS_HANDSHAKE_WANT_READ;
	for (int round = 0; round < 100 && h == TLS_HANDSHAKE_WANT_READ; round++) {
		h = tls_stream_handshake(p.server, NULL, 0);
		r = SSL_do_handshake(p.client);
		assert_int_not_equal(r, 1);
	}
	assert_int_equal(h, TLS_HANDSHAKE_WANT_WRITE);
	pair_free(&p);
}

static void records_read_and_write_both_ways(void **state)
{
	struct pair p = pair_new(*state, 0);
	handshake(&p);
	char buf[64];
	size_t n = 99;
	bool want_write = true;
	/* Nothing sent yet. */
	assert_int_equal(tls_stream_read(p.server, buf, sizeof(buf), &n, &want_write),
			 CONN_IO_WOULD_BLOCK);
	assert_int_equal(n, 0);
	assert_false(want_write);
	assert_int_equal(SSL_write(p.client, "GET / HTTP/1.1\r\n", 16), 16);
	assert_int_equal(tls_stream_read(p.server, buf, sizeof(buf), &n, &want_write), CONN_IO_OK);
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(tls_stream_write(p.server, "HTTP/1.1 200 OK\r\n", 17, &n), CONN_IO_OK);
	assert_int_equal(n, 17);
	assert_int_equal(SSL_read(p.client, buf, sizeof(buf)), 17);
	/* Nothing to write is written at once, without OpenSSL. */
	n = 99;
	assert_int_equal(tls_stream_write(p.server, "", 0, &n), CONN_IO_OK);
	assert_int_equal(n, 0);
	assert_string_equal(tls_stream_mode(p.server), "userspace");
	pair_free(&p);
}

static void close_notify_reads_as_eof(void **state)
{
	struct pair p = pair_new(*state, 0);
	handshake(&p);
	assert_int_equal(SSL_shutdown(p.client), 0);
	char buf[16];
	size_t n = 99;
	bool want_write = true;
	assert_int_equal(tls_stream_read(p.server, buf, sizeof(buf), &n, &want_write), CONN_IO_EOF);
	assert_int_equal(n, 0);
	assert_false(want_write);
	pair_free(&p);
}

static void a_corrupt_record_is_an_error_with_the_queue_cleared(void **state)
{
	struct pair p = pair_new(*state, 0);
	handshake(&p);
	/* Application data whose authentication tag cannot match. */
	static const char bad[] = "\x17\x03\x03\x00\x20"
				  "0123456789abcdef0123456789abcdef";
	assert_int_equal(BIO_write(SSL_get_wbio(p.client), bad, sizeof(bad) - 1),
			 (int)sizeof(bad) - 1);
	char buf[64];
	size_t n = 99;
	bool want_write = true;
	assert_int_equal(tls_stream_read(p.server, buf, sizeof(buf), &n, &want_write),
			 CONN_IO_ERROR);
	assert_int_equal(n, 0);
	assert_false(want_write);
	assert_int_equal(ERR_peek_error(), 0);
	pair_free(&p);
}

static void a_full_socket_makes_writes_wait(void **state)
{
	struct pair p = pair_new(*state, 0);
	handshake(&p);
	/* The client reads nothing: the pair's 17 KiB fill up. */
	static char block[4096];
	memset(block, 'x', sizeof(block));
	size_t n = 0;
	enum conn_io io = CONN_IO_OK;
	for (int i = 0; i < 64 && io == CONN_IO_OK; i++)
		io = tls_stream_write(p.server, block, sizeof(block), &n);
	assert_int_equal(io, CONN_IO_WOULD_BLOCK);
	assert_int_equal(n, 0);
	pair_free(&p);
}

static void writing_after_close_notify_is_an_error(void **state)
{
	struct pair p = pair_new(*state, 0);
	handshake(&p);
	tls_stream_close_notify(p.server);
	size_t n = 99;
	assert_int_equal(tls_stream_write(p.server, "late", 4, &n), CONN_IO_ERROR);
	assert_int_equal(n, 0);
	assert_int_equal(ERR_peek_error(), 0);
	pair_free(&p);
}

static void close_notify_before_the_handshake_leaves_no_error(void **state)
{
	struct pair p = pair_new(*state, 0);
	/* SSL_shutdown() refuses while in init: the error must not linger. */
	tls_stream_close_notify(p.server);
	assert_int_equal(ERR_peek_error(), 0);
	pair_free(&p);
}

static void a_renegotiation_behind_a_full_socket_makes_reads_want_write(void **state)
{
	struct pair p = pair_new(*state, 0);
	assert_int_equal(SSL_set_max_proto_version(p.client, TLS1_2_VERSION), 1);
	SSL_set_options(p.server, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
	handshake(&p);
	/* The client asks for a new handshake; answering it needs a write, and
	 * the server's direction is full (the client reads nothing). */
	assert_int_equal(SSL_renegotiate(p.client), 1);
	int r = SSL_do_handshake(p.client);
	assert_int_equal(SSL_get_error(p.client, r), SSL_ERROR_WANT_READ);
	/* Fill the server's direction below OpenSSL: the pair holds 17 KiB. */
	static char block[4096];
	for (int i = 0; i < 64 && BIO_write(SSL_get_wbio(p.server), block, sizeof(block)) > 0; i++)
		;
	char buf[16];
	size_t n = 99;
	bool want_write = false;
	assert_int_equal(tls_stream_read(p.server, buf, sizeof(buf), &n, &want_write),
			 CONN_IO_WOULD_BLOCK);
	assert_true(want_write);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(first_byte_names_handshake_plain_http_and_garbage),
	    cmocka_unit_test(peeking_waits_classifies_and_sees_the_client_gone),
	    cmocka_unit_test(a_handshake_with_garbage_fails_with_openssl_reason),
	    cmocka_unit_test(a_handshake_with_nothing_to_say_is_closed_or_reset),
	    cmocka_unit_test(a_full_socket_makes_the_handshake_want_write),
	    cmocka_unit_test(records_read_and_write_both_ways),
	    cmocka_unit_test(close_notify_reads_as_eof),
	    cmocka_unit_test(a_corrupt_record_is_an_error_with_the_queue_cleared),
	    cmocka_unit_test(a_full_socket_makes_writes_wait),
	    cmocka_unit_test(writing_after_close_notify_is_an_error),
	    cmocka_unit_test(close_notify_before_the_handshake_leaves_no_error),
	    cmocka_unit_test(a_renegotiation_behind_a_full_socket_makes_reads_want_write),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
