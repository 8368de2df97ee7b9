/* The one TLS policy archeio serves with (see tls.h for why it is fixed). */
#include "tls_policy.h"

#include <string.h>

/* Mozilla's "intermediate" configuration (v5.7): TLS 1.2 suites, all AEAD
 * with forward secrecy; TLS 1.3 uses OpenSSL's default suites, which are the
 * same three Mozilla lists. */
#define INTERMEDIATE_CIPHERS                                                                       \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                               \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
#define INTERMEDIATE_GROUPS "X25519:P-256:P-384"

static const unsigned char ALPN_HTTP11[] = "http/1.1";

/* Accepts a client without ALPN (curl without it, old clients); one that
 * offers ALPN must offer http/1.1, else a fatal no_application_protocol:
 * a clean refusal for an h2-only client instead of a hang. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned int at = 0; at < inlen;) {
		unsigned int len = in[at];
		if (at + 1 + len > inlen)
			break;
		if (len == sizeof(ALPN_HTTP11) - 1 && memcmp(in + at + 1, ALPN_HTTP11, len) == 0) {
			*out = in + at + 1;
			*outlen = (unsigned char)len;
			return SSL_TLSEXT_ERR_OK;
		}
		at += 1 + len;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

SSL_CTX *tls_policy_new_ctx(bool ktls, uint32_t session_cache_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	/* IGNORE_UNEXPECTED_EOF: a client closing without close_notify is an
	 * ordinary EOF to HTTP/1.1, whose messages carry their own length. */
	uint64_t options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_SSLv3 |
			   SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
	if (ktls)
		options |= SSL_OP_ENABLE_KTLS;
	SSL_CTX_set_options(ctx, options);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, INTERMEDIATE_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, INTERMEDIATE_GROUPS) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_dh_auto(ctx, 1);
	/* Read whole records at once: one recv() per request, not header then body. */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* A write that would block is retried from the connection's queue, whose
	 * address moves as it grows. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, session_cache_size);
	static const unsigned char sid_ctx[] = "archeio";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	return ctx;
}
