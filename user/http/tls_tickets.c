/* Session-ticket key ring (see tls_tickets.h). AES-256-CBC + HMAC-SHA256, the
 * layout OpenSSL's own default tickets use. */
#include "archeio/http/tls_tickets.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

/* The callback has no user pointer; the ring hangs off the SSL_CTX. */
static int ring_index = -1;
static pthread_once_t ring_index_once = PTHREAD_ONCE_INIT;

static void make_ring_index(void)
{
	ring_index = SSL_CTX_get_ex_new_index(0, "archeio ticket keys", NULL, NULL, NULL);
}

static bool new_key(struct tls_ticket_key *key)
{
	if (RAND_bytes(key->name, sizeof(key->name)) != 1 ||
	    RAND_bytes(key->aes_key, sizeof(key->aes_key)) != 1 ||
	    RAND_bytes(key->hmac_key, sizeof(key->hmac_key)) != 1)
		return false;
	key->valid = true;
	return true;
}

bool tls_ticket_keys_init(struct tls_ticket_keys *keys, uint32_t rotate_s, time_t now)
{
	memset(keys, 0, sizeof(*keys));
	keys->rotate_s = rotate_s;
	keys->current_since = now;
	pthread_mutex_init(&keys->lock, NULL);
	return new_key(&keys->current);
}

void tls_ticket_keys_destroy(struct tls_ticket_keys *keys)
{
	OPENSSL_cleanse(&keys->current, sizeof(keys->current));
	OPENSSL_cleanse(&keys->previous, sizeof(keys->previous));
	pthread_mutex_destroy(&keys->lock);
}

bool tls_ticket_keys_rotate_if_due(struct tls_ticket_keys *keys, time_t now)
{
	if (now - keys->current_since < (time_t)keys->rotate_s)
		return false;
	struct tls_ticket_key next;
	if (!new_key(&next))
		return false; /* keep the current key rather than fail handshakes */
	keys->previous = keys->current;
	keys->current = next;
	keys->current_since = now;
	OPENSSL_cleanse(&next, sizeof(next));
	return true;
}

enum tls_ticket_match tls_ticket_keys_find(struct tls_ticket_keys *keys, const unsigned char *name,
					   struct tls_ticket_key *out)
{
	if (keys->current.valid && memcmp(name, keys->current.name, TLS_TICKET_NAME_LEN) == 0) {
		*out = keys->current;
		return TLS_TICKET_CURRENT;
	}
	if (keys->previous.valid && memcmp(name, keys->previous.name, TLS_TICKET_NAME_LEN) == 0) {
		*out = keys->previous;
		return TLS_TICKET_PREVIOUS;
	}
	return TLS_TICKET_UNKNOWN;
}

static bool set_hmac_key(EVP_MAC_CTX *hctx, const struct tls_ticket_key *key)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key->hmac_key,
					      sizeof(key->hmac_key)),
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

/* OpenSSL's contract: 1 = use this key, 2 = decrypted but renew the ticket,
 * 0 = unknown key (full handshake), -1 = failure. */
static int ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
			   EVP_MAC_CTX *hctx, int encrypt)
{
	struct tls_ticket_keys *keys = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index);
	struct tls_ticket_key key;
	int result;
	pthread_mutex_lock(&keys->lock);
	if (encrypt) {
		tls_ticket_keys_rotate_if_due(keys, time(NULL));
		key = keys->current;
		result = 1;
	} else {
		enum tls_ticket_match m = tls_ticket_keys_find(keys, name, &key);
		result = m == TLS_TICKET_CURRENT ? 1 : m == TLS_TICKET_PREVIOUS ? 2 : 0;
	}
	pthread_mutex_unlock(&keys->lock);
	if (result == 0)
		return 0;
	if (encrypt) {
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1)
			result = -1;
		memcpy(name, key.name, TLS_TICKET_NAME_LEN);
	}
	if (result > 0 &&
	    (!set_hmac_key(hctx, &key) ||
	     EVP_CipherInit_ex(cctx, EVP_aes_256_cbc(), NULL, key.aes_key, iv, encrypt) != 1))
		result = -1;
	OPENSSL_cleanse(&key, sizeof(key));
	return result;
}

void tls_ticket_keys_attach(struct tls_ticket_keys *keys, SSL_CTX *ctx)
{
	pthread_once(&ring_index_once, make_ring_index);
	SSL_CTX_set_ex_data(ctx, ring_index, keys);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback);
}
