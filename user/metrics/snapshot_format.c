/* A metrics snapshot as Prometheus text (see snapshot.h). One function per
 * group of families; every family has its HELP and TYPE even when it has no
 * sample yet, so the set of names does not depend on the traffic seen. */
#include "archeio/metrics/snapshot.h"

#include <string.h>

#include "archeio/metrics/exposition.h"

#define L(n, v) ((struct metrics_label){(n), (v)})

const char *const metrics_close_reason_names[METRICS_CLOSE_REASONS] = {
    "client", "server", "timeout", "limit", "error",
};
const char *const metrics_http_error_names[METRICS_HTTP_ERRORS] = {
    "400", "408", "414", "431", "505",
};
const char *const metrics_proxy_refusal_names[METRICS_PROXY_REFUSALS] = {
    "untrusted",
    "malformed",
    "timeout",
};
const char *const metrics_check_result_names[METRICS_CHECK_RESULTS] = {
    "present",
    "absent",
    "error",
    "timeout",
};

bool metrics_ranges_too_old(bool has_data_time, int64_t data_time, int64_t now, uint64_t max_age_s,
			    uint64_t *age_s)
{
	uint64_t age = has_data_time && now > data_time ? (uint64_t)(now - data_time) : 0;
	if (age_s)
		*age_s = age;
	return max_age_s > 0 && has_data_time && age > max_age_s;
}

uint64_t metrics_ranges_age(const struct metrics_snapshot *s)
{
	uint64_t age;
	metrics_ranges_too_old(s->has_data_time, s->data_time, s->now, s->max_age_s, &age);
	return age;
}

bool metrics_ranges_stale(const struct metrics_snapshot *s)
{
	return metrics_ranges_too_old(s->has_data_time, s->data_time, s->now, s->max_age_s, NULL);
}

/* A family with one unlabelled sample. */
static void single(struct metrics_text *t, const char *name, enum metrics_type type,
		   const char *help, uint64_t value)
{
	metrics_family(t, name, type, help);
	metrics_sample(t, name, NULL, 0, value);
}

static void format_build(struct metrics_text *t, const struct metrics_snapshot *s)
{
	metrics_family(t, "archeio_build_info", METRICS_GAUGE,
		       "Always 1; the version label is the build's (git describe).");
	metrics_sample(t, "archeio_build_info", &L("version", s->version), 1, 1);
	single(t, "archeio_ready", METRICS_GAUGE,
	       "1 when /readyz answers 200 (serving, ranges loaded, XDP attached if asked for).",
	       s->ready);
	single(t, "archeio_workers", METRICS_GAUGE, "Worker event loops.", s->workers);
}

static void format_process(struct metrics_text *t, const struct metrics_snapshot *s)
{
	const struct metrics_process *p = &s->process;
	if (!p->ok)
		return;
	metrics_family(t, "process_start_time_seconds", METRICS_GAUGE,
		       "Start time of the process since the Unix epoch in seconds.");
	metrics_sample_micros(t, "process_start_time_seconds", NULL, 0, p->start_time_us);
	metrics_family(t, "process_cpu_seconds_total", METRICS_COUNTER,
		       "Total user and system CPU time spent in seconds.");
	metrics_sample_micros(t, "process_cpu_seconds_total", NULL, 0, p->cpu_us);
	single(t, "process_resident_memory_bytes", METRICS_GAUGE, "Resident memory size in bytes.",
	       p->resident_bytes);
	single(t, "process_virtual_memory_bytes", METRICS_GAUGE, "Virtual memory size in bytes.",
	       p->virtual_bytes);
	single(t, "process_open_fds", METRICS_GAUGE, "Number of open file descriptors.",
	       p->open_fds);
	single(t, "process_max_fds", METRICS_GAUGE, "Maximum number of open file descriptors.",
	       p->max_fds);
}

static void format_requests(struct metrics_text *t, const struct metrics_snapshot *s)
{
	metrics_family(t, "archeio_requests_total", METRICS_COUNTER,
		       "Requests answered, by route and status (what the HTTP layer refuses "
		       "itself is archeio_http_errors_total).");
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++)
		for (int st = 0; st < METRICS_STATUS_COUNT; st++)
			if (s->requests[r][st]) {
				struct metrics_label l[] = {
				    L("route", metrics_route_name((enum metrics_route)r)),
				    L("status", metrics_status_name((enum metrics_status)st))};
				metrics_sample(t, "archeio_requests_total", l, 2,
					       s->requests[r][st]);
			}
	metrics_family(t, "archeio_redirects_total", METRICS_COUNTER,
		       "307 answers by target: mirror, upstream, signature (upstream) or page "
		       "(info and privacy URLs).");
	for (int k = 0; k < METRICS_TARGET_COUNT; k++)
		metrics_sample(t, "archeio_redirects_total",
			       &L("target", metrics_target_name((enum metrics_target)k)), 1,
			       s->redirects[k]);
}

