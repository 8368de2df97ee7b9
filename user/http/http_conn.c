/* One client connection: read request heads, route, answer; blob requests may
 * wait for an asynchronous mirror check. Requests on a connection are answered
 * in order: reading pauses while a check is pending.
 *
 * Plain events on the socket rather than bufferevents: a response is sent
 * with one send() straight away, and the read event stays registered, so a
 * keep-alive request costs one recv() and one send() and no epoll_ctl or
 * FIONREAD ioctl. Output is buffered only when the socket would block. */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/geo/client_addr.h"
#include "http_parse.h"
#include "archeio/mirrorcheck/mirror_check.h"
#include "response.h"
#include "archeio/server/worker.h"

#define MAX_REQUEST_HEAD 8192
#define RESPONSE_MAX (ROUTE_LOCATION_MAX * 3 + 1024)
#define LINGER_MS 2000
#define WRITE_TIMEOUT_MS 10000
#define SMALL_HEAD 2048

enum conn_phase {
	PHASE_HEADER, /* waiting for (the rest of) a request head */
	PHASE_IDLE,   /* keep-alive, between requests */
	PHASE_BUSY,   /* a mirror check is pending */
	PHASE_CLOSING /* last response queued, closing when written */
};

/* What a pending blob request needs when its mirror check answers. */
struct pending_blob {
	struct serve_state *state; /* held so names stay valid */
	char *upstream;		   /* points into urls */
	char *mirror;		   /* points into urls */
	char client[64];
	const char *cloud;
	const char *region;
	char method[8];
	char path[256];
	bool head;
	bool keep_alive;
	char urls[]; /* upstream URL, NUL, mirror URL, NUL */
};

struct conn {
	struct worker *worker;
	int fd;
	struct event *ev_read;
	struct event *ev_write;
	struct event *timer;
	struct conn *prev, *next;
	struct conn_tuple tuple;
	uint32_t tag_region;
	bool tagged;
	enum conn_phase phase;
	bool in_process; /* inside process_input: a synchronous callback must not recurse */
	bool gone;	 /* closed while a check was pending: the check's callback frees */
	bool lingering;	 /* last response written, discarding input until EOF */
	bool peer_eof;	 /* client half-closed: answer what was read, then close */
	struct pending_blob *pending;
	char *out; /* unsent output, only when the socket would block */
	size_t out_len, out_off, out_cap;
	/* Request bytes: a small buffer inside the connection, replaced by a
	 * MAX_REQUEST_HEAD one only for a request that needs it, so idle
	 * keep-alive connections stay small. */
	char *in;
	size_t in_len, in_cap;
	char in_small[SMALL_HEAD];
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
	if (conn->ev_read)
		event_free(conn->ev_read);
	if (conn->ev_write)
		event_free(conn->ev_write);
	if (conn->timer)
		event_free(conn->timer);
	if (conn->fd >= 0)
		close(conn->fd);
	if (conn->pending) {
		serve_state_release(conn->pending->state);
		free(conn->pending);
	}
	free(conn->out);
	if (conn->in != conn->in_small)
		free(conn->in);
	free(conn);
	worker_connection_closed(w);
}

/* Closes now, unless a mirror check still holds the connection: then the
 * socket goes now and the check's callback frees the rest. */
