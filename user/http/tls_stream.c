/* TLS byte stream over a non-blocking socket (see tls_stream.h). */
#include "tls_stream.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <sys/socket.h>

#define TLS_RECORD_HANDSHAKE 0x16

enum tls_first_bytes tls_stream_classify(unsigned char first)
{
	if (first == TLS_RECORD_HANDSHAKE)
		return TLS_FIRST_HANDSHAKE;
	/* Every HTTP method starts with an upper-case letter (RFC 9110 9.1). */
	if (first >= 'A' && first <= 'Z')
		return TLS_FIRST_PLAIN_HTTP;
	return TLS_FIRST_GARBAGE;
}

enum tls_first_bytes tls_stream_peek_first(int fd)
{
	unsigned char first;
	ssize_t n;
	do
		n = recv(fd, &first, 1, MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return tls_stream_classify(first);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return TLS_FIRST_WAIT;
	return TLS_FIRST_GONE;
}

/* OpenSSL keeps errors in a per-thread queue; one left behind would be
 * reported against the next connection this thread serves. */
static void reason_and_clear(char *why, size_t whylen)
{
	unsigned long e = ERR_get_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	if (why)
		snprintf(why, whylen, "%s", reason ? reason : "connection closed or reset");
	ERR_clear_error();
}

enum tls_handshake tls_stream_handshake(SSL *ssl, char *why, size_t whylen)
{
	int r = SSL_do_handshake(ssl);
	if (r == 1)
		return TLS_HANDSHAKE_DONE;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return TLS_HANDSHAKE_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_HANDSHAKE_WANT_WRITE;
	default:
		reason_and_clear(why, whylen);
		return TLS_HANDSHAKE_FAILED;
	}
}

enum conn_io tls_stream_read(SSL *ssl, char *data, size_t cap, size_t *n, bool *want_write)
{
	*n = 0;
	*want_write = false;
	size_t got = 0;
	if (SSL_read_ex(ssl, data, cap, &got) == 1) {
		*n = got;
		return CONN_IO_OK;
	}
	switch (SSL_get_error(ssl, 0)) {
	case SSL_ERROR_WANT_READ:
		return CONN_IO_WOULD_BLOCK;
	case SSL_ERROR_WANT_WRITE:
		*want_write = true;
		return CONN_IO_WOULD_BLOCK;
	case SSL_ERROR_ZERO_RETURN: /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
		return CONN_IO_EOF;
	default:
		reason_and_clear(NULL, 0);
		return CONN_IO_ERROR;
	}
}

enum conn_io tls_stream_write(SSL *ssl, const char *data, size_t len, size_t *n)
{
	*n = 0;
	if (len == 0)
		return CONN_IO_OK;
	size_t sent = 0;
	if (SSL_write_ex(ssl, data, len, &sent) == 1) {
		*n = sent;
		return CONN_IO_OK;
	}
	switch (SSL_get_error(ssl, 0)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return CONN_IO_WOULD_BLOCK;
	default:
		reason_and_clear(NULL, 0);
		return CONN_IO_ERROR;
	}
}

void tls_stream_close_notify(SSL *ssl)
{
	if (SSL_shutdown(ssl) < 0)
		reason_and_clear(NULL, 0);
}

bool tls_stream_has_buffered(SSL *ssl)
{
	return SSL_has_pending(ssl) == 1;
}

const char *tls_stream_mode(SSL *ssl)
{
	bool send = BIO_get_ktls_send(SSL_get_wbio(ssl));
	bool recv_k = BIO_get_ktls_recv(SSL_get_rbio(ssl));
	return send && recv_k ? "kTLS send+recv" : send ? "kTLS send" : "userspace";
}
