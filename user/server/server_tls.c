#include "server_tls.h"

#include <string.h>
#include <time.h>

static struct tls_server *load(struct server_tls *tls, const struct config *config, char *err,
			       size_t errlen)
{
	struct tls_settings settings = {
	    .cert_files = (const char *const *)config->tls_certs,
	    .key_files = (const char *const *)config->tls_keys,
	    .pair_count = config->tls_cert_count,
	    .ktls = config->tls_ktls,
	    .session_cache_size = TLS_DEFAULT_SESSION_CACHE,
	};
	return tls_server_load(&settings, &tls->tickets, err, errlen);
}

/* Said once at start, so an operator reading the log knows whether records
 * are encrypted in the kernel or in this process. */
static void log_kernel_tls(const struct config *config, const struct logger *log)
{
	if (!config->tls_ktls) {
		log_msg(log, LOG_INFO,
			"TLS: kernel TLS off (--tls-ktls to use it where the kernel "
			"has it); records are encrypted in userspace");
		return;
	}
	char why[256];
	if (tls_kernel_tls_available(why, sizeof(why)))
		log_msg(log, LOG_INFO,
			"TLS: kernel TLS on: after each handshake OpenSSL hands the "
			"records to the kernel where the cipher allows");
	else
		log_msg(log, LOG_WARN,
			"TLS: kernel TLS unavailable on this kernel (%s); records are encrypted in "
			"userspace",
			why);
}

int server_tls_open(struct server_tls *tls, const struct config *config, const struct logger *log)
{
	memset(tls, 0, sizeof(*tls));
	if (config->tls_cert_count == 0)
		return 0;
	if (!tls_ticket_keys_init(&tls->tickets, TLS_DEFAULT_TICKET_ROTATE_S, time(NULL))) {
		log_msg(log, LOG_ERROR, "TLS: no random bytes for session ticket keys");
		return -1;
	}
	char err[1024];
	struct tls_server *server = load(tls, config, err, sizeof(err));
	if (!server) {
		log_msg(log, LOG_ERROR, "TLS: %s", err);
		tls_ticket_keys_destroy(&tls->tickets);
		return -1;
	}
	tls_holder_init(&tls->holder, server);
	tls->on = true;
	char names[1024];
	tls_server_describe(server, names, sizeof(names));
	log_msg(log, LOG_INFO,
		"TLS: %zu certificate(s) (%s); TLS 1.2 and 1.3, ALPN http/1.1, session tickets "
		"(keys rotated every %d h) and a session cache",
		config->tls_cert_count, names, TLS_DEFAULT_TICKET_ROTATE_S / 3600);
	log_kernel_tls(config, log);
	return 0;
}

void server_tls_reload(struct server_tls *tls, const struct config *config,
		       const struct logger *log)
{
	if (!tls->on)
		return;
	char err[1024];
	struct tls_server *next = load(tls, config, err, sizeof(err));
	if (!next) {
		unsigned long failures = atomic_fetch_add(&tls->holder.reload_failures, 1) + 1;
		log_msg(log, LOG_ERROR,
			"TLS reload failed, keeping the certificates in force: %s (failures=%lu)",
			err, failures);
		return;
	}
	char names[1024];
	tls_server_describe(next, names, sizeof(names));
	tls_holder_publish(&tls->holder, next);
	log_msg(log, LOG_INFO, "TLS certificates reloaded: %s", names);
}

void server_tls_close(struct server_tls *tls)
{
	if (!tls->on)
		return;
	tls_holder_destroy(&tls->holder);
	tls_ticket_keys_destroy(&tls->tickets);
	tls->on = false;
}