static void conn_close(struct conn *conn)
{
	if (conn->phase == PHASE_BUSY && conn->pending) {
		event_del(conn->ev_read);
		event_del(conn->ev_write);
		event_del(conn->timer);
		if (conn->fd >= 0)
			close(conn->fd);
		conn->fd = -1;
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

/* After the last response is written: half-close and keep discarding input
 * for a moment. Closing with unread input would make the kernel send a RST
 * that can destroy the response before the client reads it (RFC 9112 9.6). */
static void start_linger(struct conn *conn)
{
	if (conn->lingering)
		return;
	if (conn->peer_eof) {
		conn_free(conn);
		return;
	}
	conn->lingering = true;
	shutdown(conn->fd, SHUT_WR);
	conn->in_len = 0;
	event_add(conn->ev_read, NULL);
	arm_timer(conn, LINGER_MS);
}

/* Queues bytes after a partial send; false when memory ran out. */
static bool queue_output(struct conn *conn, const char *data, size_t len)
{
	if (conn->out_off > 0 && conn->out_off == conn->out_len)
		conn->out_off = conn->out_len = 0;
	if (conn->out_len + len > conn->out_cap) {
		size_t cap = conn->out_cap ? conn->out_cap * 2 : 4096;
		while (cap < conn->out_len + len)
			cap *= 2;
		char *grown = realloc(conn->out, cap);
		if (!grown)
			return false;
		conn->out = grown;
		conn->out_cap = cap;
	}
	memcpy(conn->out + conn->out_len, data, len);
	conn->out_len += len;
	return true;
}

static bool output_pending(const struct conn *conn)
{
	return conn->out_len > conn->out_off;
}

/* Writes what is queued; returns false when the connection is dead. */
static bool flush_output(struct conn *conn)
{
	while (output_pending(conn)) {
		ssize_t n = send(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off,
				 MSG_NOSIGNAL);
		if (n > 0) {
			conn->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct timeval tv = {WRITE_TIMEOUT_MS / 1000, 0};
			event_add(conn->ev_write, &tv);
			return true;
		}
		return false;
	}
	conn->out_off = conn->out_len = 0;
	event_del(conn->ev_write);
	return true;
}

static void write_bytes(struct conn *conn, const char *data, size_t len)
{
	if (conn->fd < 0)
		return;
	if (!output_pending(conn)) {
		ssize_t n;
		do
			n = send(conn->fd, data, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)len)
			return;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn->phase = PHASE_CLOSING; /* peer gone: nothing more to say */
			conn->peer_eof = true;
			return;
		}
		size_t sent = n > 0 ? (size_t)n : 0;
		data += sent;
		len -= sent;
	}
	if (!queue_output(conn, data, len)) {
		conn->phase = PHASE_CLOSING;
		conn->peer_eof = true;
		return;
	}
	struct timeval tv = {WRITE_TIMEOUT_MS / 1000, 0};
	event_add(conn->ev_write, &tv);
}

static void send_response(struct conn *conn, const struct response *resp)
{
	char out[RESPONSE_MAX];
	size_t len = response_write(resp, worker_date(conn->worker), out, sizeof(out));
	if (len == 0) {
		struct response fallback = {.status = 500, .message = "response too large"};
		len = response_write(&fallback, worker_date(conn->worker), out, sizeof(out));
	}
	write_bytes(conn, out, len);
	if (!resp->keep_alive)
		conn->phase = PHASE_CLOSING;
}

/* After a response: close if it was the last one, else read on. */
static void resume_after_response(struct conn *conn)
{
	if (conn->phase == PHASE_CLOSING) {
		if (!output_pending(conn))
			start_linger(conn);
		return;
	}
	if (conn->peer_eof && conn->in_len == 0 && !output_pending(conn)) {
		conn_free(conn);
		return;
	}
	if (!conn->peer_eof)
		event_add(conn->ev_read, NULL);
	arm_timer(conn, conn->worker->shared->config->idle_timeout_ms);
	process_input(conn);
}

