/* HTTP/1.1 connection I/O: accept a socket, read request heads, hand each
 * parsed request to the layer above, send its answers in order, and handle
 * timeouts, backpressure, lingering close and draining. What a request means
 * is decided above, through the ops given here; this layer knows nothing of
 * routing, regions or mirrors.
 *
 * A handler answers with http_connection_respond(), exactly once per request:
 * before returning (most requests) or later (the answer waits for something,
 * e.g. a mirror check). Until the answer comes the connection reads no
 * further, so answers leave in request order. */
#ifndef ARCHEIO_HTTP_CONNECTION_H
#define ARCHEIO_HTTP_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/counter.h"
#include "archeio/core/ip.h"
#include "archeio/http/http_parse.h"
#include "archeio/http/response.h"

struct event_base;
struct http_connection;
struct tls_server;

/* What happened on a TLS listener that the owner may count and log. */
enum http_tls_event {
	HTTP_TLS_ESTABLISHED,	   /* detail: "userspace" or "kTLS ..." */
	HTTP_TLS_HANDSHAKE_FAILED, /* detail: OpenSSL's reason, "not TLS" or "timeout" */
	HTTP_TLS_PLAIN_HTTP,	   /* plain HTTP sent to the TLS port: answered 400, closed */
};

/* Whether a connection must, or must not, open with a PROXY protocol header
 * (proxy_protocol.h); the accepting layer decides whom it trusts. */
enum http_proxy_mode {
	HTTP_PROXY_OFF,	     /* PROXY protocol off: the first bytes are TLS or HTTP */
	HTTP_PROXY_REQUIRED, /* a trusted balancer: a valid header first, else closed */
	HTTP_PROXY_REFUSED,  /* not trusted: a connection opening with a header is closed */
};

/* What the accepting layer knows about a connection's peer. The tag is
 * carried for the handler and means nothing here (archeio: the region the
 * XDP program tagged the connection's SYN with). After a PROXY header, addr
 * is the client it names, proxied is set and the tag is dropped. */
struct http_peer {
	struct ip_addr addr;
	bool tagged;
	uint32_t tag;
	enum http_proxy_mode proxy;
	bool proxied;
};

struct http_connection_ops {
	/* One parsed request; req and its spans are valid during the call only.
	 * Answer with http_connection_respond(conn, ...), now or later. */
	void (*handle)(void *ctx, struct http_connection *conn, const struct http_request *req);
	/* The Date header value (IMF-fixdate), valid until the next call. */
	const char *(*date)(void *ctx);
	/* True while the server drains: every answer then closes its connection. */
	bool (*draining)(void *ctx);
	/* A connection was freed (the set's count is already lower). */
	void (*closed)(void *ctx);
	/* TLS listeners only; may be NULL. */
	void (*tls_event)(void *ctx, const struct http_peer *peer, enum http_tls_event event,
			  const char *detail);
	/* A PROXY header was refused or malformed (why), or a trusted balancer
	 * sent none in time (why "timeout"); the connection closes. May be NULL. */
	void (*proxy_refused)(void *ctx, const struct http_peer *peer, const char *why);
};

/* Why a connection ended: the first cause wins (a 400 that is then
 * lingered over is an error, not a server close). */
enum http_close_reason {
	HTTP_CLOSE_CLIENT,  /* the client closed it, between requests or before one */
	HTTP_CLOSE_SERVER,  /* after a last answer (Connection: close, HTTP/1.0, a body,
			       draining) or at shutdown */
	HTTP_CLOSE_TIMEOUT, /* request head (408 or silence), idle keep-alive, TLS
			       handshake, or a client that stopped reading its answers */
	HTTP_CLOSE_LIMIT,   /* a request head over the limits (414, 431), too much unread
			       output */
	HTTP_CLOSE_ERROR,   /* a malformed request (400, 505), plain HTTP or garbage on the
			       TLS port, a failed handshake, a socket error, out of memory */
	HTTP_CLOSE_REASON_COUNT,
};

/* The answers this layer gives by itself, before any handler sees a request. */
enum http_error_status {
	HTTP_ERROR_400, /* malformed or truncated request, plain HTTP on the TLS port */
	HTTP_ERROR_408, /* request head too slow */
	HTTP_ERROR_414, /* request line too long */
	HTTP_ERROR_431, /* headers too large or too many */
	HTTP_ERROR_505, /* HTTP version not supported */
	HTTP_ERROR_STATUS_COUNT,
};

/* Why a PROXY stage refused a connection (before TLS or HTTP). */
enum http_proxy_refusal {
	HTTP_PROXY_REFUSED_UNTRUSTED, /* a header from a peer that is not a trusted proxy */
	HTTP_PROXY_REFUSED_MALFORMED, /* a trusted proxy's header is invalid or too long */
	HTTP_PROXY_REFUSED_TIMEOUT,   /* a trusted proxy sent no header within the timeout */
	HTTP_PROXY_REFUSAL_COUNT,
};

/* "client", "server", "timeout", "limit", "error". */
const char *http_close_reason_name(enum http_close_reason reason);
/* 400, 408, 414, 431, 505. */
int http_error_status_code(enum http_error_status status);

/* Counted by the event loop's thread only (core/counter.h): any thread may
 * read them. Open connections = accepted - every closed. */
struct http_connection_stats {
	counter_t accepted;
	counter_t closed[HTTP_CLOSE_REASON_COUNT];
	counter_t errors[HTTP_ERROR_STATUS_COUNT];
	counter_t proxy_refused[HTTP_PROXY_REFUSAL_COUNT];
};

/* The connections of one event loop. The owner fills the first block before
 * the first accept; the rest belongs to the connections. */
struct http_connections {
	struct event_base *base;
	const struct http_connection_ops *ops;
	void *ctx;
	uint32_t header_timeout_ms; /* a request head must arrive within this */
	uint32_t idle_timeout_ms;   /* keep-alive connections idle longer are closed */

	struct http_connection *list;
	size_t count;
	struct http_connection_stats stats;
};

/* Takes ownership of fd (a connected, non-blocking socket); closes it when
 * the connection cannot be set up. With tls (a reference is taken), the
 * client must open with a TLS handshake, within the header timeout; a
 * client that sends plain HTTP instead gets a 400 saying so, then a close. */
void http_connection_accept(struct http_connections *set, int fd, const struct http_peer *peer,
			    struct tls_server *tls);
const struct http_peer *http_connection_peer(const struct http_connection *conn);
/* Told the length of an answer as serialised (what response_write() made)
 * once it is queued and before the connection reads its next request, so
 * that what the owner logs about answers keeps the order of the requests. */
struct http_sent {
	void (*fn)(void *arg, size_t bytes);
	void *arg;
};

/* The answer to the connection's current request. resp is serialised at
 * once; its strings need not outlive the call. sent (may be NULL) is told
 * during the call. If the client went away while the answer was pending,
 * this only frees what is left of the connection and sent is not told. */
void http_connection_respond(struct http_connection *conn, const struct response *resp,
			     const struct http_sent *sent);
/* True when the client went away while an answer was pending: nobody will
 * read the answer (http_connection_respond() must still be called). */
bool http_connection_is_gone(const struct http_connection *conn);

/* Draining: closes idle connections now; the others close after their
 * current answer (ops->draining makes answers final). */
void http_connections_drain(struct http_connections *set);
/* Closes every connection. One still waiting for its answer loses its socket
 * now and is freed by the http_connection_respond() that comes later. */
void http_connections_close_all(struct http_connections *set);

#endif
