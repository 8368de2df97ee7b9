/* One event loop of the server: listener, connections, mirror checker, and
 * the request handler the connections hand their requests to. Internal to
 * the server: server.c starts and stops workers. */
#ifndef ARCHEIO_SERVER_WORKER_H
#define ARCHEIO_SERVER_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "archeio/contract/route.h"
#include "archeio/core/log.h"
#include "archeio/http/connection.h"
#include "archeio/http/tls.h"
#include "archeio/metrics/request_counters.h"
#include "archeio/mirrorcheck/mirror_check.h"
#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"
#include "archeio/xdp/xdp_path.h"
#include "limits_state.h"
#include "request.h"

struct event_base;
struct event;
struct evconnlistener;
struct mirror_checker;
struct mirror_health;

/* Read-only after start, shared by every worker. */
struct server_shared {
	const struct config *config;
	const struct logger *log;
	struct state_holder *states;
	struct xdp_path *xdp;	/* NULL without XDP */
	struct tls_holder *tls; /* NULL without TLS */
	struct route_config route;
	/* Failing mirror origins, shared by the workers' checkers so they warn
	 * once between them (NULL: each checker keeps its own). */
	struct mirror_health *mirror_health;
	/* The request limits in force (--rate-limit, --limits-file): buckets
	 * shared by every worker, replaced on SIGHUP. */
	struct limits_holder *limits;
};

/* --listen, then each --plain-listen. */
#define WORKER_MAX_LISTENERS (1 + CONFIG_MAX_PLAIN_LISTENS)

struct worker;

/* One listening socket of a worker. */
struct worker_listener {
	struct worker *worker;
	int fd; /* -1 once the evconnlistener owns it */
	bool tls;
	struct evconnlistener *ev;
	/* The listener's own address when it is bound to one (not "any"):
	 * every accepted connection's local address, known without asking. */
	bool local_known;
	struct sockaddr_storage local;
};

struct worker {
	unsigned index;
	pthread_t thread;
	struct server_shared *shared;
	struct event_base *base;
	struct worker_listener listeners[WORKER_MAX_LISTENERS];
	size_t listener_count;
	struct mirror_checker *checker;
	struct event *stop_event;
	struct event *drain_deadline;
	struct event *accept_resume; /* re-enables the listener after an accept error */
	bool draining;
	/* The state this worker serves with; refreshed when the generation moves. */
	struct serve_state *state;
	unsigned state_generation;
	/* The certificates new TLS connections get; refreshed likewise. */
	struct tls_server *tls;
	unsigned tls_generation;
	/* The request limits; requests.limits points into it. Refreshed likewise. */
	struct limits_state *limits;
	unsigned limits_generation;
	struct http_connections connections; /* .stats: this worker's connections */
	struct request_handler requests;
	time_t date_second;
	char date[40];
	/* What this worker counts for the metrics; only its thread writes
	 * (core/counter.h), the main thread sums them when scraped. */
	struct metrics_requests request_counters;
	struct mirror_check_stats check_stats;
	counter_t accept_errors;
	atomic_bool serving; /* its loop runs and it accepts (not draining) */
};

int worker_start(struct worker *worker);
/* Thread-safe: asks the worker to stop accepting and drain (5 s at most). */
void worker_request_stop(struct worker *worker);
void worker_join(struct worker *worker);

#endif
