/* One worker: its event loop, the listener feeding it connections, and the
 * wiring from those connections to the request handler. The connections know
 * the worker only through the ops below, so calls go one way: worker ->
 * connection, worker -> request handler. */
#include "worker.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accepted_peer.h"
#include "archeio/mirrorcheck/mirror_check.h"

#define DRAIN_SECONDS 5
#define ACCEPT_PAUSE_MS 100

static const char *worker_date(void *ctx)
{
	struct worker *worker = ctx;
	time_t now = time(NULL);
	if (now != worker->date_second) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(worker->date, sizeof(worker->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		worker->date_second = now;
	}
	return worker->date;
}

static struct serve_state *current_state(struct worker *worker)
{
	struct state_holder *holder = worker->shared->states;
	if (snapshot_holder_moved(&holder->snap, worker->state_generation)) {
		serve_state_release(worker->state);
		worker->state = state_holder_acquire(holder, &worker->state_generation);
	}
	return worker->state;
}

/* The limits a request meets: a SIGHUP may have replaced them. */
static void refresh_limits(struct worker *worker)
{
	struct limits_holder *holder = worker->shared->limits;
	if (holder && snapshot_holder_moved(&holder->snap, worker->limits_generation)) {
		limits_state_release(worker->limits);
		worker->limits = limits_holder_acquire(holder, &worker->limits_generation);
		worker->requests.limits = limits_state_request_limits(worker->limits);
	}
}

static struct tls_server *current_tls(struct worker *worker)
{
	struct tls_holder *holder = worker->shared->tls;
	if (snapshot_holder_moved(&holder->snap, worker->tls_generation)) {
		tls_server_unref(worker->tls);
		worker->tls = tls_holder_acquire(holder, &worker->tls_generation);
	}
	return worker->tls;
}

static void finish_if_drained(struct worker *worker)
{
	if (worker->draining && worker->connections.count == 0)
		event_base_loopexit(worker->base, NULL);
}

static void on_connection_closed(void *ctx)
{
	finish_if_drained(ctx);
}

static bool is_draining(void *ctx)
{
	const struct worker *worker = ctx;
	return worker->draining;
}

static void reply_to_connection(void *arg, const struct response *resp,
				const struct http_sent *sent)
{
	http_connection_respond(arg, resp, sent);
}

static void on_request(void *ctx, struct http_connection *conn, const struct http_request *req)
{
	struct worker *worker = ctx;
	struct request_reply reply = {.send = reply_to_connection, .arg = conn};
	refresh_limits(worker);
	request_handle(&worker->requests, current_state(worker), http_connection_peer(conn), req,
		       &reply);
}

/* TLS listeners' events: counted for the operator, told at debug level (a
 * stranger's failed handshake is not worth a warning). */
static void on_tls_event(void *ctx, const struct http_peer *peer, enum http_tls_event event,
			 const char *detail)
{
	struct worker *worker = ctx;
	struct tls_holder *holder = worker->shared->tls;
	if (event == HTTP_TLS_HANDSHAKE_FAILED)
		atomic_fetch_add_explicit(&holder->handshake_failures, 1, memory_order_relaxed);
	else if (event == HTTP_TLS_PLAIN_HTTP)
		atomic_fetch_add_explicit(&holder->plain_http_refused, 1, memory_order_relaxed);
	if (!log_enabled(worker->shared->log, LOG_DEBUG))
		return;
	char client[64];
	ip_format(&peer->addr, client, sizeof(client));
	static const char *const what[] = {
	    [HTTP_TLS_ESTABLISHED] = "TLS established",
	    [HTTP_TLS_HANDSHAKE_FAILED] = "TLS handshake failed",
	    [HTTP_TLS_PLAIN_HTTP] = "plain HTTP on the TLS port, answered 400",
	};
	log_msg(worker->shared->log, LOG_DEBUG, "%s: client %s%s%s", what[event], client,
		detail ? ": " : "", detail ? detail : "");
}

/* Told at debug level, like TLS failures: a stranger's bad header is not
 * worth a warning. */
static void on_proxy_refused(void *ctx, const struct http_peer *peer, const char *why)
{
	struct worker *worker = ctx;
	if (!log_enabled(worker->shared->log, LOG_DEBUG))
		return;
	char client[64];
	ip_format(&peer->addr, client, sizeof(client));
	log_msg(worker->shared->log, LOG_DEBUG, "PROXY header refused: peer %s: %s", client, why);
}

static const struct http_connection_ops connection_ops = {
    .handle = on_request,
    .date = worker_date,
    .draining = is_draining,
    .closed = on_connection_closed,
    .tls_event = on_tls_event,
    .proxy_refused = on_proxy_refused,
};

static void check_mirror(void *ctx, const struct mirror_cache_key *key, const char *url,
			 mirror_check_fn done, void *arg)
{
	mirror_checker_check_key(ctx, key, url, done, arg);
}

static int cached_mirror_answer(void *ctx, const struct mirror_cache_key *key)
{
	return mirror_checker_cached(ctx, key);
}

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *addr, int len,
		      void *arg)
{
	(void)ev;
	(void)len;
	struct worker_listener *listener = arg;
	struct worker *worker = listener->worker;
	struct http_peer peer;
	accepted_peer_describe(
	    worker->shared->xdp, fd, addr,
	    listener->local_known ? (const struct sockaddr *)&listener->local : NULL, &peer);
	if (worker->shared->config->proxy_protocol)
		peer.proxy = trusted_proxies_contains(&worker->shared->config->proxies, &peer.addr)
				 ? HTTP_PROXY_REQUIRED
				 : HTTP_PROXY_REFUSED;
	http_connection_accept(&worker->connections, fd, &peer,
			       listener->tls ? current_tls(worker) : NULL);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *worker = arg;
	for (size_t i = 0; i < worker->listener_count; i++)
		if (worker->listeners[i].ev)
			evconnlistener_enable(worker->listeners[i].ev);
}