static void access_log(struct conn *conn, const char *method, const char *path, const char *client,
		       const char *cloud, const char *region, int status, const char *target)
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
	return xdp ? xdp_path_lookup(xdp, addr) : range_table_lookup(state->table, addr);
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
	if (conn->in_process)
		return; /* answered synchronously (cache hit); process_input carries on */
	resume_after_response(conn);
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
	enum client_addr_result who =
	    client_addr_resolve(&conn->tuple.peer, &config->proxies, config->xff_hops,
				req->xff_count && xff_len >= 0 ? xff : NULL,
				xff_len > 0 ? (size_t)xff_len : 0, &client);
	/* Text forms only for the access log or a pending check: formatting
	 * addresses costs more than routing. */
	const struct server_shared *shared = conn->worker->shared;
	bool logging = log_enabled(shared->log, shared->access_log ? LOG_INFO : LOG_DEBUG);
	char client_text[64] = "", path[256] = "", method[8] = "";
	if (logging) {
		span_copy(path, sizeof(path), req->target);
		span_copy(method, sizeof(method), req->method);
	}
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
	uint32_t region_id = (who == CLIENT_ADDR_PEER && conn->tagged)
				 ? conn->tag_region
				 : region_of(conn, state, &client);
	struct blob_choice choice;
	serve_state_choose_blob(state, region_id, route->digest, &choice);
	if (logging)
		ip_format(&client, client_text, sizeof(client_text));
	if (!choice.use_mirror) {
		struct response resp;
		response_from_route(route, head, keep_alive, &resp);
		access_log(conn, method, path, client_text, choice.cloud, choice.region, 307,
			   route->location);
		send_response(conn, &resp);
		return;
	}
	/* Sized to the two URLs: a pending check should not pin 10 KiB. */
	size_t upstream_len = strlen(route->location), mirror_len = strlen(choice.mirror_url);
	struct pending_blob *p = malloc(sizeof(*p) + upstream_len + mirror_len + 2);
	if (!p) {
		struct response resp = {.status = 503, .message = "out of memory", .head = head};
		send_response(conn, &resp);
		return;
	}
	atomic_fetch_add_explicit(&state->refs, 1, memory_order_relaxed);
	p->state = state;
	p->upstream = p->urls;
	p->mirror = p->urls + upstream_len + 1;
	memcpy(p->upstream, route->location, upstream_len + 1);
	memcpy(p->mirror, choice.mirror_url, mirror_len + 1);
	memcpy(p->client, client_text, sizeof(p->client));
	memcpy(p->method, method, sizeof(p->method));
	memcpy(p->path, path, sizeof(p->path));
	p->cloud = choice.cloud;
	p->region = choice.region;
	p->head = head;
	p->keep_alive = keep_alive;
	conn->pending = p;
	conn->phase = PHASE_BUSY;
	mirror_checker_check(conn->worker->checker, p->mirror, on_mirror_checked, conn);
	/* Still waiting (no cached answer): stop reading until the answer comes.
	 * A cache hit never gets here busy, so it costs no epoll_ctl. */
	if (conn->phase == PHASE_BUSY) {
		event_del(conn->ev_read);
		event_del(conn->timer);
	}
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
	size_t at = 0;
	/* Queued output means the client is not reading: parse no further until
	 * it does, so a pipelining client cannot make the answers pile up. */
	while (conn->phase != PHASE_BUSY && conn->phase != PHASE_CLOSING && !output_pending(conn) &&
	       at < conn->in_len) {
		struct http_request req;
		size_t consumed = 0;
		int status = 400;
		enum http_parse_result r = http_parse_request(
		    conn->in + at, conn->in_len - at, MAX_REQUEST_HEAD, &req, &consumed, &status);
		if (r == HTTP_PARSE_INCOMPLETE) {
			if (conn->peer_eof) {
				struct response resp = {.status = 400,
							.message = "truncated request"};
				send_response(conn, &resp);
				break;
			}
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
		at += consumed;
		if (conn->phase == PHASE_IDLE)
			arm_timer(conn, config->idle_timeout_ms);
	}
	/* Keep the unparsed rest (a partial or pipelined request) at the front. */
	if (at > 0) {
		memmove(conn->in, conn->in + at, conn->in_len - at);
		conn->in_len -= at;
	}
	conn->in_process = false;
	if (conn->phase == PHASE_CLOSING) {
		if (!output_pending(conn))
			start_linger(conn);
	} else if (conn->peer_eof && conn->phase != PHASE_BUSY && !output_pending(conn)) {
		conn_free(conn);
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct conn *conn = arg;
	if (conn->lingering) {
		char discard[4096];
		ssize_t n = recv(fd, discard, sizeof(discard), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_free(conn);
		return;
	}
	if (output_pending(conn)) {
		/* Backpressure: the kernel buffers fill and the client's sends stall;
		 * on_writable resumes reading once the answers are out. */
		event_del(conn->ev_read);
		return;
	}
	if (conn->in_len == conn->in_cap && conn->in_cap < MAX_REQUEST_HEAD) {
		char *big = malloc(MAX_REQUEST_HEAD);
		if (!big) {
			conn_close(conn);
			return;
		}
		memcpy(big, conn->in, conn->in_len);
		conn->in = big;
		conn->in_cap = MAX_REQUEST_HEAD;
	}
	ssize_t n = recv(fd, conn->in + conn->in_len, conn->in_cap - conn->in_len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(conn);
		return;
	}
	if (n == 0) {
		event_del(conn->ev_read);
		conn->peer_eof = true;
		if (conn->in_len == 0) {
			conn_close(conn);
			return;
		}
	}
	conn->in_len += (size_t)n;
	process_input(conn);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	struct conn *conn = arg;
	if ((what & EV_TIMEOUT) || !flush_output(conn)) {
		conn_close(conn); /* a client that does not read its answers */
		return;
	}
	if (output_pending(conn) || conn->phase == PHASE_BUSY)
		return;
	if (conn->phase == PHASE_CLOSING)
		start_linger(conn);
	else
		resume_after_response(conn); /* requests read before the stall, then read on */
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *conn = arg;
	if (conn->phase == PHASE_IDLE && output_pending(conn))
		return; /* not idle but writing: the write timeout bounds it, on_writable re-arms */
	if (conn->phase == PHASE_HEADER && conn->in_len > 0 && !conn->lingering) {
		/* A slow client: answer 408 rather than hold the worker. */
		struct response resp = {.status = 408, .message = "request head timeout"};
		send_response(conn, &resp);
		if (!output_pending(conn))
			start_linger(conn);
		else
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
	conn->tuple.peer_port =
	    ntohs(peer->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)peer)->sin6_port
					      : ((const struct sockaddr_in *)peer)->sin_port);
	if (getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
		ip_from_sockaddr(&local, &conn->tuple.local);
		conn->tuple.local_port = ntohs(
		    local.ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)&local)->sin6_port
						: ((const struct sockaddr_in *)&local)->sin_port);
	}
}

