/* The server's TLS: certificates loaded at start and on SIGHUP into the
 * holder that workers read, one ticket key ring for the process, and the
 * start-up line that says which mode TLS runs in. Internal to server/. */
#ifndef ARCHEIO_SERVER_TLS_H
#define ARCHEIO_SERVER_TLS_H

#include <stdbool.h>

#include "archeio/core/log.h"
#include "archeio/http/tls.h"
#include "archeio/http/tls_tickets.h"
#include "archeio/server/config.h"

struct server_tls {
	bool on;
	struct tls_ticket_keys tickets;
	struct tls_holder holder;
};

/* Off (and 0) without --tls-cert. -1 after logging which file failed. */
int server_tls_open(struct server_tls *tls, const struct config *config, const struct logger *log);
/* Rereads every pair; a failure keeps the certificates in force, is logged
 * with file and reason, and counted. */
void server_tls_reload(struct server_tls *tls, const struct config *config,
		       const struct logger *log);
void server_tls_close(struct server_tls *tls);

#endif
