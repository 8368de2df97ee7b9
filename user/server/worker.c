/* One worker: its event loop, the listener feeding it connections, and the
 * wiring from those connections to the request handler. The connections know
 * the worker only through the ops below, so calls go one way: worker ->
 * connection, worker -> request handler. */
#include "worker.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <string.h>

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
	if (atomic_load_explicit(&holder->generation, memory_order_acquire) !=
	    worker->state_generation) {
		serve_state_release(worker->state);
		worker->state = state_holder_acquire(holder, &worker->state_generation);
	}
	return worker->state;
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

static void reply_to_connection(void *arg, const struct response *resp)
{
	http_connection_respond(arg, resp);
}

static bool connection_gone(void *arg)
{
	return http_connection_is_gone(arg);
}

static void on_request(void *ctx, struct http_connection *conn, const struct http_request *req)
{
	struct worker *worker = ctx;
	struct request_reply reply = {
	    .send = reply_to_connection, .gone = connection_gone, .arg = conn};
	request_handle(&worker->requests, current_state(worker), http_connection_peer(conn), req,
		       &reply);
}

static const struct http_connection_ops connection_ops = {
    .handle = on_request,
    .date = worker_date,
    .draining = is_draining,
    .closed = on_connection_closed,
};

static void check_mirror(void *ctx, const char *url, mirror_check_fn done, void *arg)
{
	mirror_checker_check(ctx, url, done, arg);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
		      int len, void *arg)
{
	(void)listener;
	(void)len;
	struct worker *worker = arg;
	struct http_peer peer;
	accepted_peer_describe(worker->shared->xdp, fd, addr, &peer);
	http_connection_accept(&worker->connections, fd, &peer);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *worker = arg;
	if (worker->listener)
		evconnlistener_enable(worker->listener);
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
	struct worker *worker = arg;
	log_msg(worker->shared->log, LOG_WARN, "worker %u: accept failed: %s", worker->index,
		evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	/* EMFILE and friends: the pending connection keeps the socket readable,
	 * so retrying at once spins the loop and floods the log. Pause; the
	 * connections wait in the backlog until descriptors are free again. */
	evconnlistener_disable(listener);
	struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
	event_add(worker->accept_resume, &pause);
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
	if (worker->listener) {
		evconnlistener_free(worker->listener); /* closes the socket: no more accepts */
		worker->listener = NULL;
	}
	struct timeval deadline = {DRAIN_SECONDS, 0};
	event_add(worker->drain_deadline, &deadline);
	http_connections_drain(&worker->connections);
	finish_if_drained(worker);
}

static void *worker_main(void *arg)
{
	struct worker *worker = arg;
	event_base_dispatch(worker->base);
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
	    .xdp = shared->xdp,
	    .mirror = {.check = check_mirror, .ctx = worker->checker},
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
	};
	worker->checker = mirror_checker_new(worker->base, &options);
	worker->listener =
	    evconnlistener_new(worker->base, on_accept, worker,
			       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, worker->listen_fd);
	worker->stop_event = event_new(worker->base, -1, 0, on_stop, worker);
	worker->drain_deadline = evtimer_new(worker->base, on_drain_deadline, worker);
	worker->accept_resume = evtimer_new(worker->base, on_accept_resume, worker);
	if (!worker->checker || !worker->listener || !worker->stop_event ||
	    !worker->drain_deadline || !worker->accept_resume)
		return -1;
	worker->listen_fd = -1; /* owned by the listener now */
	wire_connections(worker);
	evconnlistener_set_error_cb(worker->listener, on_accept_error);
	worker->state = state_holder_acquire(worker->shared->states, &worker->state_generation);
	if (pthread_create(&worker->thread, NULL, worker_main, worker) != 0)
		return -1;
	return 0;
}

void worker_request_stop(struct worker *worker)
{
	event_active(worker->stop_event, EV_TIMEOUT, 0);
}

void worker_join(struct worker *worker)
{
	pthread_join(worker->thread, NULL);
	if (worker->listener)
		evconnlistener_free(worker->listener);
	if (worker->stop_event)
		event_free(worker->stop_event);
	if (worker->drain_deadline)
		event_free(worker->drain_deadline);
	if (worker->accept_resume)
		event_free(worker->accept_resume);
	serve_state_release(worker->state);
	if (worker->base)
		event_base_free(worker->base);
}
