/* Allocation failure sweep along one request (tests/unit/helpers/fail_alloc.h):
 * a blob request whose mirror check is pending (the real mirror checker,
 * asking an in-process HTTP server on 127.0.0.1 that has the blob), then a
 * manifest request. For N = 1, 2, ... the Nth allocation fails; each run
 * must still answer both requests exactly once (the blob with the mirror or
 * upstream, never another place), and leak nothing (the sanitizer build
 * checks leaks: make check-sanitize). The sweep ends at the first N where no
 * allocation failed, where the answers must be the normal ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>

#include "archeio/http/http_parse.h"
#include "archeio/mirrorcheck/mirror_check.h"
#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"
#include "helpers/fail_alloc.h"
#include "server/request.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define BLOB_PATH "/v2/pause/blobs/" DIGEST
#define UPSTREAM_BLOB "https://upstream.example/v2/images/pause/blobs/" DIGEST
#define UPSTREAM_MANIFEST "https://upstream.example/v2/images/pause/manifests/3.9"
#define SAFETY_MS 5000

struct answer {
	int count;
	int status;
	char location[2048];
};

/* The mirror: 200 for everything (it has every blob). */
struct mirror_server {
	struct event_base *base;
	struct evhttp *http;
	uint16_t port;
};

struct fixture {
	char dir[64];
	char ranges[96];
	char mirrors[96];
	char mirror_blob[256]; /* where a present blob goes */
	struct mirror_server server;
	struct config config;
	struct route_config route;
	struct serve_state *state;
	struct mirror_checker *checker;
	struct logger log;
	char *log_text;
	size_t log_len;
	struct request_handler handler;
	struct answer blob;
	struct answer manifest;
};

