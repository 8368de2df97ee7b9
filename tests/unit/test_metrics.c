/* The metrics subsystem: the exposition text (exact, for small inputs),
 * names and escaping, the snapshot's families, readiness reasons, /proc
 * parsing, the per-worker request counters, and that the label names
 * metrics keeps agree with the subsystems that count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/http/connection.h"
#include "archeio/metrics/exposition.h"
#include "archeio/metrics/process.h"
#include "archeio/metrics/readiness.h"
#include "archeio/metrics/request_counters.h"
#include "archeio/metrics/snapshot.h"
#include "archeio/mirrorcheck/mirror_check.h"

/* The text written so far, NUL-terminated (owned by b). */
static const char *text_of(struct buf *b)
{
	assert_true(buf_append(b, "", 1, 0));
	b->len--;
	return b->data;
}

static void exact_text_of_families_and_samples(void **state)
{
	(void)state;
	struct buf b = {0};
	struct metrics_text t = {.out = &b};
	metrics_family(&t, "archeio_x_total", METRICS_COUNTER, "Things.\nWith a \\ and a newline.");
	metrics_sample(&t, "archeio_x_total", NULL, 0, 42);
	struct metrics_label labels[] = {{"route", "blob"}, {"status", "307"}};
	metrics_sample(&t, "archeio_x_total", labels, 2, 18446744073709551615ull);
	metrics_family(&t, "archeio_y_seconds", METRICS_GAUGE, "Time.");
	metrics_sample_micros(&t, "archeio_y_seconds", NULL, 0, 1500000);
	metrics_sample_micros(&t, "archeio_y_seconds", &(struct metrics_label){"k", "v"}, 1, 250);
	metrics_sample_micros(&t, "archeio_y_seconds", &(struct metrics_label){"k", "w"}, 1,
			      3000000);
	metrics_sample_signed(&t, "archeio_y_seconds", &(struct metrics_label){"k", "z"}, 1, -5);
	assert_false(t.failed);
	assert_string_equal(text_of(&b),
			    "# HELP archeio_x_total Things.\\nWith a \\\\ and a newline.\n"
			    "# TYPE archeio_x_total counter\n"
			    "archeio_x_total 42\n"
			    "archeio_x_total{route=\"blob\",status=\"307\"} "
			    "18446744073709551615\n"
			    "# HELP archeio_y_seconds Time.\n"
			    "# TYPE archeio_y_seconds gauge\n"
			    "archeio_y_seconds 1.5\n"
			    "archeio_y_seconds{k=\"v\"} 0.00025\n"
			    "archeio_y_seconds{k=\"w\"} 3\n"
			    "archeio_y_seconds{k=\"z\"} -5\n");
	buf_free(&b);
}

/* What a ranges file or a URL may hold cannot end a label value early. */
static void label_values_are_escaped(void **state)
{
	(void)state;
	struct buf b = {0};
	struct metrics_text t = {.out = &b};
	struct metrics_label l[] = {{"file", "/r/a\"b\\c\nd.json"}, {"region", NULL}};
	metrics_sample(&t, "m", l, 2, 1);
	assert_false(t.failed);
	assert_string_equal(text_of(&b), "m{file=\"/r/a\\\"b\\\\c\\nd.json\",region=\"\"} 1\n");
	buf_free(&b);
}

