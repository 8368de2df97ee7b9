/* Loading certificate/key pairs into SSL_CTXs, choosing one by SNI, and the
 * reference-counted holder that reloads swap (see tls.h). */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/http/tls.h"
#include "archeio/http/tls_tickets.h"
#include "tls_policy.h"

struct tls_server {
	atomic_uint refs;
	size_t count;
	SSL_CTX *ctx[TLS_MAX_PAIRS];
	X509 *cert[TLS_MAX_PAIRS]; /* leaf of each pair, owned by its ctx */
};

/* OpenSSL's reason for the last failure, without its error-queue prefix. */
static void openssl_reason(char *out, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	snprintf(out, cap, "%s", reason ? reason : "unknown error");
	ERR_clear_error();
}

static bool load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
		      size_t errlen)
{
	char why[160];
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		openssl_reason(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load certificate chain: %s", cert_file, why);
		return false;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen,
				 "%s: private key does not match the certificate in %s", key_file,
				 cert_file);
			return false;
		}
		openssl_reason(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load private key: %s", key_file, why);
		return false;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: private key does not match the certificate in %s",
			 key_file, cert_file);
		return false;
	}
	return true;
}

/* SNI: the first pair whose certificate names the requested host; the
 * default (first) pair for an unknown name or no SNI, as nginx does. */
static int select_certificate(SSL *ssl, int *alert, void *arg)
{
	(void)alert;
	const struct tls_server *server = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (!name)
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 1; i < server->count; i++) {
		if (X509_check_host(server->cert[i], name, 0, 0, NULL) == 1) {
			SSL_set_SSL_CTX(ssl, server->ctx[i]);
			break;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

struct tls_server *tls_server_load(const struct tls_settings *settings,
				   struct tls_ticket_keys *tickets, char *err, size_t errlen)
{
	if (settings->pair_count == 0 || settings->pair_count > TLS_MAX_PAIRS) {
		snprintf(err, errlen, "between 1 and %d certificate/key pairs", TLS_MAX_PAIRS);
		return NULL;
	}
	struct tls_server *server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&server->refs, 1);
	for (size_t i = 0; i < settings->pair_count; i++) {
		SSL_CTX *ctx = tls_policy_new_ctx(settings->ktls, settings->session_cache_size);
		if (!ctx) {
			snprintf(err, errlen, "cannot make a TLS context");
			tls_server_unref(server);
			return NULL;
		}
		server->ctx[server->count++] = ctx;
		if (!load_pair(ctx, settings->cert_files[i], settings->key_files[i], err, errlen)) {
			tls_server_unref(server);
			return NULL;
		}
		server->cert[i] = SSL_CTX_get0_certificate(ctx);
		if (tickets)
			tls_ticket_keys_attach(tickets, ctx);
		SSL_CTX_set_tlsext_servername_callback(ctx, select_certificate);
		SSL_CTX_set_tlsext_servername_arg(ctx, server);
	}
	return server;
}

struct tls_server *tls_server_ref(struct tls_server *server)
{
	if (server)
		atomic_fetch_add_explicit(&server->refs, 1, memory_order_relaxed);
	return server;
}

void tls_server_unref(struct tls_server *server)
{
	if (!server || atomic_fetch_sub_explicit(&server->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < server->count; i++)
		SSL_CTX_free(server->ctx[i]);
	free(server);
}

SSL *tls_server_new_session(struct tls_server *server)
{
	SSL *ssl = SSL_new(server->ctx[0]);
	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

size_t tls_server_describe(const struct tls_server *server, char *out, size_t cap)
{
	size_t len = 0;
	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < server->count && len < cap; i++) {
		char subject[256];
		X509_NAME_oneline(X509_get_subject_name(server->cert[i]), subject, sizeof(subject));
		int n = snprintf(out + len, cap - len, "%s%s", i ? ", " : "", subject);
		if (n < 0)
			break;
		len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;
	}
	return len;
}

static void server_ref(void *server)
{
	tls_server_ref(server);
}

static void server_unref(void *server)
{
	tls_server_unref(server);
}

void tls_holder_init(struct tls_holder *holder, struct tls_server *initial)
{
	snapshot_holder_init(&holder->snap, initial, server_ref, server_unref);
	atomic_init(&holder->handshake_failures, 0);
	atomic_init(&holder->plain_http_refused, 0);
	atomic_init(&holder->reload_failures, 0);
}

void tls_holder_publish(struct tls_holder *holder, struct tls_server *next)
{
	snapshot_holder_publish(&holder->snap, next);
}

struct tls_server *tls_holder_acquire(struct tls_holder *holder, unsigned *generation)
{
	return snapshot_holder_acquire(&holder->snap, generation);
}

void tls_holder_destroy(struct tls_holder *holder)
{
	snapshot_holder_destroy(&holder->snap);
}