static void on_accept_error(struct evconnlistener *ev, void *arg)
{
	(void)ev;
	struct worker *worker = ((struct worker_listener *)arg)->worker;
	counter_inc(&worker->accept_errors);
	log_msg(worker->shared->log, LOG_WARN, "worker %u: accept failed: %s", worker->index,
		evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	/* EMFILE and friends: the pending connection keeps the socket readable,
	 * so retrying at once spins the loop and floods the log. Pause every
	 * listener (descriptors are short for all); the connections wait in the
	 * backlog until descriptors are free again. */
	for (size_t i = 0; i < worker->listener_count; i++)
		if (worker->listeners[i].ev)
			evconnlistener_disable(worker->listeners[i].ev);
	struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
	event_add(worker->accept_resume, &pause);
}

static void free_listeners(struct worker *worker)
{
	for (size_t i = 0; i < worker->listener_count; i++) {
		struct worker_listener *l = &worker->listeners[i];
		if (l->ev)
			evconnlistener_free(l->ev); /* closes the socket: no more accepts */
		else if (l->fd >= 0)
			close(l->fd);
		l->ev = NULL;
		l->fd = -1;
	}
}

static bool open_listeners(struct worker *worker)
{
	for (size_t i = 0; i < worker->listener_count; i++) {
		struct worker_listener *l = &worker->listeners[i];
		l->worker = worker;
		l->local_known = accepted_peer_fixed_local(l->fd, &l->local);
		l->ev = evconnlistener_new(worker->base, on_accept, l,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, l->fd);
		if (!l->ev)
			return false;
		l->fd = -1; /* owned by the listener now */
		evconnlistener_set_error_cb(l->ev, on_accept_error);
	}
	return true;
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *worker = arg;
	log_msg(worker->shared->log, LOG_WARN, "worker %u: %zu connections still open after %d s",
		worker->index, worker->connections.count, DRAIN_SECONDS);
	event_base_loopexit(worker->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *worker = arg;
	if (worker->draining)
		return;
	worker->draining = true;
	atomic_store(&worker->serving, false);
	free_listeners(worker);
	struct timeval deadline = {DRAIN_SECONDS, 0};
	event_add(worker->drain_deadline, &deadline);
	http_connections_drain(&worker->connections);
	finish_if_drained(worker);
}

static void *worker_main(void *arg)
{
	struct worker *worker = arg;
	event_base_dispatch(worker->base);
	atomic_store(&worker->serving, false);
	http_connections_close_all(&worker->connections);
	mirror_checker_free(worker->checker);
	worker->checker = NULL;
	worker->requests.mirror.ctx = NULL; /* a NULL checker answers "absent" */
	return NULL;
}

/* Connections hand their requests to this worker's request handler, which
 * asks this worker's mirror checker. */
static void wire_connections(struct worker *worker)
{
	const struct server_shared *shared = worker->shared;
	worker->connections = (struct http_connections){
	    .base = worker->base,
	    .ops = &connection_ops,
	    .ctx = worker,
	    .header_timeout_ms = shared->config->header_timeout_ms,
	    .idle_timeout_ms = shared->config->idle_timeout_ms,
	};
	worker->requests = (struct request_handler){
	    .route = &shared->route,
	    .config = shared->config,
	    .log = shared->log,
	    .mirror = {.check = check_mirror,
		       .cached = cached_mirror_answer,
		       .ctx = worker->checker},
	    .limits = NULL, /* refresh_limits() */
	    .counters = &worker->request_counters,
	};
}

int worker_start(struct worker *worker)
{
	const struct config *config = worker->shared->config;
	if (!(worker->base = event_base_new()))
		return -1;
	struct mirror_checker_options options = {
	    .cache = {.max_entries = config->cache_entries,
		      .present_ttl_ms = (uint64_t)config->present_ttl_s * 1000,
		      .absent_ttl_ms = (uint64_t)config->absent_ttl_s * 1000},
	    .timeout_ms = config->mirror_timeout_ms,
	    .probe_interval_ms = config->probe_interval_ms,
	    .ca_file = config->ca_file,
	    .log = worker->shared->log,
	    .health = worker->shared->mirror_health,
	    .stats = &worker->check_stats,
	};
	worker->checker = mirror_checker_new(worker->base, &options);
	bool listening = open_listeners(worker);
	worker->stop_event = event_new(worker->base, -1, 0, on_stop, worker);
	worker->drain_deadline = evtimer_new(worker->base, on_drain_deadline, worker);
	worker->accept_resume = evtimer_new(worker->base, on_accept_resume, worker);
	if (!worker->checker || !listening || !worker->stop_event || !worker->drain_deadline ||
	    !worker->accept_resume)
		return -1;
	wire_connections(worker);
	worker->state = state_holder_acquire(worker->shared->states, &worker->state_generation);
	if (worker->shared->tls)
		worker->tls = tls_holder_acquire(worker->shared->tls, &worker->tls_generation);
	if (worker->shared->limits) {
		worker->limits =
		    limits_holder_acquire(worker->shared->limits, &worker->limits_generation);
		worker->requests.limits = limits_state_request_limits(worker->limits);
	}
	/* Set before the thread runs: the loop is about to accept. */
	atomic_store(&worker->serving, true);
	if (pthread_create(&worker->thread, NULL, worker_main, worker) != 0) {
		atomic_store(&worker->serving, false);
		return -1;
	}
	return 0;
}

void worker_request_stop(struct worker *worker)
{
	event_active(worker->stop_event, EV_TIMEOUT, 0);
}

void worker_join(struct worker *worker)
{
	pthread_join(worker->thread, NULL);
	free_listeners(worker);
	if (worker->stop_event)
		event_free(worker->stop_event);
	if (worker->drain_deadline)
		event_free(worker->drain_deadline);
	if (worker->accept_resume)
		event_free(worker->accept_resume);
	serve_state_release(worker->state);
	tls_server_unref(worker->tls);
	limits_state_release(worker->limits);
	metrics_requests_free(&worker->request_counters);
	if (worker->base)
		event_base_free(worker->base);
}