static void names_are_checked(void **state)
{
	(void)state;
	static const char *const good[] = {"a", "archeio_x_total", "_x", "a:b", "A9_z"};
	static const char *const bad[] = {"", "9a", "a-b", "a b", "a.b", "é"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(metrics_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(metrics_name_valid(bad[i]));
	assert_false(metrics_name_valid(NULL));
	assert_true(metrics_label_name_valid("le"));
	assert_false(metrics_label_name_valid("a:b"));
	assert_false(metrics_label_name_valid("__name__"));
	/* A bad name fails the text instead of writing a broken line. */
	struct buf b = {0};
	struct metrics_text t = {.out = &b};
	metrics_sample(&t, "ok", &(struct metrics_label){"bad-label", "x"}, 1, 1);
	assert_true(t.failed);
	t.failed = false;
	metrics_family(&t, "bad name", METRICS_GAUGE, "x");
	assert_true(t.failed);
	t.failed = false;
	metrics_sample(&t, "bad name", NULL, 0, 1);
	assert_true(t.failed);
	/* More labels than a series may have: 9 on a sample, 8 (and le) on a histogram. */
	struct metrics_label nine[9];
	for (size_t i = 0; i < 9; i++)
		nine[i] = (struct metrics_label){"l", "v"};
	t.failed = false;
	metrics_sample(&t, "ok", nine, 9, 1);
	assert_true(t.failed);
	const uint64_t bounds[] = {5000}, buckets[] = {1, 1};
	struct metrics_histogram h = {
	    .bounds_us = bounds, .bound_count = 1, .buckets = buckets, .sum_us = 1};
	t.failed = false;
	metrics_histogram_samples(&t, "d_seconds", nine, 8, &h);
	assert_true(t.failed);
	/* A histogram name too long for its _bucket, _sum and _count names. */
	char long_name[200];
	memset(long_name, 'd', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	t.failed = false;
	metrics_histogram_samples(&t, long_name, NULL, 0, &h);
	assert_true(t.failed);
	buf_free(&b);
}

static void histogram_is_cumulative(void **state)
{
	(void)state;
	struct buf b = {0};
	struct metrics_text t = {.out = &b};
	const uint64_t bounds[] = {5000, 250000, 1000000};
	const uint64_t buckets[] = {2, 0, 1, 3};
	struct metrics_histogram h = {
	    .bounds_us = bounds, .bound_count = 3, .buckets = buckets, .sum_us = 12345678};
	metrics_histogram_samples(&t, "d_seconds", NULL, 0, &h);
	assert_false(t.failed);
	assert_string_equal(text_of(&b), "d_seconds_bucket{le=\"0.005\"} 2\n"
					 "d_seconds_bucket{le=\"0.25\"} 2\n"
					 "d_seconds_bucket{le=\"1\"} 3\n"
					 "d_seconds_bucket{le=\"+Inf\"} 6\n"
					 "d_seconds_sum 12.345678\n"
					 "d_seconds_count 6\n");
	buf_free(&b);
}

/* Lines of text that start with prefix, joined (each with its newline). */
static char *lines_starting(const char *text, const char *prefix)
{
	size_t cap = strlen(text) + 1, len = 0;
	char *out = calloc(1, cap);
	assert_non_null(out);
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) + 1 : strlen(line);
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			memcpy(out + len, line, n);
			len += n;
		}
		line += n;
	}
	return out;
}

static void assert_lines(const char *text, const char *prefix, const char *want)
{
	char *got = lines_starting(text, prefix);
	if (strcmp(got, want) != 0)
		fail_msg("lines starting %s:\n%s\nwant:\n%s", prefix, got, want);
	free(got);
}

