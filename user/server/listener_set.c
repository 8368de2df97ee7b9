#include "listener_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen_socket.h"

static int open_one(struct listener_set *set, const char *host, uint16_t port, bool tls, char *err,
		    size_t errlen)
{
	struct listener_addr *a = &set->addrs[set->count];
	*a = (struct listener_addr){.tls = tls};
	if ((host && !(a->host = strdup(host))) || !(a->fds = calloc(set->workers, sizeof(int)))) {
		free(a->host);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (listen_sockets_open(host, port, a->fds, set->workers, &a->port, err, errlen) != 0) {
		free(a->host);
		free(a->fds);
		return -1;
	}
	set->count++;
	return 0;
}

int listener_set_open(struct listener_set *set, const struct config *config, char *err,
		      size_t errlen)
{
	*set = (struct listener_set){.workers = config->workers};
	bool tls = config->tls_cert_count > 0;
	if (open_one(set, config->listen_host, config->listen_port, tls, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < config->plain_listen_count; i++) {
		char *host = NULL;
		uint16_t port = 0;
		/* Checked when the configuration was read: false is out of memory
		 * here, never a reason to listen on every address. */
		if (!config_parse_listen(config->plain_listens[i], &host, &port)) {
			snprintf(err, errlen, "--plain-listen %s: out of memory",
				 config->plain_listens[i]);
			listener_set_close(set);
			return -1;
		}
		int r = open_one(set, host, port, false, err, errlen);
		free(host);
		if (r != 0) {
			listener_set_close(set);
			return -1;
		}
	}
	return 0;
}

void listener_set_give(struct listener_set *set, unsigned i, struct worker *worker)
{
	worker->listener_count = set->count;
	for (size_t j = 0; j < set->count; j++) {
		worker->listeners[j] = (struct worker_listener){
		    .fd = set->addrs[j].fds[i],
		    .tls = set->addrs[j].tls,
		};
		set->addrs[j].fds[i] = -1;
	}
}

size_t listener_set_ports(const struct listener_set *set, uint16_t *ports, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < set->count && n < cap; i++)
		ports[n++] = set->addrs[i].port;
	return n;
}

void listener_set_describe(const struct listener_set *set, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < set->count && len < cap; i++) {
		const struct listener_addr *a = &set->addrs[i];
		bool v6 = a->host && strchr(a->host, ':');
		int n = snprintf(out + len, cap - len, "%s%s%s%s:%u%s", i ? ", " : "",
				 v6 ? "[" : "", a->host ? a->host : "*", v6 ? "]" : "", a->port,
				 a->tls ? " (https)" : "");
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

void listener_set_close(struct listener_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		struct listener_addr *a = &set->addrs[i];
		for (unsigned w = 0; w < set->workers; w++)
			if (a->fds[w] >= 0)
				close(a->fds[w]);
		free(a->fds);
		free(a->host);
	}
	set->count = 0;
}
