/* Every address the server listens on: --listen (HTTPS when certificates are
 * configured) and each --plain-listen, each with one SO_REUSEPORT socket per
 * worker. Internal to server/. */
#ifndef ARCHEIO_SERVER_LISTENER_SET_H
#define ARCHEIO_SERVER_LISTENER_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/server/config.h"
#include "worker.h"

struct listener_addr {
	char *host;    /* NULL: every address */
	uint16_t port; /* as bound (the one picked for port 0) */
	bool tls;
	int *fds; /* one per worker; -1 once a worker took it */
};

struct listener_set {
	struct listener_addr addrs[WORKER_MAX_LISTENERS];
	size_t count;
	unsigned workers;
};

/* Opens them all, or none (err says which address failed and why). */
int listener_set_open(struct listener_set *set, const struct config *config, char *err,
		      size_t errlen);
/* Hands worker i its sockets. */
void listener_set_give(struct listener_set *set, unsigned i, struct worker *worker);
/* The bound ports, for the XDP program (which tags SYNs to these ports). */
size_t listener_set_ports(const struct listener_set *set, uint16_t *ports, size_t cap);
/* "127.0.0.1:8443 (https), [::1]:8080" */
void listener_set_describe(const struct listener_set *set, char *out, size_t cap);
/* Closes what no worker took, and frees the set. */
void listener_set_close(struct listener_set *set);

#endif
