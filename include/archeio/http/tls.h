/* HTTPS on archeio's own listeners: one loaded set of certificates (a "TLS
 * server"), immutable once loaded and reference-counted, so SIGHUP can load a
 * new set while connections that began with the old one finish with it.
 *
 * Policy, fixed rather than configurable because clients expect exactly this
 * of a registry front door: TLS 1.2 and 1.3 only, Mozilla's "intermediate"
 * cipher list, no compression, no renegotiation, ALPN `http/1.1` only (a
 * client that offers ALPN without it is refused with no_application_protocol
 * instead of being left to guess), session resumption by tickets (keys kept
 * across reloads and rotated, see tls_tickets.h) and by a server-side session
 * cache for clients without ticket support. Several certificate/key pairs
 * are chosen by SNI; the first is the default. */
#ifndef ARCHEIO_HTTP_TLS_H
#define ARCHEIO_HTTP_TLS_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/snapshot.h"

#define TLS_MAX_PAIRS 16
#define TLS_DEFAULT_SESSION_CACHE 20000
#define TLS_DEFAULT_TICKET_ROTATE_S (12 * 3600)

struct tls_ticket_keys;

struct tls_settings {
	const char *const *cert_files; /* PEM; each may hold the chain */
	const char *const *key_files;  /* PEM, same order */
	size_t pair_count;	       /* 1..TLS_MAX_PAIRS */
	bool ktls;		       /* ask OpenSSL for kernel TLS (SSL_OP_ENABLE_KTLS) */
	uint32_t session_cache_size;   /* server-side cache entries per certificate */
};

struct tls_server;

/* Loads every pair; NULL with err ("FILE: reason") when any file is missing,
 * unreadable, not PEM, or a key does not match its certificate. `tickets` is
 * shared across loads (not owned): resumption survives a certificate reload. */
struct tls_server *tls_server_load(const struct tls_settings *settings,
				   struct tls_ticket_keys *tickets, char *err, size_t errlen);
struct tls_server *tls_server_ref(struct tls_server *server);
void tls_server_unref(struct tls_server *server);
/* A new server-side session on the default certificate (SNI may switch it),
 * not yet bound to a socket. NULL when memory ran out. */
SSL *tls_server_new_session(struct tls_server *server);
/* The subject names of the loaded certificates, for the start-up log. */
size_t tls_server_describe(const struct tls_server *server, char *out, size_t cap);

/* Whether this kernel can do TLS in the kernel (the `tls` TCP ULP): probed
 * on a loopback connection. On false, why holds the reason. */
bool tls_kernel_tls_available(char *why, size_t whylen);

/* The current TLS server for new connections, replaced on reload. Workers
 * compare `generation` (one atomic load per accept) and take a new reference
 * only when it moved, so accepting takes no lock. */
struct tls_holder {
	struct snapshot_holder snap; /* of struct tls_server */
	atomic_ulong handshake_failures;
	atomic_ulong plain_http_refused;
	atomic_ulong reload_failures;
};

void tls_holder_init(struct tls_holder *holder, struct tls_server *initial);
/* Publishes next (taking over its reference) and drops the old one. */
void tls_holder_publish(struct tls_holder *holder, struct tls_server *next);
/* A new reference to the current server (NULL when TLS is off). */
struct tls_server *tls_holder_acquire(struct tls_holder *holder, unsigned *generation);
void tls_holder_destroy(struct tls_holder *holder);

#endif