void conn_accept(struct worker *worker, int fd, const struct sockaddr *peer, int peer_len)
{
	(void)peer_len;
	struct conn *conn = malloc(sizeof(*conn));
	if (!conn) {
		close(fd);
		return;
	}
	/* Everything but the input buffer, which needs no zeroing. */
	memset(conn, 0, offsetof(struct conn, in_small));
	conn->in = conn->in_small;
	conn->in_cap = sizeof(conn->in_small);
	conn->fd = fd;
	conn->worker = worker;
	worker->conn_count++;
	conn->next = worker->conns;
	if (worker->conns)
		worker->conns->prev = conn;
	worker->conns = conn;
	if (worker->shared->xdp) {
		fill_tuple(conn, fd, peer);
		conn->tagged =
		    xdp_path_take_conn_tag(worker->shared->xdp, &conn->tuple, &conn->tag_region);
	} else {
		ip_from_sockaddr(peer, &conn->tuple.peer);
	}
	conn->ev_read = event_new(worker->base, fd, EV_READ | EV_PERSIST, on_readable, conn);
	conn->ev_write = event_new(worker->base, fd, EV_WRITE | EV_PERSIST, on_writable, conn);
	conn->timer = evtimer_new(worker->base, on_timer, conn);
	if (!conn->ev_read || !conn->ev_write || !conn->timer) {
		conn_free(conn);
		return;
	}
	event_add(conn->ev_read, NULL);
	conn->phase = PHASE_HEADER;
	arm_timer(conn, worker->shared->config->header_timeout_ms);
}

void conn_drain_all(struct worker *worker)
{
	struct conn *next;
	for (struct conn *conn = worker->conns; conn; conn = next) {
		next = conn->next;
		bool idle =
		    conn->phase == PHASE_IDLE || (conn->phase == PHASE_HEADER && conn->in_len == 0);
		if (idle && !output_pending(conn))
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
