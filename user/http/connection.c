/* One client connection: read request heads, hand each to the handler above,
 * send its answer; an answer may come later (the handler waits for something).
 * Requests on a connection are answered in order: reading pauses while an
 * answer is pending.
 *
 * Plain events on the socket rather than bufferevents: a response is sent
 * with one send() straight away, and the read event stays registered, so a
 * keep-alive request costs one recv() and one send() and no epoll_ctl or
 * FIONREAD ioctl. Output is buffered only when the socket would block.
 *
 * A new plain connection is read once before it is registered with epoll
 * (the request has usually arrived by the time it is accepted), and one whose
 * client asked to close is closed at once when nothing of it is left unread:
 * a `Connection: close` request then costs accept, recv, send and close, and
 * no epoll_ctl, shutdown or second recv. */
#include "archeio/http/connection.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/core/buf.h"
#include "archeio/http/tls.h"
#include "conn_io.h"
#include "proxy_stage.h"
#include "tls_stream.h"

#define MAX_REQUEST_HEAD 8192
#define RESPONSE_MAX (RESPONSE_LOCATION_MAX * 3 + 1024)
/* Parsing stops while output is queued, so about one response is ever
 * queued; the bound turns a bug into a closed connection, not into memory. */
#define OUTPUT_QUEUE_MAX (RESPONSE_MAX * 4)
#define LINGER_MS 2000
#define WRITE_TIMEOUT_MS 10000
#define SMALL_HEAD 2048

/* Where a connection on a TLS listener stands; plain connections are TLS_OFF. */
enum tls_stage {
	TLS_OFF,	 /* plain HTTP */
	TLS_FIRST_BYTES, /* waiting for the client's first byte: TLS or plain HTTP? */
	TLS_HANDSHAKING,
	TLS_ESTABLISHED,
};

enum conn_phase {
	PHASE_HEADER, /* waiting for (the rest of) a request head */
	PHASE_IDLE,   /* keep-alive, between requests */
	PHASE_BUSY,   /* the handler's answer is pending */
	PHASE_CLOSING /* last response queued, closing when written */
};

struct http_connection {
	struct http_connections *set;
	int fd;
	struct event *ev_read;
	struct event *ev_write;
	struct event *timer;
	struct http_connection *prev, *next;
	struct http_peer peer;
	enum conn_phase phase;
	bool in_process;      /* inside process_input: an answer given now must not recurse */
	bool awaiting_answer; /* the handler has not answered the current request yet */
	bool gone;	      /* closed while an answer was pending: respond() frees */
	bool lingering;	      /* last response written, discarding input until EOF */
	bool peer_eof;	      /* client half-closed: answer what was read, then close */
	bool tls_dead;	      /* a fatal TLS error: no close_notify may follow */
	bool close_noted;     /* close_reason says why it ends (the first cause) */
	bool watching;	      /* the read event has been registered (see watch_input) */
	bool last_read_short; /* the last recv() left the socket's queue empty */
	bool client_closes;   /* the last request asked to close and sent no body */
	enum http_close_reason close_reason;
	enum tls_stage tls_stage;
	SSL *ssl;
	struct tls_server *tls;	   /* held for the handshake's SNI callback */
	struct proxy_stage *proxy; /* until the PROXY stage is over; NULL when off */
	struct buf out;		   /* unsent output, only when the socket would block */
	/* Request bytes: a small buffer inside the connection, replaced by a
	 * MAX_REQUEST_HEAD one only for a request that needs it, so idle
	 * keep-alive connections stay small. */
	char *in;
	size_t in_len, in_cap;
	/* The head at the front of `in`, parsed as far as it has arrived: a
	 * partial read is not parsed again from its first byte. */
	struct http_parser parser;
	char in_small[SMALL_HEAD];
};

static void process_input(struct http_connection *conn);
static void settle_after_input(struct http_connection *conn);

