/* Request handling without sockets: a parsed request, the connection's peer
 * (and XDP tag), the serve state and the config in; the answer, the mirror
 * check asked for and the access log line out. The mirror checker is a fake
 * that answers at once (a cached answer) or when the test says (uncached). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archeio/http/http_parse.h"
#include "archeio/metrics/request_counters.h"
#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"
#include "server/rate_exempt.h"
#include "server/rate_limit.h"
#include "server/request.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define BLOB_PATH "/v2/pause/blobs/" DIGEST
#define UPSTREAM_BLOB "https://upstream.example/v2/images/pause/blobs/" DIGEST
#define USE1_BLOB "http://127.0.0.1:1/use1/containers/images/" DIGEST
#define PROXY "198.51.100.7"

/* The fake mirror checker: records what it was asked; answers at once when
 * cached, else keeps the callback for the test to call. */
struct fake_mirror {
	bool cached;
	bool present; /* the cached answer */
	int calls;
	char url[512];
	struct mirror_cache_key key; /* the last asked, text not kept */
	int peeks;		     /* calls of fake_cached() */
	mirror_check_fn done;
	void *arg;
};

/* What the request handler sent back. */
struct answer {
	int count;
	int status;
	char location[512]; /* "" when none */
	char message[128];
	char oci_error[32]; /* "" when none */
	bool keep_alive;
	bool head;
	bool api_version;
	bool client_gone;  /* the connection tells nothing of a late answer then */
	bool length_asked; /* the handler wanted the serialised length */
	size_t bytes;	   /* that length, as response_write() makes it */
};

struct fixture {
	char dir[64];
	char ranges[96];
	char mirrors[96];
	char upstreams[96];
	struct config config;
	struct route_config route;
	struct serve_state *state;
	struct logger log;
	char *log_text;
	size_t log_len;
	char line[4096];
	struct fake_mirror mirror;
	struct request_handler handler;
	struct answer answer;
	struct metrics_requests counters;
};

static void fake_check(void *ctx, const struct mirror_cache_key *key, const char *url,
		       mirror_check_fn done, void *arg)
{
	struct fake_mirror *m = ctx;
	m->calls++;
	snprintf(m->url, sizeof(m->url), "%s", url);
	m->key = *key;
	m->key.text = NULL;
	if (m->cached) {
		done(arg, m->present);
		return;
	}
	m->done = done;
	m->arg = arg;
}

/* The checker's cache peek: the cached answer when there is one. */
static int fake_cached(void *ctx, const struct mirror_cache_key *key)
{
	struct fake_mirror *m = ctx;
	m->peeks++;
	m->key = *key;
	m->key.text = NULL;
	return m->cached ? m->present : -1;
}

static void answer_later(struct fixture *f, bool present)
{
	assert_non_null(f->mirror.done);
	mirror_check_fn done = f->mirror.done;
	f->mirror.done = NULL;
	done(f->mirror.arg, present);
}

static void record_answer(void *arg, const struct response *resp, const struct http_sent *sent)
{
	struct answer *a = arg;
	char out[20000];
	a->bytes = response_write(resp, "Mon, 01 Jan 2024 00:00:00 GMT", out, sizeof(out));
	a->length_asked = sent != NULL;
	/* As the connection does: told once serialised, unless nobody reads it. */
	if (sent && !a->client_gone)
		sent->fn(sent->arg, a->bytes);
	a->count++;
	a->status = resp->status;
	snprintf(a->location, sizeof(a->location), "%s", resp->location ? resp->location : "");
	snprintf(a->message, sizeof(a->message), "%s", resp->message ? resp->message : "");
	snprintf(a->oci_error, sizeof(a->oci_error), "%s", resp->oci_error ? resp->oci_error : "");
	a->keep_alive = resp->keep_alive;
	a->head = resp->head;
	a->api_version = resp->api_version;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

static void write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
}