static void format_region_redirects(struct metrics_text *t, const struct metrics_snapshot *s)
{
	static const char name[] = "archeio_blob_redirects_total";
	metrics_family(t, name, METRICS_COUNTER,
		       "Blob redirects by the client's cloud and region (unlisted: in no range) "
		       "and target (mirror or upstream).");
	for (size_t i = 0; i < s->region_count; i++) {
		const struct metrics_region_redirects *r = &s->regions[i];
		const char *cloud = r->cloud ? r->cloud : "unlisted";
		const char *region = r->cloud ? r->region : "unlisted";
		const uint64_t values[2] = {r->mirror, r->upstream};
		const char *const targets[2] = {"mirror", "upstream"};
		for (int k = 0; k < 2; k++)
			if (values[k]) {
				struct metrics_label l[] = {L("cloud", cloud), L("region", region),
							    L("target", targets[k])};
				metrics_sample(t, name, l, 3, values[k]);
			}
	}
}

static void format_connections(struct metrics_text *t, const struct metrics_snapshot *s)
{
	uint64_t closed = 0;
	for (int i = 0; i < METRICS_CLOSE_REASONS; i++)
		closed += s->closed[i];
	single(t, "archeio_connections_open", METRICS_GAUGE, "Client connections open now.",
	       s->accepted >= closed ? s->accepted - closed : 0);
	single(t, "archeio_connections_accepted_total", METRICS_COUNTER,
	       "Client connections accepted.", s->accepted);
	metrics_family(t, "archeio_connections_closed_total", METRICS_COUNTER,
		       "Client connections closed, by the first cause: client, server (after a "
		       "last answer or at shutdown), timeout, limit, error.");
	for (int i = 0; i < METRICS_CLOSE_REASONS; i++)
		metrics_sample(t, "archeio_connections_closed_total",
			       &L("reason", metrics_close_reason_names[i]), 1, s->closed[i]);
	single(t, "archeio_accept_errors_total", METRICS_COUNTER,
	       "Failed accepts (out of file descriptors: accepting pauses 100 ms).",
	       s->accept_errors);
	metrics_family(t, "archeio_http_errors_total", METRICS_COUNTER,
		       "Answers the HTTP layer gives by itself: 400 malformed, 408 slow head, "
		       "414 long request line, 431 large headers, 505 version.");
	for (int i = 0; i < METRICS_HTTP_ERRORS; i++)
		metrics_sample(t, "archeio_http_errors_total",
			       &L("status", metrics_http_error_names[i]), 1, s->http_errors[i]);
	metrics_family(
	    t, "archeio_proxy_protocol_refused_total", METRICS_COUNTER,
	    "Connections closed by the PROXY protocol stage (--proxy-protocol): untrusted "
	    "(a header from a peer not in --trusted-proxy), malformed (a trusted proxy's "
	    "header invalid or too long), timeout (no header in time).");
	for (int i = 0; i < METRICS_PROXY_REFUSALS; i++)
		metrics_sample(t, "archeio_proxy_protocol_refused_total",
			       &L("reason", metrics_proxy_refusal_names[i]), 1,
			       s->proxy_refused[i]);
	single(t, "archeio_tls_handshake_failures_total", METRICS_COUNTER,
	       "TLS handshakes that failed or timed out (TLS listener only).",
	       s->tls_handshake_failures);
	single(t, "archeio_tls_plain_http_total", METRICS_COUNTER,
	       "Plain HTTP requests sent to the TLS port (answered 400).", s->tls_plain_http);
	single(t, "archeio_tls_reload_failures_total", METRICS_COUNTER,
	       "SIGHUP certificate reloads that failed (the old certificates stay).",
	       s->tls_reload_failures);
}

