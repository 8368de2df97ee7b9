/* What a read or write on a connection's byte stream came to, plain or TLS.
 * Internal to http/. */
#ifndef ARCHEIO_HTTP_CONN_IO_H
#define ARCHEIO_HTTP_CONN_IO_H

enum conn_io {
	CONN_IO_OK,	     /* *n bytes moved (send: possibly 0) */
	CONN_IO_EOF,	     /* recv only: the peer closed its side */
	CONN_IO_WOULD_BLOCK, /* try again when the socket is ready */
	CONN_IO_ERROR,	     /* the connection is dead */
};

#endif