/* With upstream_rules, the serve state also chooses upstreams by region. */
static int setup_with(void **state, const char *upstream_rules)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/archeio-request-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->ranges, sizeof(f->ranges), "%s/ranges.txt", f->dir);
	snprintf(f->mirrors, sizeof(f->mirrors), "%s/mirrors", f->dir);
	snprintf(f->upstreams, sizeof(f->upstreams), "%s/upstreams", f->dir);
	write_file(f->ranges, "10.0.0.0/8 aws us-east-1\n"
			      "172.16.0.0/12 aws eu-west-1\n"
			      "192.0.2.0/24 gcp us-central1\n");
	write_file(f->mirrors, "gcp upstream\n"
			       "aws:us-east-1 http://127.0.0.1:1/use1\n"
			       "* http://127.0.0.1:1/cdn\n");
	const char *argv[] = {"serve",
			      "--ranges",
			      f->ranges,
			      "--mirrors",
			      f->mirrors,
			      "--trusted-proxy",
			      PROXY "/32",
			      "--xff-hops",
			      "2",
			      "--upstream",
			      "https://upstream.example",
			      "--upstream-path",
			      "images",
			      "--access-log",
			      "--upstream-rules",
			      f->upstreams};
	int argc = (int)(sizeof(argv) / sizeof(argv[0]));
	if (upstream_rules)
		write_file(f->upstreams, upstream_rules);
	else
		argc -= 2;
	char err[256];
	if (config_parse(&f->config, argc, (char **)argv, no_env, err, sizeof(err)) != CONFIG_OK)
		return -1;
	f->state = serve_state_load(&f->config, NULL, err, sizeof(err));
	if (!f->state)
		return -1;
	f->route = (struct route_config){.upstream = f->config.upstream,
					 .upstream_path = f->config.upstream_path,
					 .signature_upstream = f->config.signature_upstream,
					 .info_url = f->config.info_url,
					 .privacy_url = f->config.privacy_url};
	f->log = (struct logger){.level = LOG_INFO,
				 .format = LOG_FORMAT_TEXT,
				 .out = open_memstream(&f->log_text, &f->log_len)};
	f->handler = (struct request_handler){
	    .route = &f->route,
	    .config = &f->config,
	    .log = &f->log,
	    .mirror = {.check = fake_check, .ctx = &f->mirror},
	};
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

/* Most specific wins, no '*': unlisted clients keep --upstream. */
static int setup_upstream_rules(void **state)
{
	return setup_with(state, "aws:us-east-1 https://use1.example/\n"
				 "aws https://aws.example\n"
				 "gcp:us-central1 https://usc1.example # its own region\n");
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	serve_state_release(f->state);
	config_free(&f->config);
	fclose(f->log.out);
	free(f->log_text);
	unlink(f->ranges);
	unlink(f->mirrors);
	unlink(f->upstreams);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint32_t region_id(const struct fixture *f, const char *ip)
{
	struct ip_addr addr;
	assert_true(ip_parse(ip, &addr));
	return range_table_lookup(f->state->table, &addr);
}

/* Parses raw as the connection would and hands it to the request handler. */
static void handle_tagged(struct fixture *f, const char *raw, const char *peer_ip, bool tagged,
			  uint32_t tag)
{
	struct http_request req;
	size_t consumed = 0;
	int status = 0;
	assert_int_equal(http_parse_request(raw, strlen(raw), 8192, &req, &consumed, &status),
			 HTTP_PARSE_DONE);
	struct http_peer peer = {.tagged = tagged, .tag = tag};
	assert_true(ip_parse(peer_ip, &peer.addr));
	struct request_reply reply = {.send = record_answer, .arg = &f->answer};
	request_handle(&f->handler, f->state, &peer, &req, &reply);
}

static void handle(struct fixture *f, const char *raw, const char *peer_ip)
{
	handle_tagged(f, raw, peer_ip, false, 0);
}

/* The last access log line, "" when none. */
static const char *last_log_line(struct fixture *f)
{
	fflush(f->log.out);
	if (!f->log_text || f->log_len == 0)
		return "";
	size_t end = f->log_len - 1; /* the trailing newline */
	size_t start = end;
	while (start > 0 && f->log_text[start - 1] != '\n')
		start--;
	snprintf(f->line, sizeof(f->line), "%.*s", (int)(end - start), f->log_text + start);
	return f->line;
}

static void tagged_client_gets_the_mirror_when_present(void **state)
{
	struct fixture *f = *state;
	f->mirror.cached = true;
	f->mirror.present = true;
	/* The peer is in no range: only the XDP tag places it in aws us-east-1. */
	handle_tagged(f, "GET " BLOB_PATH " HTTP/1.1\r\nHost: x\r\n\r\n", "100.64.0.1", true,
		      region_id(f, "10.1.2.3"));
	assert_int_equal(f->mirror.calls, 1);
	assert_string_equal(f->mirror.url, USE1_BLOB);
	/* Cached under the rule's mirror id and the digest's 32 bytes. */
	assert_int_equal(f->mirror.key.kind, MIRROR_CACHE_KEY_SHA256);
	assert_int_equal(f->mirror.key.mirror_id,
			 mirror_ids_intern(&f->state->mirror_ids, "http://127.0.0.1:1/use1"));
	static const uint8_t digest_bytes[MIRROR_CACHE_SHA256_BYTES] = {
	    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45,
	    0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
	    0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	assert_memory_equal(f->mirror.key.sha256, digest_bytes, sizeof(digest_bytes));
	assert_int_equal(f->answer.count, 1);
	assert_int_equal(f->answer.status, 307);
	assert_string_equal(f->answer.location, USE1_BLOB);
	assert_true(f->answer.api_version);
	assert_true(f->answer.keep_alive);
	assert_false(f->answer.head);
	assert_non_null(strstr(last_log_line(f),
			       "request client=100.64.0.1 cloud=aws region=us-east-1 method=GET "
			       "path=" BLOB_PATH " status=307 target=" USE1_BLOB));
}

static void tagged_client_goes_upstream_when_absent(void **state)
{
	struct fixture *f = *state;
	f->mirror.cached = true;
	f->mirror.present = false;
	handle_tagged(f, "HEAD " BLOB_PATH " HTTP/1.1\r\nConnection: close\r\n\r\n", "100.64.0.1",
		      true, region_id(f, "10.1.2.3"));
	assert_int_equal(f->mirror.calls, 1);
	assert_int_equal(f->answer.count, 1);
	assert_int_equal(f->answer.status, 307);
	assert_string_equal(f->answer.location, UPSTREAM_BLOB);
	assert_true(f->answer.head);
	assert_false(f->answer.keep_alive);
	assert_non_null(strstr(last_log_line(f), "cloud=aws region=us-east-1 method=HEAD"));
}

static void untagged_peer_is_looked_up(void **state)
{
	struct fixture *f = *state;
	f->mirror.cached = true;
	f->mirror.present = true;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_string_equal(f->mirror.url, USE1_BLOB);
	assert_string_equal(f->answer.location, USE1_BLOB);
}

/* With the peek, a cached answer is given without asking check() (and
 * without a pending record), and is the same answer and log line. */
static void cached_answer_without_a_check(void **state)
{
	struct fixture *f = *state;
	f->handler.mirror.cached = fake_cached;
	f->mirror.cached = true;
	f->mirror.present = true;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->mirror.peeks, 1);
	assert_int_equal(f->mirror.calls, 0);
	assert_int_equal(f->mirror.key.kind, MIRROR_CACHE_KEY_SHA256);
	assert_int_equal(f->answer.count, 1);
	assert_int_equal(f->answer.status, 307);
	assert_string_equal(f->answer.location, USE1_BLOB);
	assert_true(f->answer.api_version);
	assert_non_null(strstr(last_log_line(f),
			       "request client=10.1.2.3 cloud=aws region=us-east-1 "
			       "method=GET path=" BLOB_PATH " status=307 target=" USE1_BLOB));
	f->mirror.present = false;
	handle(f, "HEAD " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->mirror.calls, 0);
	assert_int_equal(f->answer.count, 2);
	assert_string_equal(f->answer.location, UPSTREAM_BLOB);
	assert_true(f->answer.head);
	/* Not known: the check is asked, and answers later. */
	f->mirror.cached = false;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->mirror.peeks, 3);
	assert_int_equal(f->mirror.calls, 1);
	assert_int_equal(f->answer.count, 2);
	answer_later(f, true);
	assert_int_equal(f->answer.count, 3);
	assert_string_equal(f->answer.location, USE1_BLOB);
}