/* A small snapshot: the families' samples, exactly. */
static void snapshot_text(void **state)
{
	(void)state;
	static const struct metrics_region_redirects regions[] = {
	    {NULL, NULL, 1, 2},
	    {"aws", "us-\"east\"-1", 3, 0},
	};
	static const struct metrics_origin_checks origins[] = {
	    {"https://m.example", {5, 1, 0, 2}},
	};
	static const struct metrics_cloud_prefixes clouds[] = {{"aws", 10, 4}};
	static const struct metrics_ranges_file files[] = {
	    {"/r/aws.json", "aws", 14, 1700000000, 1690000000, -1},
	    {"/r/azure.json", "azure", 3, 1700000001, 0, 321},
	};
	static const uint64_t bounds[] = {5000, 10000};
	struct metrics_snapshot s = {
	    .version = "v1.2-3-gabc",
	    .ready = true,
	    .workers = 2,
	    .regions = regions,
	    .region_count = 2,
	    .accepted = 10,
	    .closed = {4, 3, 1, 0, 1},
	    .http_errors = {1, 0, 0, 0, 1},
	    .proxy_refused = {0, 2, 0},
	    .cache_present = 7,
	    .origins = origins,
	    .origin_count = 1,
	    .latency_bounds_us = bounds,
	    .latency_bound_count = 2,
	    .latency = {1, 1, 1},
	    .latency_sum_us = 2000000,
	    .clouds = clouds,
	    .cloud_count = 1,
	    .generation = 3,
	    .loaded_at = 1700000100,
	    .files = files,
	    .file_count = 2,
	    .has_data_time = true,
	    .data_time = 1690000000,
	    .now = 1690000000 + 8 * 86400,
	    .max_age_s = 7 * 86400,
	    .reloads_ok = 2,
	    .reloads_failed = 1,
	};
	s.requests[METRICS_ROUTE_BLOB][METRICS_STATUS_307] = 6;
	s.requests[METRICS_ROUTE_OTHER][METRICS_STATUS_404] = 1;
	s.redirects[METRICS_TARGET_MIRROR] = 4;
	struct buf b = {0};
	assert_true(metrics_format(&s, &b));
	const char *text = text_of(&b);
	assert_lines(text, "archeio_build_info", "archeio_build_info{version=\"v1.2-3-gabc\"} 1\n");
	assert_lines(text, "archeio_requests_total",
		     "archeio_requests_total{route=\"blob\",status=\"307\"} 6\n"
		     "archeio_requests_total{route=\"other\",status=\"404\"} 1\n");
	assert_lines(text, "archeio_redirects_total",
		     "archeio_redirects_total{target=\"mirror\"} 4\n"
		     "archeio_redirects_total{target=\"upstream\"} 0\n"
		     "archeio_redirects_total{target=\"signature\"} 0\n"
		     "archeio_redirects_total{target=\"page\"} 0\n");
	assert_lines(text, "archeio_blob_redirects_total",
		     "archeio_blob_redirects_total{cloud=\"unlisted\",region=\"unlisted\","
		     "target=\"mirror\"} 1\n"
		     "archeio_blob_redirects_total{cloud=\"unlisted\",region=\"unlisted\","
		     "target=\"upstream\"} 2\n"
		     "archeio_blob_redirects_total{cloud=\"aws\",region=\"us-\\\"east\\\"-1\","
		     "target=\"mirror\"} 3\n");
	assert_lines(text, "archeio_connections_",
		     "archeio_connections_open 1\n"
		     "archeio_connections_accepted_total 10\n"
		     "archeio_connections_closed_total{reason=\"client\"} 4\n"
		     "archeio_connections_closed_total{reason=\"server\"} 3\n"
		     "archeio_connections_closed_total{reason=\"timeout\"} 1\n"
		     "archeio_connections_closed_total{reason=\"limit\"} 0\n"
		     "archeio_connections_closed_total{reason=\"error\"} 1\n");
	assert_lines(text, "archeio_http_errors_total{status=\"505\"}",
		     "archeio_http_errors_total{status=\"505\"} 1\n");
	assert_lines(text, "archeio_proxy_protocol_refused_total",
		     "archeio_proxy_protocol_refused_total{reason=\"untrusted\"} 0\n"
		     "archeio_proxy_protocol_refused_total{reason=\"malformed\"} 2\n"
		     "archeio_proxy_protocol_refused_total{reason=\"timeout\"} 0\n");
	assert_lines(
	    text, "archeio_mirror_checks_total",
	    "archeio_mirror_checks_total{origin=\"https://m.example\",result=\"present\"} 5\n"
	    "archeio_mirror_checks_total{origin=\"https://m.example\",result=\"absent\"} 1\n"
	    "archeio_mirror_checks_total{origin=\"https://m.example\",result=\"error\"} 0\n"
	    "archeio_mirror_checks_total{origin=\"https://m.example\",result=\"timeout\"} "
	    "2\n");
	assert_lines(text, "archeio_mirror_check_duration_seconds",
		     "archeio_mirror_check_duration_seconds_bucket{le=\"0.005\"} 1\n"
		     "archeio_mirror_check_duration_seconds_bucket{le=\"0.01\"} 2\n"
		     "archeio_mirror_check_duration_seconds_bucket{le=\"+Inf\"} 3\n"
		     "archeio_mirror_check_duration_seconds_sum 2\n"
		     "archeio_mirror_check_duration_seconds_count 3\n");
	assert_lines(text, "archeio_ranges_",
		     "archeio_ranges_prefixes{cloud=\"aws\",family=\"ipv4\"} 10\n"
		     "archeio_ranges_prefixes{cloud=\"aws\",family=\"ipv6\"} 4\n"
		     "archeio_ranges_regions 0\n"
		     "archeio_ranges_generation 3\n"
		     "archeio_ranges_loaded_timestamp_seconds 1700000100\n"
		     "archeio_ranges_reloads_total{result=\"success\"} 2\n"
		     "archeio_ranges_reloads_total{result=\"failure\"} 1\n"
		     "archeio_ranges_data_timestamp_seconds 1690000000\n"
		     "archeio_ranges_age_seconds 691200\n"
		     "archeio_ranges_max_age_seconds 604800\n"
		     "archeio_ranges_stale 1\n"
		     "archeio_ranges_file_prefixes{file=\"/r/aws.json\",format=\"aws\"} 14\n"
		     "archeio_ranges_file_prefixes{file=\"/r/azure.json\",format=\"azure\"} 3\n"
		     "archeio_ranges_file_modified_timestamp_seconds{file=\"/r/aws.json\","
		     "format=\"aws\"} 1700000000\n"
		     "archeio_ranges_file_modified_timestamp_seconds{file=\"/r/azure.json\","
		     "format=\"azure\"} 1700000001\n"
		     "archeio_ranges_file_published_timestamp_seconds{file=\"/r/aws.json\","
		     "format=\"aws\"} 1690000000\n"
		     "archeio_ranges_file_change_number{file=\"/r/azure.json\","
		     "format=\"azure\"} 321\n");
	/* Without XDP or /proc, nothing of theirs; every family has its TYPE. */
	assert_null(strstr(text, "archeio_xdp_"));
	assert_null(strstr(text, "process_"));
	assert_non_null(strstr(text, "# TYPE archeio_requests_total counter\n"));
	assert_non_null(strstr(text, "# TYPE archeio_ranges_stale gauge\n"));
	assert_non_null(strstr(text, "# TYPE archeio_mirror_check_duration_seconds histogram\n"));
	buf_free(&b);
}

