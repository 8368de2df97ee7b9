/* One client connection: read request heads, route, answer; blob requests may
 * wait for an asynchronous mirror check. Requests on a connection are answered
 * in order: reading pauses while a check is pending. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "archeio/client_addr.h"
#include "archeio/http_parse.h"
#include "archeio/mirror_check.h"
#include "archeio/response.h"
#include "archeio/worker.h"

#define MAX_REQUEST_HEAD 8192
#define RESPONSE_MAX (ROUTE_LOCATION_MAX * 3 + 1024)
#define LINGER_MS 2000

enum conn_phase {
	PHASE_HEADER, /* waiting for (the rest of) a request head */
	PHASE_IDLE,   /* keep-alive, between requests */
	PHASE_BUSY,   /* a mirror check is pending */
	PHASE_CLOSING /* last response queued, closing when written */
};

/* What a pending blob request needs when its mirror check answers. */
struct pending_blob {
	struct serve_state *state; /* held so names stay valid */
	char upstream[ROUTE_LOCATION_MAX];
	char mirror[2048];
	char client[64];
	const char *cloud;
	const char *region;
	char method[8];
	char path[256];
	bool head;
	bool keep_alive;
};

struct conn {
	struct worker *worker;
	struct bufferevent *bev;
	struct event *timer;
	struct conn *prev, *next;
	struct conn_tuple tuple;
	uint32_t tag_region;
	bool tagged;
	enum conn_phase phase;
	bool in_process; /* inside process_input: a synchronous callback must not recurse */
	bool gone;       /* peer closed while a check was pending */
	bool lingering;  /* last response written, discarding input until EOF */
	struct pending_blob *pending;
};

static void process_input(struct conn *conn);

static void conn_free(struct conn *conn)
{
	struct worker *w = conn->worker;
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		w->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	if (conn->bev)
		bufferevent_free(conn->bev);
	if (conn->timer)
		event_free(conn->timer);
	if (conn->pending) {
		serve_state_release(conn->pending->state);
		free(conn->pending);
	}
	free(conn);
	worker_connection_closed(w);
}

/* Closes now, unless a mirror check still holds the connection: then the
 * check's callback frees it. */
static void conn_close(struct conn *conn)
{
	if (conn->phase == PHASE_BUSY && conn->pending) {
		if (conn->bev) {
			bufferevent_free(conn->bev);
			conn->bev = NULL;
		}
		event_del(conn->timer);
		conn->gone = true;
		return;
	}
	conn_free(conn);
}

static void arm_timer(struct conn *conn, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	event_add(conn->timer, &tv);
}

static void send_response(struct conn *conn, const struct response *resp)
{
	char out[RESPONSE_MAX];
	size_t len = response_write(resp, worker_date(conn->worker), out, sizeof(out));
	if (len == 0) {
		struct response fallback = {.status = 500, .message = "response too large"};
		len = response_write(&fallback, worker_date(conn->worker), out, sizeof(out));
	}
	bufferevent_write(conn->bev, out, len);
	if (!resp->keep_alive)
		conn->phase = PHASE_CLOSING;
}

/* After the last response is written: half-close and keep discarding input
 * for a moment. Closing with unread input would make the kernel send a RST
 * that can destroy the response before the client reads it (RFC 9112 9.6). */
static void start_linger(struct conn *conn)
{
	if (conn->lingering)
		return;
	conn->lingering = true;
	shutdown(bufferevent_getfd(conn->bev), SHUT_WR);
	evbuffer_drain(bufferevent_get_input(conn->bev),
		       evbuffer_get_length(bufferevent_get_input(conn->bev)));
	bufferevent_enable(conn->bev, EV_READ);
	arm_timer(conn, LINGER_MS);
}

static void access_log(struct conn *conn, const char *method, const char *path,
		       const char *client, const char *cloud, const char *region, int status,
		       const char *target)
{
	const struct server_shared *shared = conn->worker->shared;
	enum log_level level = shared->access_log ? LOG_INFO : LOG_DEBUG;
	if (!log_enabled(shared->log, level))
		return;
	char status_text[8];
	snprintf(status_text, sizeof(status_text), "%d", status);
	const char *keys[] = {"client", "cloud", "region", "method", "path", "status", "target"};
	const char *values[] = {client, cloud, region, method, path, status_text, target};
	log_fields(shared->log, level, "request", keys, values, 7);
}

static void span_copy(char *dst, size_t cap, struct http_span span)
{
	size_t n = span.len < cap - 1 ? span.len : cap - 1;
	memcpy(dst, span.ptr, n);
	dst[n] = '\0';
}

static uint32_t region_of(struct conn *conn, const struct serve_state *state,
			  const struct ip_addr *addr)
{
	struct xdp_path *xdp = conn->worker->shared->xdp;
	return xdp ? xdp_path_lookup(xdp, addr) : lpm_lookup(state->trie, addr);
}