static void uncached_answer_comes_later(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->mirror.calls, 1);
	assert_int_equal(f->answer.count, 0);
	assert_string_equal(last_log_line(f), "");
	/* A reload may drop the state meanwhile: the pending check holds its own. */
	serve_state_release(f->state);
	f->state = NULL;
	answer_later(f, true);
	assert_int_equal(f->answer.count, 1);
	assert_int_equal(f->answer.status, 307);
	assert_string_equal(f->answer.location, USE1_BLOB);
	assert_true(f->answer.keep_alive);
	assert_non_null(strstr(last_log_line(f),
			       "client=10.1.2.3 cloud=aws region=us-east-1 "
			       "method=GET path=" BLOB_PATH " status=307 target=" USE1_BLOB));
}

static void uncached_absent_goes_upstream(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->answer.count, 0);
	answer_later(f, false);
	assert_int_equal(f->answer.count, 1);
	assert_string_equal(f->answer.location, UPSTREAM_BLOB);
}

/* The client left while the check was pending: the answer still goes to the
 * connection (which frees itself) but is not logged. */
static void late_answer_for_a_gone_client_is_not_logged(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	f->answer.client_gone = true;
	answer_later(f, false);
	assert_int_equal(f->answer.count, 1);
	assert_string_equal(last_log_line(f), "");
}

static void trusted_proxy_forwarded_for_picks_the_region(void **state)
{
	struct fixture *f = *state;
	f->mirror.cached = true;
	f->mirror.present = true;
	/* Two hops: "<client>, <load balancer>". The tag names the proxy's
	 * region (gcp), not the client's, so it does not count. */
	handle_tagged(
	    f, "GET " BLOB_PATH " HTTP/1.1\r\nX-Forwarded-For: 10.1.2.3, 192.0.2.200\r\n\r\n",
	    PROXY, true, region_id(f, "192.0.2.1"));
	assert_int_equal(f->mirror.calls, 1);
	assert_string_equal(f->answer.location, USE1_BLOB);
	assert_non_null(strstr(last_log_line(f), "client=10.1.2.3 cloud=aws region=us-east-1"));
}

