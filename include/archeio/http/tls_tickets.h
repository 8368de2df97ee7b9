/* Session-ticket keys: one ring for the whole process, shared by every
 * certificate and kept across certificate reloads, so a client resumes on any
 * worker and after a reload. The key that encrypts new tickets is replaced
 * every `rotate_s` seconds (default 12 h: "at least daily"); the one before
 * it still decrypts, and tickets it opened are renewed under the new key.
 * Older tickets fail and the client does a full handshake. */
#ifndef ARCHEIO_HTTP_TLS_TICKETS_H
#define ARCHEIO_HTTP_TLS_TICKETS_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define TLS_TICKET_NAME_LEN 16
#define TLS_TICKET_SECRET_LEN 32

struct tls_ticket_key {
	unsigned char name[TLS_TICKET_NAME_LEN];
	unsigned char aes_key[TLS_TICKET_SECRET_LEN];
	unsigned char hmac_key[TLS_TICKET_SECRET_LEN];
	bool valid;
};

struct tls_ticket_keys {
	pthread_mutex_t lock; /* held only during full handshakes and resumptions */
	struct tls_ticket_key current, previous;
	time_t current_since;
	uint32_t rotate_s;
};

/* false when the random generator failed. */
bool tls_ticket_keys_init(struct tls_ticket_keys *keys, uint32_t rotate_s, time_t now);
void tls_ticket_keys_destroy(struct tls_ticket_keys *keys);

/* Rotates when the current key is rotate_s old; true when it rotated. Called
 * under the lock by the ticket callback; public for tests. */
bool tls_ticket_keys_rotate_if_due(struct tls_ticket_keys *keys, time_t now);

enum tls_ticket_match { TLS_TICKET_UNKNOWN, TLS_TICKET_CURRENT, TLS_TICKET_PREVIOUS };
/* Which key a ticket named `name` was made with (copied to *out). */
enum tls_ticket_match tls_ticket_keys_find(struct tls_ticket_keys *keys, const unsigned char *name,
					   struct tls_ticket_key *out);

/* Installs the ring as ctx's ticket key callback (the ring must outlive ctx's
 * sessions: it lives as long as the process). */
void tls_ticket_keys_attach(struct tls_ticket_keys *keys, SSL_CTX *ctx);

#endif