static void finish_blob(struct conn *conn, bool present)
{
	struct pending_blob *p = conn->pending;
	struct response resp = {
		.status = 307,
		.location = present ? p->mirror : p->upstream,
		.api_version = true,
		.keep_alive = p->keep_alive && !conn->worker->draining,
		.head = p->head,
	};
	access_log(conn, p->method, p->path, p->client, p->cloud, p->region, 307, resp.location);
	send_response(conn, &resp);
	serve_state_release(p->state);
	free(p);
	conn->pending = NULL;
}

static void on_mirror_checked(void *arg, bool present)
{
	struct conn *conn = arg;
	if (conn->gone) {
		conn->phase = PHASE_CLOSING;
		conn_free(conn);
		return;
	}
	conn->phase = PHASE_IDLE;
	finish_blob(conn, present);
	if (conn->phase == PHASE_CLOSING)
		return; /* on_write half-closes once the response is out */
	bufferevent_enable(conn->bev, EV_READ);
	if (conn->in_process)
		return; /* answered synchronously; process_input carries on */
	arm_timer(conn, conn->worker->shared->config->idle_timeout_ms);
	process_input(conn);
}

/* Blob: client address, region, mirror rule, then maybe an asynchronous check. */
static void handle_blob(struct conn *conn, const struct http_request *req,
			const struct route_result *route, bool head, bool keep_alive,
			struct serve_state *state)
{
	const struct config *config = conn->worker->shared->config;
	char xff[2048];
	long xff_len = http_join_xff(req, xff, sizeof(xff));
	struct ip_addr client;
	enum client_addr_result who = client_addr_resolve(
		&conn->tuple.peer, &config->proxies, config->xff_hops,
		req->xff_count && xff_len >= 0 ? xff : NULL, xff_len > 0 ? (size_t)xff_len : 0,
		&client);
	char client_text[64], path[256], method[8];
	span_copy(path, sizeof(path), req->target);
	span_copy(method, sizeof(method), req->method);
	if (who == CLIENT_ADDR_BAD_HEADER) {
		struct response resp = {.status = 400,
					.message = "missing or malformed X-Forwarded-For",
					.keep_alive = keep_alive,
					.head = head};
		ip_format(&conn->tuple.peer, client_text, sizeof(client_text));
		access_log(conn, method, path, client_text, NULL, NULL, 400, NULL);
		send_response(conn, &resp);
		return;
	}
	uint32_t region_id = (who == CLIENT_ADDR_PEER && conn->tagged) ?
				     conn->tag_region :
				     region_of(conn, state, &client);
	struct blob_choice choice;
	serve_state_choose_blob(state, region_id, route->digest, &choice);
	ip_format(&client, client_text, sizeof(client_text));
	if (!choice.use_mirror) {
		struct response resp;
		response_from_route(route, head, keep_alive, &resp);
		access_log(conn, method, path, client_text, choice.cloud, choice.region, 307,
			   route->location);
		send_response(conn, &resp);
		return;
	}
	struct pending_blob *p = calloc(1, sizeof(*p));
	if (!p) {
		struct response resp = {.status = 503, .message = "out of memory", .head = head};
		send_response(conn, &resp);
		return;
	}
	atomic_fetch_add_explicit(&state->refs, 1, memory_order_relaxed);
	p->state = state;
	snprintf(p->upstream, sizeof(p->upstream), "%s", route->location);
	snprintf(p->mirror, sizeof(p->mirror), "%s", choice.mirror_url);
	snprintf(p->client, sizeof(p->client), "%s", client_text);
	snprintf(p->method, sizeof(p->method), "%s", method);
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->cloud = choice.cloud;
	p->region = choice.region;
	p->head = head;
	p->keep_alive = keep_alive;
	conn->pending = p;
	conn->phase = PHASE_BUSY;
	bufferevent_disable(conn->bev, EV_READ);
	event_del(conn->timer);
	mirror_checker_check(conn->worker->checker, p->mirror, on_mirror_checked, conn);
}

static void handle_request(struct conn *conn, const struct http_request *req)
{
	struct worker *w = conn->worker;
	struct route_result route;
	route_request(&w->shared->route, req->method.ptr, req->method.len, req->target.ptr,
		      req->target.len, &route);
	bool head = req->method.len == 4 && memcmp(req->method.ptr, "HEAD", 4) == 0;
	/* A request body is never read: close instead of guessing at framing. */
	bool keep_alive = req->keep_alive && !req->has_body && !w->draining;
	struct serve_state *state = worker_current_state(w);
	if (route.kind == ROUTE_BLOB) {
		handle_blob(conn, req, &route, head, keep_alive, state);
		return;
	}
	struct response resp;
	response_from_route(&route, head, keep_alive, &resp);
	if (log_enabled(w->shared->log, w->shared->access_log ? LOG_INFO : LOG_DEBUG)) {
		char client[64], path[256], method[8];
		ip_format(&conn->tuple.peer, client, sizeof(client));
		span_copy(path, sizeof(path), req->target);
		span_copy(method, sizeof(method), req->method);
		access_log(conn, method, path, client, NULL, NULL, route.status, resp.location);
	}
	send_response(conn, &resp);
}

