#include "archeio/server/server.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archeio/core/version.h"
#include "archeio/mirrorcheck/mirror_health.h"
#include "archeio/server/serve_state.h"
#include "archeio/xdp/library_log.h"
#include "archeio/xdp/xdp_path.h"
#include "config_log.h"
#include "detach_helper.h"
#include "listener_set.h"
#include "metrics_collect.h"
#include "metrics_endpoint.h"
#include "pid_file.h"
#include "privileges.h"
#include "ranges_age.h"
#include "reload_load.h"
#include "server_limits.h"
#include "server_startup.h"
#include "server_tls.h"
#include "worker.h"

/* The signals the main loop handles: SIGHUP reloads, the others stop. */
static const int handled_signals[] = {SIGHUP, SIGTERM, SIGINT};
#define SIGNAL_COUNT (sizeof(handled_signals) / sizeof(handled_signals[0]))

/* How far server_open() got: server_close() undoes exactly that much. */
enum server_stage { STAGE_NONE, STAGE_STATE, STAGE_TLS, STAGE_LIMITS, STAGE_LISTENERS };

struct server {
	enum server_stage stage;
	const struct config *config;
	const struct logger *log;
	struct state_holder states;
	struct server_shared shared; /* shared.xdp: the XDP path, NULL without XDP */
	struct listener_set listeners;
	struct server_tls tls;
	struct server_limits limits; /* --rate-limit, --xdp-syn-limit, --limits-file */
	struct worker *workers;
	unsigned worker_count;
	struct event_base *base;
	struct event *signals[SIGNAL_COUNT];
	struct run_as run_as; /* --user, looked up at start */
	struct detach_helper helper;
	struct metrics_sources metrics;		   /* what /metrics and /readyz read */
	struct metrics_endpoint *metrics_endpoint; /* NULL without --metrics-listen */
	struct event *age_timer;		   /* the hourly stale-ranges check */
};

/* What the ranges load fixed up (a provider CIDR with host bits set), one
 * warning each, then how many more there were beyond those kept. */
static void log_ranges_warnings(const struct server *server, const struct ranges_warnings *w)
{
	size_t kept = ranges_warnings_kept(w);
	for (size_t i = 0; i < kept; i++)
		log_msg(server->log, LOG_WARN, "ranges: %s", w->text[i]);
	if (w->total > kept)
		log_msg(server->log, LOG_WARN, "ranges: and %zu more warnings like these",
			w->total - kept);
}

/* Each upstream rule, so the operator sees where each region's requests go. */
static void log_upstream_rules(const struct server *server, const struct mirror_rules *rules)
{
	for (size_t i = 0; i < rules->count; i++) {
		const struct mirror_rule *rule = &rules->rules[i];
		const struct log_field fields[] = {
		    LOG_TEXT("cloud", rule->cloud),
		    LOG_TEXT("region", rule->region[0] ? rule->region : NULL),
		    LOG_TEXT("upstream", rule->base_url),
		};
		log_record(server->log, LOG_INFO, "upstream rule", fields,
			   sizeof(fields) / sizeof(fields[0]));
	}
}

/* Numbers as fields: prefixes, regions and mirror rules; per_cloud gives
 * each cloud's IPv4/IPv6 prefix counts ("aws=9000/3000 gcp=..."). */
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
	const struct log_field fields[] = {
	    LOG_NUMBER("prefixes", state->ranges.count),
	    LOG_NUMBER("regions", state->regions.count ? state->regions.count - 1 : 0),
	    LOG_NUMBER("mirror_rules", state->rules.count),
	    LOG_NUMBER("upstream_rules", state->upstreams.count),
	    LOG_TEXT("per_cloud", n ? summary : NULL),
	};
	log_ranges_warnings(server, &state->ranges.warnings);
	log_record(server->log, LOG_INFO, what, fields, sizeof(fields) / sizeof(fields[0]));
	log_upstream_rules(server, &state->upstreams);
	/* It serves, but no client can be placed: the operator must hear it. */
	if (state->ranges.count == 0)
		log_msg(server->log, LOG_WARN,
			"no ranges loaded: %s; every client is unlisted and gets the * mirror rule",
			server->config->ranges_count ? "the --ranges given hold no prefixes"
						     : "no --ranges given");
	ranges_age_warn(state, server->config->ranges_max_age_s, (int64_t)time(NULL), server->log);
}