static void trusted_proxy_forwarded_client_in_gcp_goes_upstream(void **state)
{
	struct fixture *f = *state;
	handle(f,
	       "GET " BLOB_PATH " HTTP/1.1\r\nX-Forwarded-For: 192.0.2.5\r\n"
	       "X-Forwarded-For: 198.51.100.1\r\n\r\n",
	       PROXY);
	assert_int_equal(f->mirror.calls, 0);
	assert_int_equal(f->answer.count, 1);
	assert_string_equal(f->answer.location, UPSTREAM_BLOB);
	assert_non_null(strstr(last_log_line(f), "client=192.0.2.5 cloud=gcp region=us-central1"));
}

static void untrusted_peer_forwarded_for_is_ignored(void **state)
{
	struct fixture *f = *state;
	/* A gcp peer claiming to forward for an aws client: still gcp. */
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\nX-Forwarded-For: 10.1.2.3, 192.0.2.200\r\n\r\n",
	       "192.0.2.77");
	assert_int_equal(f->mirror.calls, 0);
	assert_int_equal(f->answer.count, 1);
	assert_int_equal(f->answer.status, 307);
	assert_string_equal(f->answer.location, UPSTREAM_BLOB);
	assert_non_null(strstr(last_log_line(f), "client=192.0.2.77 cloud=gcp"));
}

static void trusted_proxy_without_forwarded_for_is_400(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", PROXY);
	assert_int_equal(f->mirror.calls, 0);
	assert_int_equal(f->answer.count, 1);
	assert_int_equal(f->answer.status, 400);
	assert_string_equal(f->answer.location, "");
	assert_string_equal(f->answer.message, "missing or malformed X-Forwarded-For");
	/* A /v2/ error like the others: an OCI error body and the API version. */
	assert_string_equal(f->answer.oci_error, "UNSUPPORTED");
	assert_true(f->answer.api_version);
	assert_true(f->answer.keep_alive);
	assert_non_null(strstr(last_log_line(f),
			       "request client=" PROXY " cloud=- region=- "
			       "method=GET path=" BLOB_PATH " status=400 target=-"));
}

static void manifest_goes_upstream(void **state)
{
	struct fixture *f = *state;
	f->mirror.cached = true;
	f->mirror.present = true;
	handle_tagged(f, "GET /v2/pause/manifests/3.9 HTTP/1.1\r\n\r\n", "10.1.2.3", true,
		      region_id(f, "10.1.2.3"));
	assert_int_equal(f->mirror.calls, 0);
	assert_int_equal(f->answer.count, 1);
	assert_int_equal(f->answer.status, 307);
	assert_string_equal(f->answer.location,
			    "https://upstream.example/v2/images/pause/manifests/3.9");
	assert_non_null(strstr(last_log_line(f), "request client=10.1.2.3 cloud=- region=- "
						 "method=GET path=/v2/pause/manifests/3.9 "
						 "status=307 target=https://upstream.example/"));
}

static void request_with_a_body_closes(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET /v2/ HTTP/1.1\r\nContent-Length: 3\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->answer.status, 200);
	assert_false(f->answer.keep_alive);
	assert_true(f->answer.api_version);
}

