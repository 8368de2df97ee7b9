#include "archeio/server/server.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archeio/xdp/library_log.h"
#include "listen_socket.h"
#include "archeio/server/serve_state.h"
#include "archeio/server/worker.h"
#include "archeio/xdp/xdp_path.h"

struct server {
	const struct config *config;
	const struct logger *log;
	struct state_holder states;
	struct server_shared shared;
	struct worker *workers;
	unsigned worker_count;
	struct event_base *base;
	struct xdp_path *xdp;
};

static void log_state(const struct server *server, const struct serve_state *state,
		      const char *what)
{
	struct ranges_cloud_count counts[32];
	size_t n = ranges_count_by_cloud(&state->ranges, &state->regions, counts, 32);
	char summary[1024] = "";
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(summary); i++)
		o += (size_t)snprintf(summary + o, sizeof(summary) - o, "%s%s=%zu/%zu",
				      i ? " " : "", counts[i].cloud, counts[i].v4, counts[i].v6);
	log_msg(server->log, LOG_INFO,
		"%s: %zu prefixes, %u regions, %zu mirror rules (ipv4/ipv6 per cloud: %s)", what,
		state->ranges.count, state->regions.count ? state->regions.count - 1 : 0,
		state->rules.count, n ? summary : "none");
}

static void reload(struct server *server)
{
	char err[1024];
	unsigned generation;
	struct serve_state *current = state_holder_acquire(&server->states, &generation);
	struct serve_state *next = serve_state_load(server->config, current, err, sizeof(err));
	serve_state_release(current);
	if (!next) {
		log_msg(server->log, LOG_ERROR, "reload failed, keeping the last good state: %s",
			err);
		return;
	}
	/* Publish first: the new region table is a superset of the old one, so a
	 * tag written by XDP from either generation names a known region. */
	state_holder_publish(&server->states, next);
	if (server->xdp &&
	    xdp_path_reload(server->xdp, &next->ranges, &next->regions, err, sizeof(err)) != 0) {
		log_msg(server->log, LOG_ERROR,
			"reload of the XDP maps failed, they keep the "
			"previous ranges: %s",
			err);
	}
	log_state(server, next, "reloaded");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct server *server = arg;
	if (sig == SIGHUP) {
		log_msg(server->log, LOG_INFO, "SIGHUP: reloading ranges and mirror rules");
		reload(server);
		return;
	}
	log_msg(server->log, LOG_INFO, "%s: stopping (draining for up to 5 s)",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(server->base, NULL);
}

static void log_config(const struct server *server)
{
	const struct config *c = server->config;
	log_msg(server->log, LOG_INFO,
		"config: upstream=%s upstream-path=%s signature-upstream=%s default-mirror=%s "
		"mirrors=%s trusted-proxies=%zu xff-hops=%u workers=%u xdp=%s",
		c->upstream, *c->upstream_path ? c->upstream_path : "(none)",
		c->signature_upstream ? c->signature_upstream : "(off)", c->default_mirror,
		c->mirrors_file ? c->mirrors_file : "(built-in)", c->proxies.count, c->xff_hops,
		c->workers, c->xdp_iface ? c->xdp_iface : "(off)");
}

static void log_xdp(void *ctx, const char *message)
{
	const struct server *server = ctx;
	log_msg(server->log, LOG_INFO, "XDP: %s", message);
}

static int open_xdp(struct server *server, uint16_t port)
{
	const struct config *c = server->config;
	if (!c->xdp_iface)
		return 0;
	library_log_install(server->log);
	struct xdp_path_options options = {
	    .iface = c->xdp_iface,
	    .mode = c->xdp_mode,
	    .bpffs_dir = c->bpffs_dir,
	    .keep = c->xdp_keep,
	    .listen_ports = &port,
	    .listen_port_count = 1,
	    .log = log_xdp,
	    .log_ctx = server,
	};
	char err[1024];
	struct serve_state *state = state_holder_acquire(&server->states, NULL);
	server->xdp = xdp_path_open(&options, &state->ranges, &state->regions, err, sizeof(err));
	serve_state_release(state);
	if (!server->xdp) {
		log_msg(server->log, LOG_ERROR, "XDP: %s", err);
		return -1;
	}
	log_msg(server->log, LOG_INFO,
		"XDP: tagging connections on %s (mode %s, program id %u), maps pinned in %s",
		c->xdp_iface, xdp_path_mode_name(xdp_path_attached_mode(server->xdp)),
		xdp_path_prog_id(server->xdp), c->bpffs_dir);
	return 0;
}

static int start_workers(struct server *server, int *fds)
{
	server->workers = calloc(server->worker_count, sizeof(*server->workers));
	if (!server->workers)
		return -1;
	for (unsigned i = 0; i < server->worker_count; i++) {
		struct worker *w = &server->workers[i];
		w->index = i;
		w->shared = &server->shared;
		w->listen_fd = fds[i];
		fds[i] = -1;
		if (worker_start(w) != 0) {
			log_msg(server->log, LOG_ERROR, "worker %u failed to start", i);
			server->worker_count = i;
			return -1;
		}
	}
	return 0;
}

static void stop_workers(struct server *server)
{
	for (unsigned i = 0; i < server->worker_count; i++)
		worker_request_stop(&server->workers[i]);
	for (unsigned i = 0; i < server->worker_count; i++)
		worker_join(&server->workers[i]);
	free(server->workers);
}

int server_run(const struct config *config, const struct logger *log)
{
	struct server server = {.config = config, .log = log, .worker_count = config->workers};
	char err[1024];
	int status = 1;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	evthread_use_pthreads();
	log_config(&server);
	struct serve_state *state = serve_state_load(config, NULL, err, sizeof(err));
	if (!state) {
		log_msg(log, LOG_ERROR, "%s", err);
		curl_global_cleanup();
		return 2;
	}
	log_state(&server, state, "ranges loaded");
	state_holder_init(&server.states, state);
	server.shared = (struct server_shared){
	    .config = config,
	    .log = log,
	    .states = &server.states,
	    .access_log = config->access_log,
	    .route = {.upstream = config->upstream,
		      .upstream_path = config->upstream_path,
		      .signature_upstream = config->signature_upstream,
		      .info_url = config->info_url,
		      .privacy_url = config->privacy_url},
	};
	int *fds = calloc(config->workers, sizeof(int));
	uint16_t port = 0;
	if (!fds || listen_sockets_open(config->listen_host, config->listen_port, fds,
					config->workers, &port, err, sizeof(err)) != 0) {
		log_msg(log, LOG_ERROR, "%s", fds ? err : "out of memory");
		free(fds);
		state_holder_destroy(&server.states);
		curl_global_cleanup();
		return 1;
	}
	if (open_xdp(&server, port) != 0)
		goto out_fds;
	server.shared.xdp = server.xdp;
	server.base = event_base_new();
	struct event *sig_hup = evsignal_new(server.base, SIGHUP, on_signal, &server);
	struct event *sig_term = evsignal_new(server.base, SIGTERM, on_signal, &server);
	struct event *sig_int = evsignal_new(server.base, SIGINT, on_signal, &server);
	if (!server.base || !sig_hup || !sig_term || !sig_int || event_add(sig_hup, NULL) ||
	    event_add(sig_term, NULL) || event_add(sig_int, NULL)) {
		log_msg(log, LOG_ERROR, "cannot set up signal handling");
		goto out_events;
	}
	if (start_workers(&server, fds) != 0)
		goto out_workers;
	log_msg(log, LOG_INFO, "listening on %s%s%s:%u with %u workers",
		config->listen_host && strchr(config->listen_host, ':') ? "[" : "",
		config->listen_host ? config->listen_host : "*",
		config->listen_host && strchr(config->listen_host, ':') ? "]" : "", port,
		config->workers);
	event_base_dispatch(server.base);
	status = 0;
out_workers:
	stop_workers(&server);
out_events:
	if (sig_hup)
		event_free(sig_hup);
	if (sig_term)
		event_free(sig_term);
	if (sig_int)
		event_free(sig_int);
	if (server.base)
		event_base_free(server.base);
	if (server.xdp)
		xdp_path_close(server.xdp);
out_fds:
	for (unsigned i = 0; i < config->workers; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	state_holder_destroy(&server.states);
	curl_global_cleanup();
	if (status == 0)
		log_msg(log, LOG_INFO, "stopped");
	return status;
}