const char *http_close_reason_name(enum http_close_reason reason)
{
	static const char *const names[HTTP_CLOSE_REASON_COUNT] = {
	    [HTTP_CLOSE_CLIENT] = "client",   [HTTP_CLOSE_SERVER] = "server",
	    [HTTP_CLOSE_TIMEOUT] = "timeout", [HTTP_CLOSE_LIMIT] = "limit",
	    [HTTP_CLOSE_ERROR] = "error",
	};
	return (unsigned)reason < HTTP_CLOSE_REASON_COUNT ? names[reason] : "error";
}

int http_error_status_code(enum http_error_status status)
{
	static const int codes[HTTP_ERROR_STATUS_COUNT] = {
	    [HTTP_ERROR_400] = 400, [HTTP_ERROR_408] = 408, [HTTP_ERROR_414] = 414,
	    [HTTP_ERROR_431] = 431, [HTTP_ERROR_505] = 505,
	};
	return (unsigned)status < HTTP_ERROR_STATUS_COUNT ? codes[status] : 400;
}

/* Why the connection will end; the first cause noted is the one counted. */
static void note_close(struct http_connection *conn, enum http_close_reason reason)
{
	if (conn->close_noted)
		return;
	conn->close_noted = true;
	conn->close_reason = reason;
}

/* Counts the closing connection under its reason. Unnoted: the client left
 * (it half-closed, or reset) or archeio chose to end it. */
static void count_close(struct http_connection *conn)
{
	struct http_connections *set = conn->set;
	enum http_close_reason reason = conn->close_noted ? conn->close_reason
					: conn->peer_eof  ? HTTP_CLOSE_CLIENT
							  : HTTP_CLOSE_SERVER;
	counter_inc(&set->stats.closed[reason]);
}

/* The transport: every byte in or out passes through the three functions
 * below, and nothing else touches the socket's data; TLS connections go
 * through OpenSSL (tls_stream.c). */
static enum conn_io conn_recv_some(struct http_connection *conn, char *data, size_t cap, size_t *n)
{
	*n = 0;
	if (conn->ssl) {
		bool want_write;
		enum conn_io r = tls_stream_read(conn->ssl, data, cap, n, &want_write);
		if (r == CONN_IO_ERROR)
			conn->tls_dead = true;
		return r; /* want_write: the write event is armed by whoever sends next */
	}
	ssize_t got = recv(conn->fd, data, cap, 0);
	if (got > 0) {
		*n = (size_t)got;
		return CONN_IO_OK;
	}
	if (got == 0)
		return CONN_IO_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_IO_WOULD_BLOCK; /* the read event fires again */
	return CONN_IO_ERROR;
}

