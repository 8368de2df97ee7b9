/* Makes an SSL_CTX with archeio's fixed TLS policy (protocols, ciphers,
 * groups, options, ALPN, session cache); certificates and ticket keys are
 * added by the caller. Internal to http/. */
#ifndef ARCHEIO_HTTP_TLS_POLICY_H
#define ARCHEIO_HTTP_TLS_POLICY_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

SSL_CTX *tls_policy_new_ctx(bool ktls, uint32_t session_cache_size);

#endif
