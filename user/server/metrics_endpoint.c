/* /metrics, /healthz, /readyz on evhttp (see metrics_endpoint.h). */
#include "metrics_endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/metrics/exposition.h"
#include "archeio/server/config.h"

#define HEAD_MAX 8192
#define TIMEOUT_S 10

struct metrics_endpoint {
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	const struct metrics_endpoint_ops *ops;
	void *ctx;
};

static void reply_text(struct evhttp_request *req, int status, const char *reason,
		       const char *content_type, const char *body, size_t len)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evbuffer_new();
	evhttp_add_header(headers, "Content-Type", content_type);
	evhttp_add_header(headers, "Cache-Control", "no-store");
	if (status == 405)
		evhttp_add_header(headers, "Allow", "GET, HEAD");
	if (out)
		evbuffer_add(out, body, len);
	evhttp_send_reply(req, status, reason, out);
	if (out)
		evbuffer_free(out);
}

static void plain(struct evhttp_request *req, int status, const char *reason, const char *body)
{
	reply_text(req, status, reason, "text/plain; charset=utf-8", body, strlen(body));
}

static void answer_metrics(struct metrics_endpoint *e, struct evhttp_request *req)
{
	struct buf text = {0};
	if (e->ops->render(e->ctx, &text))
		reply_text(req, 200, "OK", METRICS_CONTENT_TYPE, text.data ? text.data : "",
			   text.len);
	else
		plain(req, 500, "Internal Server Error", "out of memory\n");
	buf_free(&text);
}

static void answer_ready(struct metrics_endpoint *e, struct evhttp_request *req)
{
	char reason[512], body[520];
	bool ready = e->ops->ready(e->ctx, reason, sizeof(reason));
	snprintf(body, sizeof(body), "%s\n", reason);
	plain(req, ready ? 200 : 503, ready ? "OK" : "Service Unavailable", body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct metrics_endpoint *e = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)
		plain(req, 405, "Method Not Allowed", "method not allowed (GET, HEAD)\n");
	else if (path && strcmp(path, "/metrics") == 0)
		answer_metrics(e, req);
	else if (path && strcmp(path, "/healthz") == 0)
		plain(req, 200, "OK", "ok\n");
	else if (path && strcmp(path, "/readyz") == 0)
		answer_ready(e, req);
	else
		plain(req, 404, "Not Found", "not found: /metrics, /healthz, /readyz\n");
}

/* A listening socket on HOST:PORT (HOST numeric, as config_parse_listen()
 * checked), or -1 with errno. */
static int listen_on(const char *host, uint16_t port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char service[8];
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	int one = 1, error = 0;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		error = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	errno = error;
	return fd;
}

/* Binds HOST:PORT; every address is "::" (dual-stack), else 0.0.0.0 where
 * IPv6 is off. The socket is made here, not by evhttp_bind_socket_with_handle():
 * libevent 2.1 leaks it when it cannot allocate the listener for it (found by
 * the start-up sweep, tests/unit/test_fault_startup.c). */
static struct evhttp_bound_socket *bind_addr(struct evhttp *http, const char *host, uint16_t port)
{
	int fd = listen_on(host ? host : "::", port);
	if (fd < 0 && !host)
		fd = listen_on("0.0.0.0", port);
	if (fd < 0)
		return NULL;
	struct evhttp_bound_socket *bound = evhttp_accept_socket_with_handle(http, fd);
	if (!bound) {
		int error = errno;
		close(fd);
		errno = error ? error : ENOMEM;
		return NULL;
	}
	/* libevent 2.1 ignores a failure to watch the new listener, which would
	 * then be bound and never accept (the sweep again): asked once more,
	 * and checked. Freeing the listener closes the socket. */
	if (evconnlistener_enable(evhttp_bound_socket_get_listener(bound)) != 0) {
		evhttp_del_accept_socket(http, bound);
		errno = ENOMEM;
		return NULL;
	}
	return bound;
}

struct metrics_endpoint *metrics_endpoint_open(struct event_base *base, const char *addr,
					       const struct metrics_endpoint_ops *ops, void *ctx,
					       char *err, size_t errlen)
{
	char *host = NULL;
	uint16_t port;
	errno = 0;
	if (!config_parse_listen(addr, &host, &port)) {
		snprintf(err, errlen, "--metrics-listen: %s %s",
			 errno == ENOMEM ? "out of memory reading" : "bad address", addr);
		return NULL;
	}
	struct metrics_endpoint *e = calloc(1, sizeof(*e));
	if (e && (e->http = evhttp_new(base))) {
		e->ops = ops;
		e->ctx = ctx;
		evhttp_set_max_headers_size(e->http, HEAD_MAX);
		evhttp_set_max_body_size(e->http, 0);
		evhttp_set_timeout(e->http, TIMEOUT_S);
		evhttp_set_allowed_methods(
		    e->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
				 EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
		evhttp_set_gencb(e->http, on_request, e);
		e->bound = bind_addr(e->http, host, port);
	}
	if (!e || !e->http || !e->bound) {
		snprintf(err, errlen, "--metrics-listen: cannot listen on %s: %s", addr,
			 e && e->http ? strerror(errno) : "out of memory");
		metrics_endpoint_close(e);
		e = NULL;
	}
	free(host);
	return e;
}

void metrics_endpoint_describe(const struct metrics_endpoint *e, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getsockname(evhttp_bound_socket_get_fd(e->bound), (struct sockaddr *)&ss, &len) == 0) {
		bool v6 = ss.ss_family == AF_INET6;
		const void *a = v6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
				   : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
		inet_ntop(ss.ss_family, a, host, sizeof(host));
		port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
		snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", host, port);
		return;
	}
	snprintf(out, cap, "?");
}

void metrics_endpoint_close(struct metrics_endpoint *e)
{
	if (!e)
		return;
	if (e->http)
		evhttp_free(e->http); /* closes the bound socket and connections */
	free(e);
}