static void reload(struct server *server)
{
	char err[1024];
	unsigned generation;
	struct serve_state *current = state_holder_acquire(&server->states, &generation);
	struct reload_stats stats;
	struct serve_state *next = reload_load(server->config, current, &stats, err, sizeof(err));
	serve_state_release(current);
	if (!next) {
		server->metrics.reloads_failed++;
		log_msg(server->log, LOG_ERROR, "reload failed, keeping the last good state: %s",
			err);
		return;
	}
	server->metrics.reloads_ok++;
	log_msg(server->log, LOG_INFO, "reload loaded at nice %d in %.1f ms of CPU", stats.nice,
		(double)stats.cpu_ns / 1e6);
	/* Publish first: the new region table is a superset of the old one, so a
	 * tag written by XDP from either generation names a known region. */
	state_holder_publish(&server->states, next);
	if (server->shared.xdp && xdp_path_reload(server->shared.xdp, &next->ranges, &next->regions,
						  err, sizeof(err)) != 0) {
		log_msg(server->log, LOG_ERROR,
			"reload of the XDP maps failed, they keep the "
			"previous ranges: %s",
			err);
	}
	log_state(server, next, "reloaded");
}

/* Pins removed, or bpffs unmounted, under the server: the program and the
 * server keep the maps through their fds, but the operator's tools lose them.
 * SIGHUP is when archeio looks, says so, and pins again where it can. */