/* --rate-limit's refusals by cloud, only when it is on. */
static void snapshot_rate_limit(void **state)
{
	(void)state;
	struct metrics_snapshot s = {
	    .version = "x", .limited = {{"aws", 3}, {NULL, 2}}, .limited_count = 2};
	struct buf b = {0};
	assert_true(metrics_format(&s, &b));
	assert_null(strstr(text_of(&b), "archeio_rate_limited_total"));
	buf_free(&b);
	b = (struct buf){0};
	s.rate_limit_on = true;
	assert_true(metrics_format(&s, &b));
	assert_lines(text_of(&b), "archeio_rate_limited_total",
		     "archeio_rate_limited_total{cloud=\"aws\"} 3\n"
		     "archeio_rate_limited_total{cloud=\"unlisted\"} 2\n");
	buf_free(&b);
}

/* --limits-file's reloads, only when it is given. */
static void snapshot_limits_reloads(void **state)
{
	(void)state;
	struct metrics_snapshot s = {
	    .version = "x", .limits_reloads_ok = 4, .limits_reloads_failed = 1};
	struct buf b = {0};
	assert_true(metrics_format(&s, &b));
	assert_null(strstr(text_of(&b), "archeio_limits_reloads_total"));
	buf_free(&b);
	b = (struct buf){0};
	s.limits_file = true;
	assert_true(metrics_format(&s, &b));
	assert_lines(text_of(&b), "archeio_limits_reloads_total",
		     "archeio_limits_reloads_total{result=\"success\"} 4\n"
		     "archeio_limits_reloads_total{result=\"failure\"} 1\n");
	buf_free(&b);
}