static void without_access_log_nothing_is_logged(void **state)
{
	struct fixture *f = *state;
	f->config.access_log = false; /* request lines are then debug, below info */
	f->mirror.cached = true;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_false(f->answer.length_asked); /* no work for a line nobody writes */
	handle(f, "GET /v2/ HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_false(f->answer.length_asked);
	assert_int_equal(f->answer.count, 2);
	assert_string_equal(last_log_line(f), "");
}

/* The number after key= in line, or -1 when there is none. */
static long long field_number(const char *line, const char *key)
{
	const char *at = strstr(line, key);
	if (!at || at[strlen(key)] < '0' || at[strlen(key)] > '9')
		return -1;
	return strtoll(at + strlen(key), NULL, 10);
}

/* The access log line ends with how long the answer took, how many bytes it
 * was and the client's User-Agent (quoted and escaped where needed). */
static void access_log_has_duration_size_and_agent(void **state)
{
	struct fixture *f = *state;
	handle(f,
	       "GET /v2/pause/manifests/3.9 HTTP/1.1\r\n"
	       "User-Agent: containerd/1.7.0 (linux; \"x\")\r\n\r\n",
	       "10.1.2.3");
	assert_true(f->answer.length_asked);
	const char *line = last_log_line(f);
	assert_non_null(strstr(line, " status=307 target=https://upstream.example/v2/images/pause/"
				     "manifests/3.9 duration_us="));
	assert_true(field_number(line, " duration_us=") >= 0);
	assert_true(f->answer.bytes > 100);
	assert_int_equal(field_number(line, " bytes="), (long long)f->answer.bytes);
	const char *agent = " user_agent=\"containerd/1.7.0 (linux; \\\"x\\\")\"";
	assert_true(strlen(line) > strlen(agent));
	assert_string_equal(line + strlen(line) - strlen(agent), agent); /* the last field */
	/* No User-Agent: "-". */
	handle(f, "GET /v2/ HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_non_null(strstr(last_log_line(f), " status=200 target=- duration_us="));
	assert_non_null(strstr(last_log_line(f), " user_agent=-"));
}

/* The duration runs from the request to its answer: a check that answers
 * later makes it longer. */
static void duration_covers_a_pending_check(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\nUser-Agent: ctr\r\n\r\n", "10.1.2.3");
	usleep(20000);
	answer_later(f, true);
	const char *line = last_log_line(f);
	assert_true(field_number(line, " duration_us=") >= 20000);
	assert_int_equal(field_number(line, " bytes="), (long long)f->answer.bytes);
	assert_non_null(strstr(line, " user_agent=ctr"));
}

/* JSON: numbers are numbers, the agent a JSON string. */
static void json_access_log_has_numbers(void **state)
{
	struct fixture *f = *state;
	f->log.format = LOG_FORMAT_JSON;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\nUser-Agent: a \"b\"\r\n\r\n", PROXY);
	const char *line = last_log_line(f);
	char want[256];
	snprintf(want, sizeof(want), "\"status\":400,\"target\":\"-\",\"duration_us\":");
	assert_non_null(strstr(line, want));
	snprintf(want, sizeof(want), ",\"bytes\":%zu,\"user_agent\":\"a \\\"b\\\"\"}",
		 f->answer.bytes);
	assert_non_null(strstr(line, want));
}

/* --rate-limit in front of every route: a fake clock that tests move. */
static uint64_t fake_now;
static uint64_t fake_clock(void)
{
	return fake_now;
}

static void limit_requests(struct fixture *f, struct rate_limiter *buckets,
			   struct rate_exempt *exempt, struct request_limits *limits)
{
	char *entries[] = {"198.51.100.0/24", "gcp"};
	char err[128];
	assert_true(rate_exempt_parse(exempt, entries, 2, err, sizeof(err)));
	assert_int_equal(rate_limiter_init(buckets, 1, 2, 64, 64), 0);
	*limits =
	    (struct request_limits){.buckets = buckets, .exempt = exempt, .now_ns = fake_clock};
	f->handler.limits = limits;
	fake_now = 5000000000ull;
}

static void over_the_limit_is_429_never_a_redirect(void **state)
{
	struct fixture *f = *state;
	struct rate_limiter buckets;
	struct rate_exempt exempt;
	struct request_limits limits;
	limit_requests(f, &buckets, &exempt, &limits);
	f->handler.counters = &f->counters;
	f->mirror.cached = true;
	const char *blob = "GET " BLOB_PATH " HTTP/1.1\r\nHost: x\r\n\r\n";
	/* the forwarded client is counted, not the proxy */
	const char *forwarded = "GET /v2/pause/manifests/1 HTTP/1.1\r\nHost: x\r\n"
				"X-Forwarded-For: 10.9.9.9, " PROXY "\r\n\r\n";
	handle(f, blob, "10.1.2.3");
	handle(f, blob, "10.1.2.3");
	assert_int_equal(f->answer.status, 307);
	handle(f, blob, "10.1.2.3");
	assert_int_equal(f->answer.count, 3);
	assert_int_equal(f->answer.status, 429);
	assert_string_equal(f->answer.oci_error, "TOOMANYREQUESTS");
	assert_string_equal(f->answer.location, "");
	assert_true(f->answer.api_version);
	assert_true(f->answer.keep_alive);
	assert_int_equal(f->mirror.calls, 2); /* the refused one asked nobody */
	assert_non_null(strstr(last_log_line(f), "client=10.1.2.3 cloud=aws region=us-east-1"));
	assert_non_null(strstr(last_log_line(f), "status=429"));
	/* any route counts */
	handle(f, "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->answer.status, 429);
	handle(f, forwarded, PROXY);
	handle(f, forwarded, PROXY);
	assert_int_equal(f->answer.status, 307);
	handle(f, forwarded, PROXY);
	assert_int_equal(f->answer.status, 429);
	/* a second later: one more */
	fake_now += 1000000000ull;
	handle(f, blob, "10.1.2.3");
	assert_int_equal(f->answer.status, 307);
	/* exempt by CIDR and by cloud (192.0.2.0/24 is gcp) */
	for (int i = 0; i < 5; i++) {
		handle(f, blob, "198.51.100.9");
		assert_int_equal(f->answer.status, 307);
		handle(f, blob, "192.0.2.9");
		assert_int_equal(f->answer.status, 307);
	}
	/* the refusals are counted by the client's region (10.1.2.3 and the
	 * forwarded 10.9.9.9 are both aws us-east-1), nothing else is */
	assert_int_equal(region_id(f, "10.9.9.9"), region_id(f, "10.1.2.3"));
	assert_int_equal(metrics_limited(&f->counters, region_id(f, "10.1.2.3")), 3);
	assert_int_equal(metrics_limited(&f->counters, region_id(f, "192.0.2.9")), 0);
	assert_int_equal(metrics_limited(&f->counters, REGION_NONE), 0);
	metrics_requests_free(&f->counters);
	rate_limiter_free(&buckets);
	rate_exempt_free(&exempt);
}

static uint64_t requests(const struct fixture *f, enum metrics_route route, int status)
{
	return counter_read(&f->counters.by_route[route][metrics_status_slot(status)]);
}

static uint64_t redirects(const struct fixture *f, enum metrics_target target)
{
	return counter_read(&f->counters.redirects[target]);
}

/* Every answer is counted by route and status, every 307 by target, every
 * blob redirect by the client's region: when the answer is given, cached or
 * late. */
static void answers_are_counted(void **state)
{
	struct fixture *f = *state;
	f->handler.counters = &f->counters;
	handle(f, "GET /v2/ HTTP/1.1\r\n\r\n", "10.1.2.3");
	handle(f, "GET /v2/pause/manifests/3.9 HTTP/1.1\r\n\r\n", "10.1.2.3");
	handle(f, "HEAD /v2/pause/tags/list HTTP/1.1\r\n\r\n", "10.1.2.3");
	handle(f, "GET /v2/A/manifests/x HTTP/1.1\r\n\r\n", "10.1.2.3");
	handle(f, "GET / HTTP/1.1\r\n\r\n", "10.1.2.3");
	handle(f, "POST /v2/ HTTP/1.1\r\n\r\n", "10.1.2.3");
	handle(f, "GET /favicon.ico HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(requests(f, METRICS_ROUTE_PING, 200), 1);
	assert_int_equal(requests(f, METRICS_ROUTE_MANIFEST, 307), 1);
	assert_int_equal(requests(f, METRICS_ROUTE_TAGS, 307), 1);
	assert_int_equal(requests(f, METRICS_ROUTE_MANIFEST, 400), 1);
	assert_int_equal(requests(f, METRICS_ROUTE_OTHER, 307), 1);
	assert_int_equal(requests(f, METRICS_ROUTE_OTHER, 405), 1);
	assert_int_equal(requests(f, METRICS_ROUTE_OTHER, 404), 1);
	assert_int_equal(redirects(f, METRICS_TARGET_UPSTREAM), 2);
	assert_int_equal(redirects(f, METRICS_TARGET_PAGE), 1);

	/* Blobs: aws us-east-1 cached present, then a late absent; gcp goes
	 * upstream by rule; a bad X-Forwarded-For is a 400. */
	uint32_t use1 = region_id(f, "10.1.2.3"), gcp = region_id(f, "192.0.2.1");
	f->mirror.cached = true;
	f->mirror.present = true;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	f->mirror.cached = false;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(requests(f, METRICS_ROUTE_BLOB, 307), 1); /* the late one not yet */
	answer_later(f, false);
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "192.0.2.1");
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", PROXY);
	assert_int_equal(requests(f, METRICS_ROUTE_BLOB, 307), 3);
	assert_int_equal(requests(f, METRICS_ROUTE_BLOB, 400), 1);
	assert_int_equal(redirects(f, METRICS_TARGET_MIRROR), 1);
	assert_int_equal(redirects(f, METRICS_TARGET_UPSTREAM), 4);
	assert_int_equal(metrics_blob_redirects(&f->counters, use1, true), 1);
	assert_int_equal(metrics_blob_redirects(&f->counters, use1, false), 1);
	assert_int_equal(metrics_blob_redirects(&f->counters, gcp, false), 1);
	assert_int_equal(metrics_blob_redirects(&f->counters, REGION_NONE, false), 0);
	metrics_requests_free(&f->counters);
}

/* A signature upstream's requests have their own route and target. */
static void signatures_are_counted(void **state)
{
	struct fixture *f = *state;
	f->route.signature_upstream = "https://sig.example";
	f->handler.counters = &f->counters;
	handle(f,
	       "GET /v2/pause/referrers/" DIGEST " HTTP/1.1\r\n\r\n"
	       "",
	       "10.1.2.3");
	assert_int_equal(f->answer.status, 307);
	assert_int_equal(requests(f, METRICS_ROUTE_SIGNATURE, 307), 1);
	assert_int_equal(redirects(f, METRICS_TARGET_SIGNATURE), 1);
	metrics_requests_free(&f->counters);
}

#define MANIFEST_PATH "/v2/pause/manifests/latest"

static void upstream_rules_pick_each_regions_upstream(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *peer;
		const char *location;
		const char *logged;
	} cases[] = {
	    {"10.1.2.3", "https://use1.example/v2/images/pause/manifests/latest",
	     "client=10.1.2.3 cloud=aws region=us-east-1 method=GET"},
	    /* aws, but no rule for eu-west-1: the cloud's rule */
	    {"172.16.9.9", "https://aws.example/v2/images/pause/manifests/latest",
	     "client=172.16.9.9 cloud=aws region=eu-west-1 method=GET"},
	    {"192.0.2.5", "https://usc1.example/v2/images/pause/manifests/latest",
	     "client=192.0.2.5 cloud=gcp region=us-central1 method=GET"},
	    /* in no range and no '*' rule: --upstream */
	    {"100.64.0.1", "https://upstream.example/v2/images/pause/manifests/latest",
	     "client=100.64.0.1 cloud=- region=- method=GET"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		handle(f, "GET " MANIFEST_PATH " HTTP/1.1\r\n\r\n", cases[i].peer);
		assert_int_equal(f->answer.count, (int)i + 1);
		assert_int_equal(f->answer.status, 307);
		assert_string_equal(f->answer.location, cases[i].location);
		assert_non_null(strstr(last_log_line(f), cases[i].logged));
	}
	assert_int_equal(f->mirror.calls, 0);
}

static void upstream_rules_cover_tags_referrers_and_queries(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET /v2/pause/tags/list?n=10&last=a HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_string_equal(f->answer.location,
			    "https://use1.example/v2/images/pause/tags/list?n=10&last=a");
	handle(f, "GET /v2/pause/referrers/" DIGEST "?artifactType=x HTTP/1.1\r\n\r\n",
	       "192.0.2.5");
	assert_string_equal(f->answer.location,
			    "https://usc1.example/v2/images/pause/referrers/" DIGEST
			    "?artifactType=x");
	/* Not an upstream answer: untouched. */
	handle(f, "GET /v2/ HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->answer.status, 200);
	assert_string_equal(f->answer.location, "");
}

static void upstream_rules_use_the_tag_and_forwarded_for(void **state)
{
	struct fixture *f = *state;
	/* The XDP tag places the (unlisted) peer. */
	handle_tagged(f, "GET " MANIFEST_PATH " HTTP/1.1\r\n\r\n", "100.64.0.1", true,
		      region_id(f, "192.0.2.5"));
	assert_string_equal(f->answer.location,
			    "https://usc1.example/v2/images/pause/manifests/latest");
	/* Behind a trusted proxy the forwarded client counts, not the proxy's tag. */
	handle_tagged(f,
		      "GET " MANIFEST_PATH " HTTP/1.1\r\n"
		      "X-Forwarded-For: 172.16.1.1, " PROXY "\r\n\r\n",
		      PROXY, true, region_id(f, "192.0.2.5"));
	assert_string_equal(f->answer.location,
			    "https://aws.example/v2/images/pause/manifests/latest");
	assert_non_null(strstr(last_log_line(f), "client=172.16.1.1 cloud=aws region=eu-west-1"));
	/* A trusted proxy without the header: 400, as for blobs. */
	handle(f, "GET " MANIFEST_PATH " HTTP/1.1\r\n\r\n", PROXY);
	assert_int_equal(f->answer.status, 400);
	assert_string_equal(f->answer.oci_error, "UNSUPPORTED");
	assert_string_equal(f->answer.location, "");
}

/* --rate-limit and --upstream-rules together: one client, found once, for
 * both (the forwarded one, not the proxy), and for the access log. */
static void limit_and_upstream_rules_share_the_client(void **state)
{
	struct fixture *f = *state;
	struct rate_limiter buckets;
	struct rate_exempt exempt;
	struct request_limits limits;
	limit_requests(f, &buckets, &exempt, &limits); /* the proxy's /24 is exempt */
	f->handler.counters = &f->counters;
	const char *forwarded = "GET " MANIFEST_PATH " HTTP/1.1\r\n"
				"X-Forwarded-For: 10.9.9.9, " PROXY "\r\n\r\n";
	for (int i = 0; i < 2; i++) {
		handle(f, forwarded, PROXY);
		assert_int_equal(f->answer.status, 307);
		assert_string_equal(f->answer.location,
				    "https://use1.example/v2/images/pause/manifests/latest");
		assert_non_null(strstr(last_log_line(f),
				       "client=10.9.9.9 cloud=aws region=us-east-1 method=GET"));
	}
	handle(f, forwarded, PROXY);
	assert_int_equal(f->answer.status, 429);
	assert_non_null(strstr(last_log_line(f), "client=10.9.9.9 cloud=aws region=us-east-1"));
	/* No header: the limit counts the (exempt) proxy, the rules need the
	 * client: 400, counted under the manifest route. */
	handle(f, "GET " MANIFEST_PATH " HTTP/1.1\r\n\r\n", PROXY);
	assert_int_equal(f->answer.status, 400);
	assert_string_equal(f->answer.oci_error, "UNSUPPORTED");
	assert_non_null(strstr(last_log_line(f), "client=" PROXY " cloud=- region=-"));
	assert_int_equal(requests(f, METRICS_ROUTE_MANIFEST, 400), 1);
	assert_int_equal(metrics_limited(&f->counters, region_id(f, "10.9.9.9")), 1);
	metrics_requests_free(&f->counters);
	rate_limiter_free(&buckets);
	rate_exempt_free(&exempt);
}

static void upstream_rules_pick_the_blob_fallback(void **state)
{
	struct fixture *f = *state;
	f->mirror.cached = true;
	f->mirror.present = false;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_int_equal(f->mirror.calls, 1);
	assert_string_equal(f->mirror.url, USE1_BLOB);
	assert_string_equal(f->answer.location,
			    "https://use1.example/v2/images/pause/blobs/" DIGEST);
	/* gcp's mirror rule is 'upstream': its region's upstream, no check. */
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "192.0.2.5");
	assert_int_equal(f->mirror.calls, 1);
	assert_string_equal(f->answer.location,
			    "https://usc1.example/v2/images/pause/blobs/" DIGEST);
	assert_non_null(strstr(last_log_line(f), "cloud=gcp region=us-central1"));
	/* A present mirror still wins. */
	f->mirror.present = true;
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_string_equal(f->answer.location, USE1_BLOB);
}

static void upstream_rules_leave_the_signature_upstream(void **state)
{
	struct fixture *f = *state;
	static const char *sig = "https://sig.example";
	f->route.signature_upstream = sig;
	handle(f, "GET /v2/pause/referrers/" DIGEST " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_string_equal(f->answer.location,
			    "https://sig.example/v2/images/pause/referrers/" DIGEST);
	handle(f, "GET " MANIFEST_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_string_equal(f->answer.location,
			    "https://use1.example/v2/images/pause/manifests/latest");
}

/* Without upstream rules a manifest costs no client lookup: a trusted proxy
 * without X-Forwarded-For is not refused, and the log names no region. */
static void without_upstream_rules_manifests_skip_the_lookup(void **state)
{
	struct fixture *f = *state;
	handle(f, "GET " MANIFEST_PATH " HTTP/1.1\r\n\r\n", PROXY);
	assert_int_equal(f->answer.status, 307);
	handle(f, "GET " MANIFEST_PATH " HTTP/1.1\r\n\r\n", "10.1.2.3");
	assert_string_equal(f->answer.location,
			    "https://upstream.example/v2/images/pause/manifests/latest");
	assert_non_null(strstr(last_log_line(f), "client=10.1.2.3 cloud=- region=- method=GET"));
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    TEST(tagged_client_gets_the_mirror_when_present),
	    TEST(over_the_limit_is_429_never_a_redirect),
	    TEST(tagged_client_goes_upstream_when_absent),
	    TEST(untagged_peer_is_looked_up),
	    TEST(uncached_answer_comes_later),
	    TEST(cached_answer_without_a_check),
	    TEST(uncached_absent_goes_upstream),
	    TEST(late_answer_for_a_gone_client_is_not_logged),
	    TEST(trusted_proxy_forwarded_for_picks_the_region),
	    TEST(trusted_proxy_forwarded_client_in_gcp_goes_upstream),
	    TEST(untrusted_peer_forwarded_for_is_ignored),
	    TEST(trusted_proxy_without_forwarded_for_is_400),
	    TEST(manifest_goes_upstream),
	    TEST(request_with_a_body_closes),
	    TEST(without_access_log_nothing_is_logged),
	    TEST(access_log_has_duration_size_and_agent),
	    TEST(duration_covers_a_pending_check),
	    TEST(json_access_log_has_numbers),
	    TEST(answers_are_counted),
	    TEST(signatures_are_counted),
	    TEST(without_upstream_rules_manifests_skip_the_lookup),
#define TEST_RULES(name) cmocka_unit_test_setup_teardown(name, setup_upstream_rules, teardown)
	    TEST_RULES(upstream_rules_pick_each_regions_upstream),
	    TEST_RULES(upstream_rules_cover_tags_referrers_and_queries),
	    TEST_RULES(upstream_rules_use_the_tag_and_forwarded_for),
	    TEST_RULES(upstream_rules_pick_the_blob_fallback),
	    TEST_RULES(upstream_rules_leave_the_signature_upstream),
	    TEST_RULES(limit_and_upstream_rules_share_the_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