static void repin_xdp(const struct server *server)
{
	const char *dir = server->config->bpffs_dir;
	char err[512];
	if (!server->shared.xdp)
		return;
	int count = xdp_path_repin(server->shared.xdp, err, sizeof(err));
	if (count > 0)
		log_msg(server->log, LOG_WARN,
			"XDP: %d pins were missing from %s (removed under the running server); "
			"pinned them again",
			count, dir);
	else if (count < 0)
		log_msg(server->log, LOG_WARN,
			"XDP: cannot pin in %s any more (%s): serving on with the maps archeio "
			"holds; `archeio xdp status`, `archeio lookup` and bpftool cannot see them "
			"until archeio is restarted",
			dir, err);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct server *server = arg;
	if (sig == SIGHUP) {
		log_msg(server->log, LOG_INFO, "SIGHUP: reloading ranges and mirror rules%s%s",
			server->tls.on ? " and TLS certificates" : "",
			server->config->limits_file ? " and limits" : "");
		/* Independent: a bad ranges file does not hold back a renewed
		 * certificate or a limit the operator needs now. */
		server_tls_reload(&server->tls, server->config, server->log);
		server_limits_reload(&server->limits, server->shared.xdp);
		repin_xdp(server);
		reload(server);
		return;
	}
	log_msg(server->log, LOG_INFO, "%s: stopping (draining for up to 5 s)",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(server->base, NULL);
}

static void log_xdp(void *ctx, const char *message)
{
	const struct server *server = ctx;
	log_msg(server->log, LOG_INFO, "XDP: %s", message);
}

static int open_xdp(struct server *server)
{
	const struct config *c = server->config;
	if (!c->xdp_iface)
		return 0;
	library_log_install(server->log);
	uint16_t ports[WORKER_MAX_LISTENERS];
	struct xdp_path_options options = {
	    .iface = c->xdp_iface,
	    .mode = c->xdp_mode,
	    .bpffs_dir = c->bpffs_dir,
	    .keep = c->xdp_keep,
	    .listen_ports = ports,
	    .listen_port_count =
		listener_set_ports(&server->listeners, ports, WORKER_MAX_LISTENERS),
	    .log = log_xdp,
	    .log_ctx = server,
	};
	char err[1024];
	/* The limits in force (flags and --limits-file): SYN limit and exempt CIDRs. */
	struct limits_state *limits = server_limits_current(&server->limits);
	const uint32_t *limit = limits->values.value;
	options.syn_limit = limit[LIMITS_SYN_LIMIT];
	options.syn_burst = limit[LIMITS_SYN_BURST];
	struct ip_prefix *syn_exempt = NULL;
	int exempt_rc = server_limits_syn_exempt(limits, c, &syn_exempt, &options.syn_exempt_count);
	limits_state_release(limits);
	options.syn_exempt = syn_exempt;
	if (exempt_rc != 0) {
		log_msg(server->log, LOG_ERROR, "XDP: out of memory");
		return -1;
	}
	struct serve_state *state = state_holder_acquire(&server->states, NULL);
	server->shared.xdp =
	    xdp_path_open(&options, &state->ranges, &state->regions, err, sizeof(err));
	serve_state_release(state);
	free(syn_exempt);
	if (!server->shared.xdp) {
		log_msg(server->log, LOG_ERROR, "XDP: %s", err);
		return -1;
	}
	log_msg(server->log, LOG_INFO,
		"XDP: tagging connections on %s (mode %s, program id %u), maps pinned in %s",
		c->xdp_iface, xdp_path_mode_name(xdp_path_attached_mode(server->shared.xdp)),
		xdp_path_prog_id(server->shared.xdp), c->bpffs_dir);
	if (options.syn_limit)
		log_msg(server->log, LOG_INFO,
			"XDP: SYN limit %u/s per source (IPv4 address, IPv6 /64), burst %u, %zu "
			"exempt CIDRs (with the trusted proxies)",
			(unsigned)options.syn_limit, (unsigned)options.syn_burst,
			options.syn_exempt_count);
	return 0;
}

static int start_workers(struct server *server)
{
	/* Out of memory here only costs the sharing: each checker keeps its own. */
	server->shared.mirror_health = mirror_health_new(server->config->probe_interval_ms);
	server->workers = calloc(server->worker_count, sizeof(*server->workers));
	if (!server->workers) {
		server->worker_count = 0;
		return -1;
	}
	for (unsigned i = 0; i < server->worker_count; i++) {
		struct worker *w = &server->workers[i];
		w->index = i;
		w->shared = &server->shared;
		listener_set_give(&server->listeners, i, w);
		if (worker_start(w) != 0) {
			log_msg(server->log, LOG_ERROR, "worker %u failed to start", i);
			server->worker_count = i;
			return -1;
		}
	}
	server->metrics.workers = server->workers;
	server->metrics.worker_count = server->worker_count;
	return 0;
}

static void stop_workers(struct server *server)
{
	for (unsigned i = 0; i < server->worker_count; i++)
		worker_request_stop(&server->workers[i]);
	for (unsigned i = 0; i < server->worker_count; i++)
		worker_join(&server->workers[i]);
	server->metrics.workers = NULL;
	server->metrics.worker_count = 0;
	free(server->workers);
	mirror_health_free(server->shared.mirror_health);
	server->shared.mirror_health = NULL;
}

/* Process-wide library set-up, before any thread runs. */
static void init_process(void)
{
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	evthread_use_pthreads();
}

/* Ranges and mirror rules, then what every worker reads. */
static int load_first_state(struct server *server)
{
	const struct config *config = server->config;
	char err[1024];
	struct serve_state *state = serve_state_load(config, NULL, err, sizeof(err));
	if (!state) {
		log_msg(server->log, LOG_ERROR, "%s", err);
		return -1;
	}
	log_state(server, state, "ranges loaded");
	state_holder_init(&server->states, state);
	server->metrics.config = config;
	server->metrics.states = &server->states;
	server->shared = (struct server_shared){
	    .config = config,
	    .log = server->log,
	    .states = &server->states,
	    .route = {.upstream = config->upstream,
		      .upstream_path = config->upstream_path,
		      .signature_upstream = config->signature_upstream,
		      .info_url = config->info_url,
		      .privacy_url = config->privacy_url},
	};
	return 0;
}

/* One SO_REUSEPORT socket per worker and address; nothing is left open on
 * failure. */
static int open_listeners(struct server *server)
{
	char err[1024];
	if (listener_set_open(&server->listeners, server->config, err, sizeof(err)) != 0) {
		log_msg(server->log, LOG_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

/* The main loop's base: made before --user, so that the metrics listener
 * (on it) is bound while the process still may; signals join it later. */
static int open_base(struct server *server)
{
	if (!server->base && !(server->base = event_base_new()))
		return -1;
	return 0;
}

static int open_signals(struct server *server)
{
	if (open_base(server) != 0)
		return -1;
	for (size_t i = 0; i < SIGNAL_COUNT; i++) {
		server->signals[i] =
		    evsignal_new(server->base, handled_signals[i], on_signal, server);
		if (!server->signals[i] || event_add(server->signals[i], NULL) != 0)
			return -1;
	}
	return 0;
}

static void close_signals(struct server *server)
{
	for (size_t i = 0; i < SIGNAL_COUNT; i++)
		if (server->signals[i])
			event_free(server->signals[i]);
}

static void on_age_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *server = arg;
	struct serve_state *state = state_holder_acquire(&server->states, NULL);
	ranges_age_warn(state, server->config->ranges_max_age_s, (int64_t)time(NULL), server->log);
	serve_state_release(state);
}

static bool render_metrics(void *ctx, struct buf *out)
{
	const struct server *server = ctx;
	return metrics_collect_render(&server->metrics, out);
}

static bool ready(void *ctx, char *reason, size_t cap)
{
	const struct server *server = ctx;
	return metrics_collect_ready(&server->metrics, reason, cap);
}

/* What the operator watches, on the main loop: the metrics listener (with
 * --metrics-listen) and the hourly stale-ranges check. */
static int open_operator_events(struct server *server)
{
	static const struct metrics_endpoint_ops ops = {.render = render_metrics, .ready = ready};
	const struct config *c = server->config;
	struct timeval hourly = {RANGES_AGE_CHECK_S, 0};
	if (open_base(server) != 0) {
		log_msg(server->log, LOG_ERROR, "cannot make the main event loop (out of memory?)");
		return -1;
	}
	server->age_timer = event_new(server->base, -1, EV_PERSIST, on_age_timer, server);
	if (!server->age_timer || event_add(server->age_timer, &hourly) != 0) {
		log_msg(server->log, LOG_ERROR,
			"cannot set up the hourly stale-ranges check (out of memory?)");
		return -1;
	}
	if (!c->metrics_listen)
		return 0;
	char err[512], where[128];
	server->metrics_endpoint =
	    metrics_endpoint_open(server->base, c->metrics_listen, &ops, server, err, sizeof(err));
	if (!server->metrics_endpoint) {
		log_msg(server->log, LOG_ERROR, "%s", err);
		return -1;
	}
	metrics_endpoint_describe(server->metrics_endpoint, where, sizeof(where));
	log_msg(server->log, LOG_INFO, "metrics on http://%s/metrics (and /healthz, /readyz)",
		where);
	return 0;
}

static void close_operator_events(struct server *server)
{
	metrics_endpoint_close(server->metrics_endpoint);
	server->metrics_endpoint = NULL;
	if (server->age_timer)
		event_free(server->age_timer);
	server->age_timer = NULL;
}

static void log_listening(const struct server *server)
{
	char where[1024];
	listener_set_describe(&server->listeners, where, sizeof(where));
	unsigned workers = server->config->workers;
	log_msg(server->log, LOG_INFO, "listening on %s with %u worker%s", where, workers,
		workers == 1 ? "" : "s");
}

/* Before anything starts: a pid file naming another running archeio means
 * two servers would answer to one name for SIGHUP. */
static int check_pid_file(const struct server *server)
{
	const char *path = server->config->pid_file;
	if (!path)
		return 0;
	char err[1024];
	pid_t stale;
	switch (pid_file_check(path, "/proc", getpid(), &stale, err, sizeof(err))) {
	case PID_FILE_BUSY:
		log_msg(server->log, LOG_ERROR, "%s", err);
		return -1;
	case PID_FILE_STALE:
		if (stale > 0)
			log_msg(server->log, LOG_INFO,
				"replacing the stale pid file %s (pid %d is not a running archeio)",
				path, (int)stale);
		else
			log_msg(server->log, LOG_INFO,
				"replacing the pid file %s, which holds no pid", path);
		return 0;
	case PID_FILE_ABSENT:
		break;
	}
	return 0;
}

/* Only once signals are handled: a SIGHUP sent on the strength of the file
 * must reload, not kill (its default action). */
static int write_pid_file(const struct server *server)
{
	const char *path = server->config->pid_file;
	char err[1024];
	if (!path)
		return 0;
	if (pid_file_write(path, getpid(), err, sizeof(err)) != 0) {
		log_msg(server->log, LOG_ERROR, "%s", err);
		return -1;
	}
	log_msg(server->log, LOG_INFO, "pid file %s: pid %d (removed at exit)", path,
		(int)getpid());
	return 0;
}

/* Workers serve until a stop signal ends the main loop. */
static int run_workers(struct server *server)
{
	int status = 1;
	if (start_workers(server) == 0 && write_pid_file(server) == 0) {
		log_listening(server);
		event_base_dispatch(server->base);
		status = 0;
	}
	stop_workers(server);
	if (server->config->pid_file)
		pid_file_remove(server->config->pid_file, getpid());
	return status;
}

static int run_with_signals(struct server *server)
{
	if (open_signals(server) != 0) {
		log_msg(server->log, LOG_ERROR, "cannot set up signal handling");
		close_signals(server);
		return 1;
	}
	int status = run_workers(server);
	close_signals(server);
	return status;
}

/* Before anything starts, so that a misspelt user is a configuration error. */
static int resolve_run_as(struct server *server)
{
	char err[256];
	const struct config *c = server->config;
	if (!c->run_user)
		return 0;
	if (privileges_resolve(c->run_user, c->run_group, &server->run_as, err, sizeof(err)) != 0) {
		log_msg(server->log, LOG_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

/* --user: the ports are bound and XDP is attached, so from here on the
 * process keeps only what serving and reloading need; the workers, started
 * next, inherit it. Any failure stops the start. */
static int lower_privileges(struct server *server)
{
	const struct config *c = server->config;
	const struct run_as *who = &server->run_as;
	struct xdp_path *xdp = server->shared.xdp;
	char err[512], caps[256];
	if (!c->run_user)
		return 0;
	uint64_t keep = privileges_needed(xdp != NULL, privileges_last_cap());
	if ((xdp && xdp_path_give_pins(xdp, who->uid, who->gid, err, sizeof(err)) != 0) ||
	    (xdp && !c->xdp_keep &&
	     detach_helper_start(&server->helper, xdp, server->log, err, sizeof(err)) != 0) ||
	    privileges_drop(who, keep, err, sizeof(err)) != 0) {
		log_msg(server->log, LOG_ERROR, "cannot run as user %s: %s; refusing to start",
			who->user, err);
		return -1;
	}
	privileges_describe(keep, caps, sizeof(caps));
	log_msg(server->log, LOG_INFO,
		"running as user %s (uid %lu), group %s (gid %lu), capabilities: %s", who->user,
		(unsigned long)who->uid, who->group, (unsigned long)who->gid, caps);
	return 0;
}

/* Configuration and data first (exit 2), then what the process opens (exit
 * 1): sockets, then XDP (which needs the bound port), then the metrics
 * listener, then --user. */
static int open_stages(struct server *server)
{
	const struct config *config = server->config;
	if (check_pid_file(server) != 0 || resolve_run_as(server) != 0 ||
	    load_first_state(server) != 0)
		return 2;
	server->stage = STAGE_STATE;
	if (server_tls_open(&server->tls, config, server->log) != 0)
		return 2;
	server->stage = STAGE_TLS;
	server->shared.tls = server->tls.on ? &server->tls.holder : NULL;
	server->metrics.tls = server->shared.tls;
	if (server_limits_open(&server->limits, config, server->log) != 0)
		return 2;
	server->stage = STAGE_LIMITS;
	server->shared.limits = &server->limits.holder;
	server->metrics.limits_reloads_ok = &server->limits.reloads_ok;
	server->metrics.limits_reloads_failed = &server->limits.reloads_failed;
	if (open_listeners(server) != 0)
		return 1;
	server->stage = STAGE_LISTENERS;
	if (open_xdp(server) != 0)
		return 1;
	server->metrics.xdp = server->shared.xdp;
	if (open_operator_events(server) != 0 || lower_privileges(server) != 0)
		return 1;
	return 0;
}

int server_open(const struct config *config, const struct logger *log, struct server **out)
{
	*out = NULL;
	struct server *server = calloc(1, sizeof(*server));
	if (!server) {
		log_msg(log, LOG_ERROR, "out of memory starting the server");
		return 1;
	}
	server->config = config;
	server->log = log;
	server->worker_count = config->workers;
	int status = open_stages(server);
	if (status != 0) {
		server_close(server);
		return status;
	}
	*out = server;
	return 0;
}

void server_poll(struct server *server)
{
	if (server->base)
		event_base_loop(server->base, EVLOOP_NONBLOCK);
}

/* In the reverse order of open_stages(); each step closes only what it opened. */
void server_close(struct server *server)
{
	if (!server)
		return;
	close_operator_events(server);
	server->metrics.xdp = NULL;
	xdp_path_close(server->shared.xdp);
	detach_helper_finish(&server->helper);
	if (server->base)
		event_base_free(server->base);
	if (server->stage >= STAGE_LISTENERS)
		listener_set_close(&server->listeners);
	if (server->stage >= STAGE_LIMITS)
		server_limits_close(&server->limits);
	if (server->stage >= STAGE_TLS)
		server_tls_close(&server->tls);
	if (server->stage >= STAGE_STATE)
		state_holder_destroy(&server->states);
	free(server);
}

int server_run(const struct config *config, const struct logger *log)
{
	init_process();
	log_msg(log, LOG_INFO, "archeio %s starting", archeio_version());
	config_log(config, log);
	struct server *server;
	int status = server_open(config, log, &server);
	if (status == 0) {
		status = run_with_signals(server);
		server_close(server);
	}
	curl_global_cleanup();
	if (status == 0)
		log_msg(log, LOG_INFO, "stopped");
	return status;
}