static void snapshot_xdp_and_process(void **state)
{
	(void)state;
	struct metrics_snapshot s = {.version = "x"};
	s.xdp = (struct metrics_xdp){.on = true,
				     .attached = true,
				     .packets = 100,
				     .syns = 10,
				     .tagged = 7,
				     .untagged = 3,
				     .syn_drops = 4,
				     .clouds = {{"aws", 5, 3}, {"gcp", 2, 0}},
				     .cloud_count = 2,
				     .conn_tags = 1,
				     .conn_tags_capacity = 65536};
	s.process = (struct metrics_process){.ok = true,
					     .start_time_us = 1700000000250000,
					     .cpu_us = 1230000,
					     .resident_bytes = 4096,
					     .virtual_bytes = 8192,
					     .open_fds = 9,
					     .max_fds = 1024};
	struct buf b = {0};
	assert_true(metrics_format(&s, &b));
	const char *text = text_of(&b);
	assert_lines(text, "archeio_xdp_",
		     "archeio_xdp_attached 1\n"
		     "archeio_xdp_packets_total 100\n"
		     "archeio_xdp_syns_total 10\n"
		     "archeio_xdp_tagged_total 7\n"
		     "archeio_xdp_untagged_total 3\n"
		     "archeio_xdp_tag_errors_total 0\n"
		     "archeio_xdp_tagged_by_cloud_total{cloud=\"aws\"} 5\n"
		     "archeio_xdp_tagged_by_cloud_total{cloud=\"gcp\"} 2\n"
		     "archeio_xdp_syn_drops_total 4\n"
		     "archeio_xdp_syn_drops_by_cloud_total{cloud=\"aws\"} 3\n"
		     "archeio_xdp_syn_drops_by_cloud_total{cloud=\"gcp\"} 0\n"
		     "archeio_xdp_conn_tags 1\n"
		     "archeio_xdp_conn_tags_capacity 65536\n");
	assert_lines(text, "process_",
		     "process_start_time_seconds 1700000000.25\n"
		     "process_cpu_seconds_total 1.23\n"
		     "process_resident_memory_bytes 4096\n"
		     "process_virtual_memory_bytes 8192\n"
		     "process_open_fds 9\n"
		     "process_max_fds 1024\n");
	/* Stale only past the limit; 0 turns the check off. */
	assert_false(metrics_ranges_too_old(true, 100, 100 + 604800, 604800, NULL));
	assert_true(metrics_ranges_too_old(true, 100, 100 + 604801, 604800, NULL));
	assert_false(metrics_ranges_too_old(true, 100, 1000000000, 0, NULL));
	assert_false(metrics_ranges_too_old(false, 0, 1000000000, 1, NULL));
	uint64_t age = 1;
	assert_false(metrics_ranges_too_old(true, 200, 100, 1, &age)); /* from the future */
	assert_int_equal(age, 0);
	buf_free(&b);
}

static void readiness_reasons(void **state)
{
	(void)state;
	char reason[256];
	struct metrics_readiness in = {.serving = true, .ranges_given = true, .prefixes = 5};
	assert_true(metrics_ready(&in, reason, sizeof(reason)));
	assert_string_equal(reason, "ok");
	in.serving = false;
	assert_false(metrics_ready(&in, reason, sizeof(reason)));
	assert_string_equal(reason, "not serving: the workers have not started or are stopping");
	in.serving = true;
	in.prefixes = 0;
	assert_false(metrics_ready(&in, reason, sizeof(reason)));
	assert_string_equal(reason, "no ranges loaded: the --ranges given hold no prefixes (every "
				    "client would get the * mirror rule)");
	in.ranges_given = false; /* no --ranges: the operator chose the '*' rule for all */
	assert_true(metrics_ready(&in, reason, sizeof(reason)));
	in.xdp_iface = "eth0";
	assert_false(metrics_ready(&in, reason, sizeof(reason)));
	assert_string_equal(reason, "XDP asked for on eth0 but the program is not attached");
	in.xdp_attached = true;
	assert_true(metrics_ready(&in, reason, sizeof(reason)));
}

static void proc_stat_is_parsed(void **state)
{
	(void)state;
	/* A command with spaces and a ')' of its own. */
	const char *line =
	    "4242 (arch eio) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 "
	    "3 0 12345 187326464 3269 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 "
	    "0 0 17 1 0 0 0 0 0\n";
	struct metrics_process p = {0};
	assert_true(metrics_process_parse_stat(line, 100, 4096, 1700000000, &p));
	assert_int_equal(p.cpu_us, 3800000);
	assert_int_equal(p.start_time_us, 1700000000ull * 1000000 + 123450000);
	assert_int_equal(p.virtual_bytes, 187326464);
	assert_int_equal(p.resident_bytes, 3269 * 4096);
	assert_false(metrics_process_parse_stat("garbage", 100, 4096, 0, &p));
	assert_false(metrics_process_parse_stat("1 (x) S 1 2", 100, 4096, 0, &p));
	metrics_process_read(&p); /* this process */
	assert_true(p.ok);
	assert_true(p.open_fds >= 3);
	assert_true(p.resident_bytes > 0);
}

