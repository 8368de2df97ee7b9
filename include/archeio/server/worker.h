/* One event loop of the server: listener, connections, mirror checker.
 * Internal to the server; shared by worker.c and http_conn.c. */
#ifndef ARCHEIO_WORKER_H
#define ARCHEIO_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "archeio/server/config.h"
#include "archeio/core/log.h"
#include "archeio/contract/route.h"
#include "archeio/server/serve_state.h"
#include "archeio/xdp/xdp_path.h"

struct event_base;
struct event;
struct evconnlistener;
struct mirror_checker;
struct conn;
struct sockaddr;

/* Read-only after start, shared by every worker. */
struct server_shared {
	const struct config *config;
	const struct logger *log;
	struct state_holder *states;
	struct xdp_path *xdp; /* NULL without XDP */
	struct route_config route;
	bool access_log;
};

struct worker {
	unsigned index;
	pthread_t thread;
	struct server_shared *shared;
	struct event_base *base;
	int listen_fd;
	struct evconnlistener *listener;
	struct mirror_checker *checker;
	struct event *stop_event;
	struct event *drain_deadline;
	struct event *accept_resume; /* re-enables the listener after an accept error */
	bool draining;
	/* The state this worker serves with; refreshed when the generation moves. */
	struct serve_state *state;
	unsigned state_generation;
	struct conn *conns; /* open connections, for draining */
	size_t conn_count;
	time_t date_second;
	char date[40];
};

int worker_start(struct worker *worker);
/* Thread-safe: asks the worker to stop accepting and drain (5 s at most). */
void worker_request_stop(struct worker *worker);
void worker_join(struct worker *worker);

/* Used by connections. */
const char *worker_date(struct worker *worker);
struct serve_state *worker_current_state(struct worker *worker);
void worker_connection_closed(struct worker *worker);

/* http_conn.c */
void conn_accept(struct worker *worker, int fd, const struct sockaddr *peer, int peer_len);
/* Closes idle connections and makes busy ones close after their response. */
void conn_drain_all(struct worker *worker);
void conn_close_all(struct worker *worker);

#endif