static void format_mirror_checks(struct metrics_text *t, const struct metrics_snapshot *s)
{
	metrics_family(t, "archeio_mirror_cache_hits_total", METRICS_COUNTER,
		       "Blob requests answered from the mirror check cache, by cached answer.");
	metrics_sample(t, "archeio_mirror_cache_hits_total", &L("answer", "present"), 1,
		       s->cache_present);
	metrics_sample(t, "archeio_mirror_cache_hits_total", &L("answer", "absent"), 1,
		       s->cache_absent);
	single(t, "archeio_mirror_cache_misses_total", METRICS_COUNTER,
	       "Blob requests that needed a new mirror check.", s->cache_misses);
	single(t, "archeio_mirror_check_joins_total", METRICS_COUNTER,
	       "Blob requests that waited for a check already in flight (single flight).",
	       s->check_joins);
	single(t, "archeio_mirror_checks_not_made_total", METRICS_COUNTER,
	       "Blob requests answered upstream without a check: over the in-flight limit, or "
	       "the check could not be set up.",
	       s->checks_not_made);
	metrics_family(t, "archeio_mirror_checks_total", METRICS_COUNTER,
		       "Mirror HEAD checks (health probes included) by origin and result.");
	for (size_t i = 0; i < s->origin_count; i++)
		for (int r = 0; r < METRICS_CHECK_RESULTS; r++) {
			struct metrics_label l[] = {L("origin", s->origins[i].origin),
						    L("result", metrics_check_result_names[r])};
			metrics_sample(t, "archeio_mirror_checks_total", l, 2,
				       s->origins[i].results[r]);
		}
	metrics_family(t, "archeio_mirror_check_duration_seconds", METRICS_HISTOGRAM,
		       "Duration of the mirror HEAD requests made.");
	struct metrics_histogram h = {.bounds_us = s->latency_bounds_us,
				      .bound_count = s->latency_bound_count,
				      .buckets = s->latency,
				      .sum_us = s->latency_sum_us};
	metrics_histogram_samples(t, "archeio_mirror_check_duration_seconds", NULL, 0, &h);
}

static void format_ranges_data(struct metrics_text *t, const struct metrics_snapshot *s)
{
	metrics_family(t, "archeio_ranges_prefixes", METRICS_GAUGE,
		       "Prefixes loaded, by cloud and address family.");
	for (size_t i = 0; i < s->cloud_count; i++) {
		struct metrics_label l4[] = {L("cloud", s->clouds[i].cloud), L("family", "ipv4")};
		struct metrics_label l6[] = {L("cloud", s->clouds[i].cloud), L("family", "ipv6")};
		metrics_sample(t, "archeio_ranges_prefixes", l4, 2, s->clouds[i].v4);
		metrics_sample(t, "archeio_ranges_prefixes", l6, 2, s->clouds[i].v6);
	}
	single(t, "archeio_ranges_regions", METRICS_GAUGE,
	       "Regions known (ids only grow across reloads).", s->regions_known);
	single(t, "archeio_ranges_generation", METRICS_GAUGE,
	       "The serve state's generation: 1 at start, +1 per successful reload.",
	       s->generation);
	metrics_family(t, "archeio_ranges_loaded_timestamp_seconds", METRICS_GAUGE,
		       "When the ranges in force were loaded, Unix seconds.");
	metrics_sample_signed(t, "archeio_ranges_loaded_timestamp_seconds", NULL, 0, s->loaded_at);
	metrics_family(t, "archeio_ranges_reloads_total", METRICS_COUNTER,
		       "SIGHUP reloads of ranges and mirror rules, by result.");
	metrics_sample(t, "archeio_ranges_reloads_total", &L("result", "success"), 1,
		       s->reloads_ok);
	metrics_sample(t, "archeio_ranges_reloads_total", &L("result", "failure"), 1,
		       s->reloads_failed);
}

static void format_ranges_age(struct metrics_text *t, const struct metrics_snapshot *s)
{
	if (s->has_data_time) {
		metrics_family(t, "archeio_ranges_data_timestamp_seconds", METRICS_GAUGE,
			       "When the ranges data was made: the newest publication stamp of "
			       "the files, else their newest modification time.");
		metrics_sample_signed(t, "archeio_ranges_data_timestamp_seconds", NULL, 0,
				      s->data_time);
	}
	single(t, "archeio_ranges_age_seconds", METRICS_GAUGE,
	       "Age of the ranges data (0 without ranges files).", metrics_ranges_age(s));
	single(t, "archeio_ranges_max_age_seconds", METRICS_GAUGE,
	       "--ranges-max-age (0: not checked).", s->max_age_s);
	single(t, "archeio_ranges_stale", METRICS_GAUGE,
	       "1 when the ranges data is older than --ranges-max-age.", metrics_ranges_stale(s));
}

static void format_ranges_files(struct metrics_text *t, const struct metrics_snapshot *s)
{
	static const char *const names[] = {
	    "archeio_ranges_file_prefixes",
	    "archeio_ranges_file_modified_timestamp_seconds",
	    "archeio_ranges_file_published_timestamp_seconds",
	    "archeio_ranges_file_change_number",
	};
	static const char *const helps[] = {
	    "Prefixes each ranges file added (before duplicates across files are removed).",
	    "Modification time of each ranges file, Unix seconds.",
	    "Publication time a ranges file states (AWS createDate, GCP creationTime).",
	    "Azure service tags changeNumber of each Azure file.",
	};
	for (size_t m = 0; m < 4; m++) {
		metrics_family(t, names[m], METRICS_GAUGE, helps[m]);
		for (size_t i = 0; i < s->file_count; i++) {
			const struct metrics_ranges_file *f = &s->files[i];
			struct metrics_label l[] = {L("file", f->path), L("format", f->format)};
			if (m == 0)
				metrics_sample(t, names[m], l, 2, f->prefixes);
			else if (m == 1)
				metrics_sample_signed(t, names[m], l, 2, f->modified);
			else if (m == 2 && f->published > 0)
				metrics_sample_signed(t, names[m], l, 2, f->published);
			else if (m == 3 && f->change_number >= 0)
				metrics_sample_signed(t, names[m], l, 2, f->change_number);
		}
	}
}