static void request_counters_by_index(void **state)
{
	(void)state;
	static struct metrics_requests m; /* zeroed, as a worker's */
	metrics_count_request(&m, METRICS_ROUTE_MANIFEST, 307);
	metrics_count_request(&m, METRICS_ROUTE_MANIFEST, 307);
	metrics_count_request(&m, METRICS_ROUTE_OTHER, 418);
	metrics_count_redirect(&m, METRICS_TARGET_PAGE);
	assert_int_equal(counter_read(&m.by_route[METRICS_ROUTE_MANIFEST][METRICS_STATUS_307]), 2);
	assert_int_equal(counter_read(&m.by_route[METRICS_ROUTE_OTHER][METRICS_STATUS_OTHER]), 1);
	assert_int_equal(counter_read(&m.redirects[METRICS_TARGET_PAGE]), 1);
	/* Regions: chunks appear when first counted, far ids included. */
	metrics_count_blob_redirect(&m, 0, false);
	metrics_count_blob_redirect(&m, 300, true);
	metrics_count_blob_redirect(&m, 300, true);
	metrics_count_blob_redirect(&m, METRICS_REGION_MAX - 1, false);
	metrics_count_blob_redirect(&m, METRICS_REGION_MAX, false); /* past the last: dropped */
	assert_int_equal(metrics_blob_redirects(&m, 0, false), 1);
	assert_int_equal(metrics_blob_redirects(&m, 300, true), 2);
	assert_int_equal(metrics_blob_redirects(&m, 300, false), 0);
	assert_int_equal(metrics_blob_redirects(&m, 301, true), 0);
	assert_int_equal(metrics_blob_redirects(&m, 1000, true), 0); /* no chunk yet */
	assert_int_equal(metrics_blob_redirects(&m, METRICS_REGION_MAX - 1, false), 1);
	assert_int_equal(metrics_blob_redirects(&m, METRICS_REGION_MAX, false), 0);
	metrics_requests_free(&m);
	assert_int_equal(metrics_blob_redirects(&m, 300, true), 0);
	assert_string_equal(metrics_route_name(METRICS_ROUTE_REFERRERS), "referrers");
	assert_string_equal(metrics_status_name(metrics_status_slot(414)), "414");
	static const int statuses[] = {200, 307, 400, 404, 405, 414, 500, 503};
	for (size_t i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
		char text[8];
		snprintf(text, sizeof(text), "%d", statuses[i]);
		assert_string_equal(metrics_status_name(metrics_status_slot(statuses[i])), text);
	}
	assert_int_equal(metrics_status_slot(418), METRICS_STATUS_OTHER);
}

/* The label names metrics writes are the counting subsystems' own. */
static void label_names_agree(void **state)
{
	(void)state;
	for (int i = 0; i < HTTP_CLOSE_REASON_COUNT; i++)
		assert_string_equal(metrics_close_reason_names[i],
				    http_close_reason_name((enum http_close_reason)i));
	for (int i = 0; i < HTTP_ERROR_STATUS_COUNT; i++) {
		char code[8];
		snprintf(code, sizeof(code), "%d",
			 http_error_status_code((enum http_error_status)i));
		assert_string_equal(metrics_http_error_names[i], code);
	}
	for (int i = 0; i < MIRROR_CHECK_RESULT_COUNT; i++)
		assert_string_equal(metrics_check_result_names[i],
				    mirror_check_result_name((enum mirror_check_result)i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exact_text_of_families_and_samples),
	    cmocka_unit_test(label_values_are_escaped),
	    cmocka_unit_test(names_are_checked),
	    cmocka_unit_test(histogram_is_cumulative),
	    cmocka_unit_test(snapshot_text),
	    cmocka_unit_test(snapshot_rate_limit),
	    cmocka_unit_test(snapshot_limits_reloads),
	    cmocka_unit_test(snapshot_xdp_and_process),
	    cmocka_unit_test(readiness_reasons),
	    cmocka_unit_test(proc_stat_is_parsed),
	    cmocka_unit_test(request_counters_by_index),
	    cmocka_unit_test(label_names_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
