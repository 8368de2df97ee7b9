/* The TLS side of a connection's byte stream: recognising what a client sent
 * first on a TLS port, driving the handshake, and reading and writing records
 * with OpenSSL's non-blocking calls mapped onto enum conn_io. Internal to
 * http/; connection.c owns the SSL object. */
#ifndef ARCHEIO_HTTP_TLS_STREAM_H
#define ARCHEIO_HTTP_TLS_STREAM_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "conn_io.h"

enum tls_first_bytes {
	TLS_FIRST_WAIT,	      /* nothing to read yet */
	TLS_FIRST_HANDSHAKE,  /* a TLS handshake record: go on with TLS */
	TLS_FIRST_PLAIN_HTTP, /* an HTTP request line: the client forgot https:// */
	TLS_FIRST_GARBAGE,    /* anything else */
	TLS_FIRST_GONE,	      /* closed or failed before sending anything */
};

/* Classifies the first byte the client sent (peeked, not consumed). */
enum tls_first_bytes tls_stream_peek_first(int fd);
/* Pure part of the above, for tests: what a first byte means. */
enum tls_first_bytes tls_stream_classify(unsigned char first);

enum tls_handshake {
	TLS_HANDSHAKE_DONE,
	TLS_HANDSHAKE_WANT_READ,
	TLS_HANDSHAKE_WANT_WRITE,
	TLS_HANDSHAKE_FAILED, /* why holds OpenSSL's reason */
};
enum tls_handshake tls_stream_handshake(SSL *ssl, char *why, size_t whylen);

/* *want_write is set when OpenSSL needs the socket writable to go on. */
enum conn_io tls_stream_read(SSL *ssl, char *data, size_t cap, size_t *n, bool *want_write);
enum conn_io tls_stream_write(SSL *ssl, const char *data, size_t len, size_t *n);
/* Sends close_notify once, without waiting for the peer's (best effort). */
void tls_stream_close_notify(SSL *ssl);
/* Whether OpenSSL holds bytes already read from the socket (decrypted or
 * not): the socket will not signal them again. */
bool tls_stream_has_buffered(SSL *ssl);
/* "kTLS send+recv", "kTLS send", or "userspace", for the debug log. */
const char *tls_stream_mode(SSL *ssl);

#endif