static void format_xdp(struct metrics_text *t, const struct metrics_snapshot *s)
{
	const struct metrics_xdp *x = &s->xdp;
	if (!x->on)
		return;
	single(t, "archeio_xdp_attached", METRICS_GAUGE,
	       "1 while the interface runs the XDP program.", x->attached);
	single(t, "archeio_xdp_packets_total", METRICS_COUNTER,
	       "Frames the XDP program saw (all CPUs).", x->packets);
	single(t, "archeio_xdp_syns_total", METRICS_COUNTER,
	       "SYNs without ACK to a listening port.", x->syns);
	single(t, "archeio_xdp_tagged_total", METRICS_COUNTER,
	       "SYNs whose source matched a range: connection tagged.", x->tagged);
	single(t, "archeio_xdp_untagged_total", METRICS_COUNTER,
	       "SYNs whose source matched no range.", x->untagged);
	single(t, "archeio_xdp_tag_errors_total", METRICS_COUNTER,
	       "SYNs that matched but whose tag could not be written.", x->tag_errors);
	metrics_family(t, "archeio_xdp_tagged_by_cloud_total", METRICS_COUNTER,
		       "Tagged SYNs by cloud.");
	for (size_t i = 0; i < x->cloud_count; i++)
		metrics_sample(t, "archeio_xdp_tagged_by_cloud_total",
			       &L("cloud", x->clouds[i].cloud), 1, x->clouds[i].tagged);
	single(t, "archeio_xdp_syn_drops_total", METRICS_COUNTER,
	       "SYNs dropped over --xdp-syn-limit (all CPUs).", x->syn_drops);
	metrics_family(t, "archeio_xdp_syn_drops_by_cloud_total", METRICS_COUNTER,
		       "SYNs dropped over --xdp-syn-limit, by the source's cloud.");
	for (size_t i = 0; i < x->cloud_count; i++)
		metrics_sample(t, "archeio_xdp_syn_drops_by_cloud_total",
			       &L("cloud", x->clouds[i].cloud), 1, x->clouds[i].syn_drops);
	single(t, "archeio_xdp_conn_tags", METRICS_GAUGE, "Tags written, not yet taken by accept.",
	       x->conn_tags);
	single(t, "archeio_xdp_conn_tags_capacity", METRICS_GAUGE,
	       "Capacity of the conn_tags map (LRU: the oldest tags go first).",
	       x->conn_tags_capacity);
}

static void format_rate_limit(struct metrics_text *t, const struct metrics_snapshot *s)
{
	if (!s->rate_limit_on)
		return;
	static const char name[] = "archeio_rate_limited_total";
	metrics_family(
	    t, name, METRICS_COUNTER,
	    "Requests refused by --rate-limit (429), by the client's cloud (unlisted: in "
	    "no range).");
	for (size_t i = 0; i < s->limited_count; i++)
		metrics_sample(t, name,
			       &L("cloud", s->limited[i].cloud ? s->limited[i].cloud : "unlisted"),
			       1, s->limited[i].limited);
}

static void format_limits_reloads(struct metrics_text *t, const struct metrics_snapshot *s)
{
	if (!s->limits_file)
		return;
	static const char name[] = "archeio_limits_reloads_total";
	metrics_family(t, name, METRICS_COUNTER,
		       "SIGHUP reloads of --limits-file, by result (a failure keeps the last "
		       "good limits).");
	metrics_sample(t, name, &L("result", "success"), 1, s->limits_reloads_ok);
	metrics_sample(t, name, &L("result", "failure"), 1, s->limits_reloads_failed);
}

bool metrics_format(const struct metrics_snapshot *snapshot, struct buf *out)
{
	struct metrics_text t = {.out = out};
	format_build(&t, snapshot);
	format_requests(&t, snapshot);
	format_region_redirects(&t, snapshot);
	format_rate_limit(&t, snapshot);
	format_limits_reloads(&t, snapshot);
	format_connections(&t, snapshot);
	format_mirror_checks(&t, snapshot);
	format_ranges_data(&t, snapshot);
	format_ranges_age(&t, snapshot);
	format_ranges_files(&t, snapshot);
	format_xdp(&t, snapshot);
	format_process(&t, snapshot);
	return !t.failed;
}