static void serve_present(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void record_answer(void *arg, const struct response *resp, const struct http_sent *sent)
{
	struct answer *a = arg;
	if (sent)
		sent->fn(sent->arg, 100);
	a->count++;
	a->status = resp->status;
	snprintf(a->location, sizeof(a->location), "%s", resp->location ? resp->location : "");
}

static void check_mirror(void *ctx, const struct mirror_cache_key *key, const char *url,
			 mirror_check_fn done, void *arg)
{
	mirror_checker_check_key(ctx, key, url, done, arg);
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

static void start_mirror(struct mirror_server *s)
{
	s->base = event_base_new();
	assert_non_null(s->base);
	s->http = evhttp_new(s->base);
	assert_non_null(s->http);
	evhttp_set_gencb(s->http, serve_present, NULL);
	struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	assert_non_null(bound);
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	assert_int_equal(
	    getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
}

static void load(struct fixture *f)
{
	const char *args[] = {"serve",
			      "--ranges",
			      f->ranges,
			      "--mirrors",
			      f->mirrors,
			      "--upstream",
			      "https://upstream.example",
			      "--upstream-path",
			      "images",
			      "--access-log"};
	char err[256];
	assert_int_equal(config_parse(&f->config, (int)(sizeof(args) / sizeof(args[0])),
				      (char **)args, no_env, err, sizeof(err)),
			 CONFIG_OK);
	f->state = serve_state_load(&f->config, NULL, err, sizeof(err));
	assert_non_null(f->state);
	f->log = (struct logger){.level = LOG_INFO,
				 .format = LOG_FORMAT_TEXT,
				 .out = open_memstream(&f->log_text, &f->log_len)};
	struct mirror_checker_options options = {
	    .cache = {.max_entries = 64, .present_ttl_ms = 60000, .absent_ttl_ms = 60000},
	    .timeout_ms = 2000,
	    .max_in_flight = 16,
	    .log = &f->log,
	};
	f->checker = mirror_checker_new(f->server.base, &options);
	assert_non_null(f->checker);
	f->route = (struct route_config){.upstream = f->config.upstream,
					 .upstream_path = f->config.upstream_path};
	f->handler = (struct request_handler){
	    .route = &f->route,
	    .config = &f->config,
	    .log = &f->log,
	    .mirror = {.check = check_mirror, .ctx = f->checker},
	};
}

static void unload(struct fixture *f)
{
	mirror_checker_free(f->checker);
	serve_state_release(f->state);
	config_free(&f->config);
	fclose(f->log.out);
	free(f->log_text);
	f->log_text = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/archeio-fault-request-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	start_mirror(&f->server);
	snprintf(f->ranges, sizeof(f->ranges), "%s/ranges.txt", f->dir);
	snprintf(f->mirrors, sizeof(f->mirrors), "%s/mirrors", f->dir);
	write_file(f->ranges, "10.0.0.0/8 aws us-east-1\n");
	char rules[256];
	snprintf(rules, sizeof(rules), "aws:us-east-1 http://127.0.0.1:%u/use1\n",
		 (unsigned)f->server.port);
	write_file(f->mirrors, rules);
	snprintf(f->mirror_blob, sizeof(f->mirror_blob),
		 "http://127.0.0.1:%u/use1/containers/images/" DIGEST, (unsigned)f->server.port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	evhttp_free(f->server.http);
	event_base_free(f->server.base);
	unlink(f->ranges);
	unlink(f->mirrors);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void handle(struct fixture *f, const char *raw, struct answer *answer)
{
	struct http_request req;
	size_t consumed = 0;
	int status = 0;
	assert_int_equal(http_parse_request(raw, strlen(raw), 8192, &req, &consumed, &status),
			 HTTP_PARSE_DONE);
	struct http_peer peer = {0};
	assert_true(ip_parse("10.1.2.3", &peer.addr));
	struct request_reply reply = {.send = record_answer, .arg = answer};
	request_handle(&f->handler, f->state, &peer, &req, &reply);
}

static void on_safety(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Runs the loop until the blob is answered (bounded by a safety timer). */
static void wait_for_blob(struct fixture *f)
{
	struct event *safety = evtimer_new(f->server.base, on_safety, f->server.base);
	assert_non_null(safety);
	evtimer_add(safety, &(struct timeval){.tv_sec = SAFETY_MS / 1000});
	while (f->blob.count == 0 && event_base_loop(f->server.base, EVLOOP_ONCE) == 0 &&
	       evtimer_pending(safety, NULL))
		;
	event_free(safety);
}

/* One run with the nth allocation failing; whether a failure was injected. */
static bool run_once(struct fixture *f, long nth)
{
	load(f);
	f->blob = (struct answer){0};
	f->manifest = (struct answer){0};
	fail_alloc_arm(nth);
	handle(f, "GET " BLOB_PATH " HTTP/1.1\r\nUser-Agent: sweep\r\n\r\n", &f->blob);
	wait_for_blob(f);
	handle(f, "GET /v2/pause/manifests/3.9 HTTP/1.1\r\n\r\n", &f->manifest);
	bool fired = fail_alloc_disarm();
	unload(f);

	assert_int_equal(f->blob.count, 1);
	if (f->blob.status == 503) { /* out of memory before the check could start */
		assert_true(fired);
		assert_string_equal(f->blob.location, "");
	} else {
		assert_int_equal(f->blob.status, 307);
		if (strcmp(f->blob.location, f->mirror_blob) != 0)
			assert_string_equal(f->blob.location, UPSTREAM_BLOB);
	}
	assert_int_equal(f->manifest.count, 1);
	assert_int_equal(f->manifest.status, 307);
	assert_string_equal(f->manifest.location, UPSTREAM_MANIFEST);
	if (!fired)
		assert_string_equal(f->blob.location, f->mirror_blob);
	return fired;
}

static void every_allocation_failure_along_a_request_is_answered(void **state)
{
	struct fixture *f = *state;
	long nth = 1;
	while (run_once(f, nth)) {
		nth++;
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
	}
	print_message("request sweep: %ld allocations along the request\n", nth - 1);
	assert_true(nth > 1); /* the path allocates: the sweep did something */
}

int main(void)
{
	if (fail_alloc_count_curl() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(every_allocation_failure_along_a_request_is_answered,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