static enum conn_io conn_send_some(struct http_connection *conn, const char *data, size_t len,
				   size_t *n)
{
	*n = 0;
	if (conn->ssl) {
		enum conn_io r = tls_stream_write(conn->ssl, data, len, n);
		if (r == CONN_IO_ERROR)
			conn->tls_dead = true;
		return r;
	}
	ssize_t sent;
	do
		sent = send(conn->fd, data, len, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	if (sent >= 0) {
		*n = (size_t)sent;
		return CONN_IO_OK;
	}
	return (errno == EAGAIN || errno == EWOULDBLOCK) ? CONN_IO_WOULD_BLOCK : CONN_IO_ERROR;
}

/* TLS says goodbye (close_notify) before the TCP half-close, so the client
 * knows the response was complete and its session stays resumable. */
static void conn_close_write(struct http_connection *conn)
{
	if (conn->ssl && conn->tls_stage == TLS_ESTABLISHED && !conn->tls_dead)
		tls_stream_close_notify(conn->ssl);
	shutdown(conn->fd, SHUT_WR);
}

static void conn_free(struct http_connection *conn)
{
	struct http_connections *set = conn->set;
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		set->list = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	if (conn->ev_read)
		event_free(conn->ev_read);
	if (conn->ev_write)
		event_free(conn->ev_write);
	if (conn->timer)
		event_free(conn->timer);
	if (conn->ssl) {
		if (conn->fd >= 0 && conn->tls_stage == TLS_ESTABLISHED && !conn->tls_dead &&
		    !conn->lingering)
			tls_stream_close_notify(conn->ssl);
		SSL_free(conn->ssl);
	}
	tls_server_unref(conn->tls);
	if (conn->fd >= 0)
		close(conn->fd);
	buf_free(&conn->out);
	free(conn->proxy);
	if (conn->in != conn->in_small)
		free(conn->in);
	count_close(conn);
	free(conn);
	set->count--;
	set->ops->closed(set->ctx);
}

/* Closes now, unless the handler still owes an answer: then the socket goes
 * now and the late http_connection_respond() frees the rest. */
static void conn_close(struct http_connection *conn)
{
	if (conn->phase == PHASE_BUSY && conn->awaiting_answer) {
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

/* False only when libevent ran out of memory (adding a timer may grow its heap). */
static bool arm_timer(struct http_connection *conn, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return event_add(conn->timer, &tv) == 0;
}

static void arm_write(struct http_connection *conn)
{
	struct timeval tv = {WRITE_TIMEOUT_MS / 1000, 0};
	event_add(conn->ev_write, &tv);
}

/* Registers the read event (persistent); the first call is the only one that
 * costs an epoll_ctl. A new connection is registered only once it has to
 * wait for input (see http_connection_accept). False when libevent ran out of
 * memory registering it (later calls allocate nothing). */
static bool watch_input(struct http_connection *conn)
{
	conn->watching = true;
	return event_add(conn->ev_read, NULL) == 0;
}

/* The first registration of a connection read before it: one that cannot
 * be registered would never be read, so it is closed now. */
static void watch_new_input(struct http_connection *conn)
{
	if (!watch_input(conn)) {
		note_close(conn, HTTP_CLOSE_ERROR);
		conn_close(conn);
	}
}

/* True when closing now cannot make the kernel send a RST: nothing of the
 * client's is unread, neither in our buffer nor (at the last recv, in the
 * same loop pass as the answer) in the socket's queue, and the client asked
 * to close after this request without a body, so it sends nothing more (RFC
 * 9112 9.6: a client that sent "close" sends no further requests). An answer
 * that came later (hand_to_handler) or had to wait to be written
 * (write_bytes) lingers: input may have come unseen meanwhile. TLS always
 * lingers: OpenSSL may hold read-ahead bytes and the client's close_notify
 * may follow ours. */
static bool nothing_left_to_read(const struct http_connection *conn)
{
	return conn->client_closes && conn->last_read_short && conn->in_len == 0 && !conn->ssl;
}

/* After the last response is written: half-close and keep discarding input
 * for a moment. Closing with unread input would make the kernel send a RST
 * that can destroy the response before the client reads it (RFC 9112 9.6).
 * When there is nothing left to read, a plain close is as safe and saves the
 * shutdown, the wake-up for the client's FIN and its recv. */
static void start_linger(struct http_connection *conn)
{
	if (conn->lingering)
		return;
	if (conn->peer_eof || nothing_left_to_read(conn)) {
		conn_free(conn);
		return;
	}
	conn->lingering = true;
	conn_close_write(conn);
	conn->in_len = 0;
	http_parser_reset(&conn->parser);
	watch_input(conn);
	arm_timer(conn, LINGER_MS);
}

static bool output_pending(const struct http_connection *conn)
{
	return conn->out.len > 0;
}

/* Writes what is queued; returns false when the connection is dead. */
static bool flush_output(struct http_connection *conn)
{
	while (output_pending(conn)) {
		size_t sent;
		enum conn_io r = conn_send_some(conn, conn->out.data, conn->out.len, &sent);
		if (r == CONN_IO_OK && sent > 0) {
			buf_consume(&conn->out, sent);
			continue;
		}
		if (r == CONN_IO_WOULD_BLOCK) {
			arm_write(conn);
			return true;
		}
		return false;
	}
	event_del(conn->ev_write);
	return true;
}

/* Sends at once; queues only what the socket would not take. */
static void write_bytes(struct http_connection *conn, const char *data, size_t len)
{
	if (conn->fd < 0)
		return;
	if (!output_pending(conn)) {
		size_t sent;
		enum conn_io r = conn_send_some(conn, data, len, &sent);
		if (r == CONN_IO_OK && sent == len)
			return;
		if (r == CONN_IO_ERROR) {
			note_close(conn, HTTP_CLOSE_ERROR);
			conn->phase = PHASE_CLOSING; /* peer gone: nothing more to say */
			conn->peer_eof = true;
			return;
		}
		data += sent;
		len -= sent;
	}
	conn->last_read_short = false; /* waiting to write: input may come unseen */
	if (!buf_append(&conn->out, data, len, OUTPUT_QUEUE_MAX)) {
		note_close(conn, HTTP_CLOSE_LIMIT);
		conn->phase = PHASE_CLOSING;
		conn->peer_eof = true;
		return;
	}
	arm_write(conn);
}

/* Returns the length of the answer as serialised. */
static size_t send_response(struct http_connection *conn, const struct response *resp)
{
	const struct http_connections *set = conn->set;
	struct response last;
	if (resp->keep_alive && set->ops->draining(set->ctx)) {
		last = *resp; /* draining: this answer is the connection's last */
		last.keep_alive = false;
		resp = &last;
	}
	char out[RESPONSE_MAX];
	const char *date = set->ops->date(set->ctx);
	size_t len = response_write(resp, date, out, sizeof(out));
	if (len == 0) {
		struct response fallback = {.status = 500, .message = "response too large"};
		len = response_write(&fallback, date, out, sizeof(out));
	}
	write_bytes(conn, out, len);
	if (!resp->keep_alive) {
		note_close(conn, HTTP_CLOSE_SERVER);
		conn->phase = PHASE_CLOSING;
	}
	return len;
}

/* An answer of this layer's own (the request never reaches the handler):
 * counted by status, and the connection's end noted with its cause. */
static void answer_error(struct http_connection *conn, enum http_error_status status,
			 const char *message)
{
	struct http_connections *set = conn->set;
	enum http_close_reason why = status == HTTP_ERROR_408	? HTTP_CLOSE_TIMEOUT
				     : status == HTTP_ERROR_414 ? HTTP_CLOSE_LIMIT
				     : status == HTTP_ERROR_431 ? HTTP_CLOSE_LIMIT
								: HTTP_CLOSE_ERROR;
	counter_inc(&set->stats.errors[status]);
	note_close(conn, why);
	conn->client_closes = false; /* the client may have sent more: linger */
	struct response resp = {.status = http_error_status_code(status), .message = message};
	send_response(conn, &resp);
}

static enum http_error_status error_status_of(int status)
{
	switch (status) {
	case 414:
		return HTTP_ERROR_414;
	case 431:
		return HTTP_ERROR_431;
	case 505:
		return HTTP_ERROR_505;
	default:
		return HTTP_ERROR_400;
	}
}

/* After a response: close if it was the last one, else read on. */
static void resume_after_response(struct http_connection *conn)
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
		watch_input(conn);
	arm_timer(conn, conn->set->idle_timeout_ms);
	process_input(conn);
}

void http_connection_respond(struct http_connection *conn, const struct response *resp,
			     const struct http_sent *sent)
{
	if (conn->gone) {
		conn_free(conn);
		return;
	}
	conn->awaiting_answer = false;
	if (conn->phase == PHASE_BUSY)
		conn->phase = PHASE_IDLE;
	size_t len = send_response(conn, resp);
	if (sent)
		sent->fn(sent->arg, len);
	if (conn->in_process)
		return; /* answered from inside the handler; process_input carries on */
	resume_after_response(conn);
}

static void hand_to_handler(struct http_connection *conn, const struct http_request *req)
{
	conn->phase = PHASE_IDLE;
	conn->awaiting_answer = true;
	conn->client_closes = !req->keep_alive && !req->has_body;
	conn->set->ops->handle(conn->set->ctx, conn, req);
	/* Still waiting: stop reading until the answer comes. An answer given
	 * inside the handler never gets here busy, so it costs no epoll_ctl. */
	if (conn->awaiting_answer) {
		conn->phase = PHASE_BUSY;
		/* Unwatched while it waits: whatever arrives meanwhile is not
		 * seen, so the last answer will linger. */
		conn->last_read_short = false;
		event_del(conn->ev_read);
		event_del(conn->timer);
	}
}

/* Parses the request head at conn->in + at and answers it (or hands it on).
 * Returns its length, or 0 when parsing stops here: the head is incomplete,
 * or it was malformed and has been answered. */
static size_t take_one_request(struct http_connection *conn, size_t at)
{
	struct http_request req;
	size_t consumed = 0;
	int status = 400;
	enum http_parse_result r = http_parser_feed(&conn->parser, conn->in + at, conn->in_len - at,
						    MAX_REQUEST_HEAD, &req, &consumed, &status);
	if (r != HTTP_PARSE_INCOMPLETE)
		http_parser_reset(&conn->parser); /* the next head starts fresh */
	if (r == HTTP_PARSE_INCOMPLETE) {
		if (conn->peer_eof) {
			answer_error(conn, HTTP_ERROR_400, "truncated request");
		} else if (conn->phase != PHASE_HEADER) {
			conn->phase = PHASE_HEADER;
			arm_timer(conn, conn->set->header_timeout_ms);
		}
		return 0;
	}
	if (r == HTTP_PARSE_ERROR) {
		answer_error(conn, error_status_of(status), response_reason(status));
		return 0;
	}
	hand_to_handler(conn, &req);
	return consumed;
}

static void process_input(struct http_connection *conn)
{
	conn->in_process = true;
	size_t at = 0;
	/* Queued output means the client is not reading: parse no further until
	 * it does, so a pipelining client cannot make the answers pile up. */
	while (conn->phase != PHASE_BUSY && conn->phase != PHASE_CLOSING && !output_pending(conn) &&
	       at < conn->in_len) {
		size_t consumed = take_one_request(conn, at);
		if (consumed == 0)
			break;
		at += consumed;
		if (conn->phase == PHASE_IDLE)
			arm_timer(conn, conn->set->idle_timeout_ms);
	}
	/* Keep the unparsed rest (a partial or pipelined request) at the front. */
	if (at > 0) {
		memmove(conn->in, conn->in + at, conn->in_len - at);
		conn->in_len -= at;
	}
	conn->in_process = false;
	settle_after_input(conn);
}

/* What a connection does once its input is processed: close, read on, or
 * wait for input (registering a new connection for it). */
static void settle_after_input(struct http_connection *conn)
{
	if (conn->phase == PHASE_CLOSING) {
		if (!output_pending(conn))
			start_linger(conn);
	} else if (conn->peer_eof && conn->phase != PHASE_BUSY && !output_pending(conn)) {
		conn_free(conn);
	} else if (conn->ssl && conn->phase != PHASE_BUSY && !output_pending(conn) &&
		   tls_stream_has_buffered(conn->ssl)) {
		/* OpenSSL read ahead of what fitted in conn->in: the socket will
		 * not signal those bytes again, so read them now. */
		event_active(conn->ev_read, EV_READ, 1);
	} else if (!conn->watching && !conn->peer_eof && conn->phase != PHASE_BUSY &&
		   !output_pending(conn)) {
		/* A new connection read before registering: it waits for (the
		 * rest of) a request now. Busy or writing: the answer's way on
		 * registers it (resume_after_response). */
		watch_new_input(conn);
	}
}

/* Room for more request bytes: the small buffer grows to MAX_REQUEST_HEAD
 * once a head does not fit it. False when memory ran out. */
static bool make_room(struct http_connection *conn)
{
	if (conn->in_len < conn->in_cap || conn->in_cap >= MAX_REQUEST_HEAD)
		return true;
	char *big = malloc(MAX_REQUEST_HEAD);
	if (!big)
		return false;
	memcpy(big, conn->in, conn->in_len);
	conn->in = big;
	conn->in_cap = MAX_REQUEST_HEAD;
	return true;
}

/* Lingering: raw bytes are discarded unread, TLS or not. */
static void discard_input(struct http_connection *conn)
{
	char discard[4096];
	ssize_t n = recv(conn->fd, discard, sizeof(discard), 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		conn_free(conn);
}

static void report_tls(struct http_connection *conn, enum http_tls_event event, const char *detail)
{
	const struct http_connections *set = conn->set;
	if (set->ops->tls_event)
		set->ops->tls_event(set->ctx, &conn->peer, event, detail);
}

/* A client that forgot https://: answered in plain HTTP, as nginx does, so
 * the mistake is visible in its own output rather than as a TLS error. */
static void refuse_plain_http(struct http_connection *conn)
{
	SSL_free(conn->ssl);
	conn->ssl = NULL;
	conn->tls_stage = TLS_OFF;
	report_tls(conn, HTTP_TLS_PLAIN_HTTP, NULL);
	answer_error(conn, HTTP_ERROR_400,
		     "plain HTTP request sent to the HTTPS port: use https://");
	if (!output_pending(conn))
		start_linger(conn);
}

/* The first byte decides: a TLS handshake goes on, plain HTTP gets its 400,
 * anything else is closed. False when the connection is not (yet) TLS. */
static bool check_first_bytes(struct http_connection *conn)
{
	switch (tls_stream_peek_first(conn->fd)) {
	case TLS_FIRST_WAIT:
		return false;
	case TLS_FIRST_HANDSHAKE:
		if (SSL_set_fd(conn->ssl, conn->fd) != 1) {
			note_close(conn, HTTP_CLOSE_ERROR);
			conn_close(conn);
			return false;
		}
		conn->tls_stage = TLS_HANDSHAKING;
		return true;
	case TLS_FIRST_PLAIN_HTTP:
		refuse_plain_http(conn);
		return false;
	case TLS_FIRST_GARBAGE:
		report_tls(conn, HTTP_TLS_HANDSHAKE_FAILED, "not TLS");
		note_close(conn, HTTP_CLOSE_ERROR);
		break;
	case TLS_FIRST_GONE:
		note_close(conn, HTTP_CLOSE_CLIENT);
		break;
	}
	conn->tls_dead = true;
	conn_close(conn);
	return false;
}

/* Moves a TLS listener's connection towards its first request. True once
 * the handshake is done (OpenSSL may already hold the request: read it);
 * false while it waits, or when it was closed. */
static bool advance_tls(struct http_connection *conn)
{
	if (conn->tls_stage == TLS_FIRST_BYTES && !check_first_bytes(conn))
		return false;
	char why[160];
	switch (tls_stream_handshake(conn->ssl, why, sizeof(why))) {
	case TLS_HANDSHAKE_DONE:
		conn->tls_stage = TLS_ESTABLISHED;
		report_tls(conn, HTTP_TLS_ESTABLISHED, tls_stream_mode(conn->ssl));
		return true;
	case TLS_HANDSHAKE_WANT_READ:
		return false;
	case TLS_HANDSHAKE_WANT_WRITE:
		arm_write(conn);
		return false;
	case TLS_HANDSHAKE_FAILED:
		break;
	}
	conn->tls_dead = true;
	report_tls(conn, HTTP_TLS_HANDSHAKE_FAILED, why);
	note_close(conn, HTTP_CLOSE_ERROR);
	conn_close(conn);
	return false;
}

static void report_proxy_refused(struct http_connection *conn, enum http_proxy_refusal reason,
				 const char *why)
{
	counter_inc(&conn->set->stats.proxy_refused[reason]);
	if (conn->set->ops->proxy_refused)
		conn->set->ops->proxy_refused(conn->set->ctx, &conn->peer, why);
}

/* The PROXY stage, first of all (a header comes before TLS). True once it
 * is over: the bytes that follow are TLS or HTTP. */
static bool advance_proxy(struct http_connection *conn)
{
	const char *why;
	switch (proxy_stage_read(conn->proxy, conn->fd, &conn->peer, &why)) {
	case PROXY_STAGE_WAIT:
		return false;
	case PROXY_STAGE_DONE:
		free(conn->proxy);
		conn->proxy = NULL;
		return true;
	case PROXY_STAGE_CLOSE:
		break;
	}
	if (why) {
		/* Still REFUSED: a header from a peer that may send none. */
		report_proxy_refused(conn,
				     conn->peer.proxy == HTTP_PROXY_REFUSED
					 ? HTTP_PROXY_REFUSED_UNTRUSTED
					 : HTTP_PROXY_REFUSED_MALFORMED,
				     why);
		note_close(conn, HTTP_CLOSE_ERROR);
	} else {
		note_close(conn, HTTP_CLOSE_CLIENT); /* it left before a header */
	}
	conn->tls_dead = true; /* no TLS was spoken: no close_notify */
	conn_close(conn);
	return false;
}

static bool tls_pending_setup(const struct http_connection *conn)
{
	return conn->tls_stage == TLS_FIRST_BYTES || conn->tls_stage == TLS_HANDSHAKING;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct http_connection *conn = arg;
	if (conn->lingering) {
		discard_input(conn);
		return;
	}
	if (conn->proxy && !advance_proxy(conn))
		return;
	if (tls_pending_setup(conn) && !advance_tls(conn))
		return;
	if (output_pending(conn)) {
		/* Backpressure: the kernel buffers fill and the client's sends stall;
		 * on_writable resumes reading once the answers are out. */
		event_del(conn->ev_read);
		return;
	}
	if (!make_room(conn)) {
		note_close(conn, HTTP_CLOSE_ERROR);
		conn_close(conn);
		return;
	}
	size_t n;
	size_t room = conn->in_cap - conn->in_len;
	enum conn_io r = conn_recv_some(conn, conn->in + conn->in_len, room, &n);
	conn->last_read_short = r == CONN_IO_OK && n < room;
	if (r == CONN_IO_WOULD_BLOCK) {
		if (!conn->watching)
			watch_new_input(conn); /* read early, before the request came */
		return;
	}
	if (r == CONN_IO_ERROR) {
		note_close(conn, HTTP_CLOSE_ERROR);
		conn_close(conn);
		return;
	}
	if (r == CONN_IO_EOF) {
		event_del(conn->ev_read);
		conn->peer_eof = true;
		if (conn->in_len == 0) {
			conn_close(conn);
			return;
		}
	}
	conn->in_len += n;
	process_input(conn);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct http_connection *conn = arg;
	if (tls_pending_setup(conn) && !(what & EV_TIMEOUT)) {
		event_del(conn->ev_write); /* the handshake wanted to write; it goes on */
		on_readable(fd, EV_READ, conn);
		return;
	}
	if ((what & EV_TIMEOUT) || !flush_output(conn)) {
		/* a client that does not read its answers, or a failed send */
		note_close(conn, (what & EV_TIMEOUT) ? HTTP_CLOSE_TIMEOUT : HTTP_CLOSE_ERROR);
		conn_close(conn);
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
	struct http_connection *conn = arg;
	if (conn->proxy) {
		/* The header timeout bounds a slow or silent balancer too. */
		if (conn->peer.proxy == HTTP_PROXY_REQUIRED)
			report_proxy_refused(conn, HTTP_PROXY_REFUSED_TIMEOUT,
					     "no PROXY header within the header timeout");
		conn->tls_dead = true;
		note_close(conn, HTTP_CLOSE_TIMEOUT);
		conn_close(conn);
		return;
	}
	if (tls_pending_setup(conn)) {
		if (conn->tls_stage == TLS_HANDSHAKING)
			report_tls(conn, HTTP_TLS_HANDSHAKE_FAILED, "handshake timeout");
		conn->tls_dead = true; /* no close_notify for a handshake cut short */
		note_close(conn, HTTP_CLOSE_TIMEOUT);
		conn_close(conn);
		return;
	}
	if (conn->phase == PHASE_IDLE && output_pending(conn))
		return; /* not idle but writing: the write timeout bounds it, on_writable re-arms */
	if (conn->phase == PHASE_HEADER && conn->in_len > 0 && !conn->lingering) {
		/* A slow client: answer 408 rather than hold the worker. */
		answer_error(conn, HTTP_ERROR_408, "request head timeout");
		if (!output_pending(conn))
			start_linger(conn);
		else
			arm_timer(conn, LINGER_MS); /* bounds the write of the 408 too */
		return;
	}
	note_close(conn, HTTP_CLOSE_TIMEOUT); /* idle, or silent since the accept */
	conn_close(conn);
}

void http_connection_accept(struct http_connections *set, int fd, const struct http_peer *peer,
			    struct tls_server *tls)
{
	counter_inc(&set->stats.accepted);
	struct http_connection *conn = malloc(sizeof(*conn));
	if (!conn) {
		counter_inc(&set->stats.closed[HTTP_CLOSE_ERROR]);
		close(fd);
		return;
	}
	/* Everything but the input buffer, which needs no zeroing. */
	memset(conn, 0, offsetof(struct http_connection, in_small));
	conn->in = conn->in_small;
	conn->in_cap = sizeof(conn->in_small);
	conn->fd = fd;
	conn->set = set;
	conn->peer = *peer;
	set->count++;
	conn->next = set->list;
	if (set->list)
		set->list->prev = conn;
	set->list = conn;
	conn->ev_read = event_new(set->base, fd, EV_READ | EV_PERSIST, on_readable, conn);
	conn->ev_write = event_new(set->base, fd, EV_WRITE | EV_PERSIST, on_writable, conn);
	conn->timer = evtimer_new(set->base, on_timer, conn);
	if (tls) {
		conn->ssl = tls_server_new_session(tls);
		conn->tls = tls_server_ref(tls);
		conn->tls_stage = TLS_FIRST_BYTES;
	}
	if (peer->proxy != HTTP_PROXY_OFF)
		conn->proxy = calloc(1, sizeof(*conn->proxy));
	if (!conn->ev_read || !conn->ev_write || !conn->timer || (tls && !conn->ssl) ||
	    (peer->proxy != HTTP_PROXY_OFF && !conn->proxy)) {
		note_close(conn, HTTP_CLOSE_ERROR);
		conn_free(conn);
		return;
	}
	/* Registering the socket and the timer may allocate in libevent: a
	 * connection that could not be registered would never be read nor
	 * timed out, so it is closed now. */
	conn->phase = PHASE_HEADER;
	if (!arm_timer(conn, set->header_timeout_ms)) {
		conn_free(conn);
		return;
	}
	if (!tls && !conn->proxy) {
		/* Read at once, in this loop pass and before any epoll_ctl: the
		 * request is usually there already. If it is not, on_readable
		 * registers the socket (watch_input). */
		event_active(conn->ev_read, EV_READ, 1);
		return;
	}
	conn->watching = true;
	if (event_add(conn->ev_read, NULL) != 0)
		conn_free(conn);
}

const struct http_peer *http_connection_peer(const struct http_connection *conn)
{
	return &conn->peer;
}

bool http_connection_is_gone(const struct http_connection *conn)
{
	return conn->gone;
}

void http_connections_drain(struct http_connections *set)
{
	struct http_connection *next;
	for (struct http_connection *conn = set->list; conn; conn = next) {
		next = conn->next;
		bool idle =
		    conn->phase == PHASE_IDLE || (conn->phase == PHASE_HEADER && conn->in_len == 0);
		if (idle && !output_pending(conn)) {
			note_close(conn, HTTP_CLOSE_SERVER);
			conn_close(conn);
		}
	}
}

void http_connections_close_all(struct http_connections *set)
{
	/* Connections waiting for an answer are only marked gone here; the
	 * answer (e.g. a mirror check the owner cancels afterwards) frees them. */
	struct http_connection *next;
	for (struct http_connection *conn = set->list; conn; conn = next) {
		next = conn->next;
		if (!conn->gone) {
			note_close(conn, HTTP_CLOSE_SERVER);
			conn_close(conn);
		}
	}
}