static void process_input(struct conn *conn)
{
	const struct config *config = conn->worker->shared->config;
	conn->in_process = true;
	while (conn->phase != PHASE_BUSY && conn->phase != PHASE_CLOSING) {
		struct evbuffer *input = bufferevent_get_input(conn->bev);
		size_t avail = evbuffer_get_length(input);
		if (avail == 0)
			break;
		size_t look = avail < MAX_REQUEST_HEAD ? avail : MAX_REQUEST_HEAD;
		const char *data = (const char *)evbuffer_pullup(input, (ssize_t)look);
		struct http_request req;
		size_t consumed = 0;
		int status = 400;
		enum http_parse_result r =
			http_parse_request(data, look, MAX_REQUEST_HEAD, &req, &consumed, &status);
		if (r == HTTP_PARSE_INCOMPLETE) {
			if (conn->phase != PHASE_HEADER) {
				conn->phase = PHASE_HEADER;
				arm_timer(conn, config->header_timeout_ms);
			}
			break;
		}
		if (r == HTTP_PARSE_ERROR) {
			struct response resp = {.status = status,
						.message = response_reason(status)};
			send_response(conn, &resp);
			break;
		}
		conn->phase = PHASE_IDLE;
		handle_request(conn, &req);
		evbuffer_drain(input, consumed);
		if (conn->phase == PHASE_IDLE)
			arm_timer(conn, config->idle_timeout_ms);
	}
	conn->in_process = false;
	if (conn->phase == PHASE_CLOSING && conn->bev &&
	    evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
		start_linger(conn);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;
	if (conn->phase == PHASE_CLOSING) {
		struct evbuffer *input = bufferevent_get_input(bev);
		evbuffer_drain(input, evbuffer_get_length(input));
		return;
	}
	process_input(conn);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;
	if (conn->phase == PHASE_CLOSING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		start_linger(conn);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what; /* EOF, error or write timeout: the connection is over either way */
	conn_close(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *conn = arg;
	if (conn->phase == PHASE_CLOSING) {
		conn_free(conn);
		return;
	}
	if (conn->phase == PHASE_HEADER &&
	    evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0) {
		/* A slow client: answer 408 rather than hold the worker. */
		struct response resp = {.status = 408, .message = "request head timeout"};
		send_response(conn, &resp);
		arm_timer(conn, LINGER_MS); /* bounds the write of the 408 too */
		return;
	}
	conn_close(conn);
}

static void fill_tuple(struct conn *conn, int fd, const struct sockaddr *peer)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	ip_from_sockaddr(peer, &conn->tuple.peer);
	conn->tuple.peer_port = ntohs(peer->sa_family == AF_INET6 ?
					      ((const struct sockaddr_in6 *)peer)->sin6_port :
					      ((const struct sockaddr_in *)peer)->sin_port);
	if (getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
		ip_from_sockaddr(&local, &conn->tuple.local);
		conn->tuple.local_port =
			ntohs(local.ss_family == AF_INET6 ?
				      ((const struct sockaddr_in6 *)&local)->sin6_port :
				      ((const struct sockaddr_in *)&local)->sin_port);
	}
}

void conn_accept(struct worker *worker, int fd, const struct sockaddr *peer, int peer_len)
{
	(void)peer_len;
	struct conn *conn = calloc(1, sizeof(*conn));
	if (!conn) {
		evutil_closesocket(fd);
		return;
	}
	conn->worker = worker;
	worker->conn_count++;
	conn->next = worker->conns;
	if (worker->conns)
		worker->conns->prev = conn;
	worker->conns = conn;
	fill_tuple(conn, fd, peer);
	if (worker->shared->xdp)
		conn->tagged =
			xdp_path_take_conn_tag(worker->shared->xdp, &conn->tuple, &conn->tag_region);
	conn->bev = bufferevent_socket_new(worker->base, fd, BEV_OPT_CLOSE_ON_FREE);
	conn->timer = evtimer_new(worker->base, on_timer, conn);
	if (!conn->bev || !conn->timer) {
		if (!conn->bev)
			evutil_closesocket(fd);
		conn_free(conn);
		return;
	}
	struct timeval write_timeout = {10, 0};
	bufferevent_set_timeouts(conn->bev, NULL, &write_timeout);
	bufferevent_setcb(conn->bev, on_read, on_write, on_event, conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	conn->phase = PHASE_HEADER;
	arm_timer(conn, worker->shared->config->header_timeout_ms);
}

void conn_drain_all(struct worker *worker)
{
	struct conn *next;
	for (struct conn *conn = worker->conns; conn; conn = next) {
		next = conn->next;
		bool idle = conn->phase == PHASE_IDLE ||
			    (conn->phase == PHASE_HEADER && conn->bev &&
			     evbuffer_get_length(bufferevent_get_input(conn->bev)) == 0);
		if (idle && conn->bev && evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
			conn_close(conn);
	}
}

void conn_close_all(struct worker *worker)
{
	/* Connections waiting on a check are only marked gone here; freeing the
	 * checker afterwards completes their checks, and the callback frees them. */
	struct conn *next;
	for (struct conn *conn = worker->conns; conn; conn = next) {
		next = conn->next;
		if (!conn->gone)
			conn_close(conn);
	}
}
