/* mirror_checker against an in-process libevent HTTP server on 127.0.0.1
 * (ephemeral port) that counts the requests it gets per path:
 *   /present, /ok/...  200      /absent  404
 *   /redirect          302 to /present
 *   /slow...           answered only at teardown (beyond any timeout here)
 * Only outcomes are asserted, never elapsed time; every loop runs under a
 * safety timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/mirrorcheck/mirror_check.h"

#define MAX_PATHS 32
#define MAX_SLOW 16
#define SAFETY_MS 10000
#define SHORT_TIMEOUT_MS 300

struct path_count {
	char path[64];
	int count;
	uint16_t peer_port; /* of the last request */
};

struct fixture {
	struct event_base *base;
	struct evhttp *http;
	uint16_t port;
	struct path_count paths[MAX_PATHS];
	struct evhttp_request *slow[MAX_SLOW];
	int nslow;
	int slow_wanted; /* loop stops once this many /slow requests arrived */
	int answered;
	int answers_wanted;
	bool safety_fired;
	int status_override;	   /* when set, every request gets this status */
	const char *break_on_path; /* loop stops when this path is requested */
	char url[128];		   /* url_for's result */
};

struct answer {
	struct fixture *fx;
	int calls;
	bool present;
};

static struct path_count *path_entry(struct fixture *fx, const char *path)
{
	for (int i = 0; i < MAX_PATHS; i++) {
		struct path_count *p = &fx->paths[i];
		if (p->path[0] == '\0')
			snprintf(p->path, sizeof(p->path), "%s", path);
		if (strcmp(p->path, path) == 0)
			return p;
	}
	fail_msg("test server: more than %d distinct paths", MAX_PATHS);
	return NULL;
}

static int server_count(struct fixture *fx, const char *path)
{
	return path_entry(fx, path)->count;
}

static void serve(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct path_count *p = path_entry(fx, path ? path : "");
	char *peer_addr = NULL;

	p->count++;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer_addr, &p->peer_port);
	if (fx->break_on_path && strcmp(p->path, fx->break_on_path) == 0)
		event_base_loopbreak(fx->base);
	if (fx->status_override) {
		evhttp_send_reply(req, fx->status_override, "Override", NULL);
		return;
	}

	if (strcmp(p->path, "/present") == 0 || strncmp(p->path, "/ok/", 4) == 0) {
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (strcmp(p->path, "/error") == 0) {
		evhttp_send_reply(req, 503, "Service Unavailable", NULL);
	} else if (strcmp(p->path, "/redirect") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", "/present");
		evhttp_send_reply(req, 302, "Found", NULL);
	} else if (strncmp(p->path, "/slow", 5) == 0 && fx->nslow < MAX_SLOW) {
		/* Held until teardown: far beyond the checker's timeout. */
		fx->slow[fx->nslow++] = req;
		if (fx->slow_wanted && fx->nslow >= fx->slow_wanted)
			event_base_loopbreak(fx->base);
	} else {
		evhttp_send_reply(req, 404, "Not Found", NULL);
	}
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	fx->http = evhttp_new(fx->base);
	assert_non_null(fx->http);
	evhttp_set_gencb(fx->http, serve, fx);
	struct evhttp_bound_socket *bound =
	    evhttp_bind_socket_with_handle(fx->http, "127.0.0.1", 0);
	assert_non_null(bound);

	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	assert_int_equal(
	    getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &len), 0);
	fx->port = ntohs(sin.sin_port);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	/* Answering frees each held request, also when its client left. */
	for (int i = 0; i < fx->nslow; i++)
		evhttp_send_reply(fx->slow[i], 200, "OK", NULL);
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	evhttp_free(fx->http);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void on_answer(void *arg, bool present)
{
	struct answer *a = arg;

	a->calls++;
	a->present = present;
	a->fx->answered++;
	if (a->fx->answers_wanted && a->fx->answered >= a->fx->answers_wanted)
		event_base_loopbreak(a->fx->base);
}

static void on_safety_timer(evutil_socket_t fd, short events, void *arg)
{
	struct fixture *fx = arg;

	(void)fd;
	(void)events;
	fx->safety_fired = true;
	event_base_loopbreak(fx->base);
}

/* Runs the loop until the break condition set by the caller, or the safety
 * timer (a cancellable one-shot, so it cannot cut a later run short). */
static void run_loop(struct fixture *fx)
{
	struct timeval tv = {.tv_sec = SAFETY_MS / 1000, .tv_usec = (SAFETY_MS % 1000) * 1000};
	struct event *safety = evtimer_new(fx->base, on_safety_timer, fx);

	assert_non_null(safety);
	evtimer_add(safety, &tv);
	event_base_dispatch(fx->base);
	event_free(safety);
	assert_false(fx->safety_fired);
}

static void wait_answers(struct fixture *fx, int total)
{
	fx->answers_wanted = total;
	if (fx->answered < total)
		run_loop(fx);
	assert_int_equal(fx->answered, total);
	fx->answers_wanted = 0;
}

static void wait_slow_requests(struct fixture *fx, int total)
{
	fx->slow_wanted = total;
	if (fx->nslow < total)
		run_loop(fx);
	assert_int_equal(fx->nslow, total);
	fx->slow_wanted = 0;
}

/* The URL of path on the test server, valid until the next call. */
static const char *url_for(struct fixture *fx, const char *path)
{
	snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%u%s", (unsigned)fx->port, path);
	return fx->url;
}

static uint64_t result_count(const struct mirror_check_stats *stats, size_t origin,
			     enum mirror_check_result result)
{
	return counter_read(&stats->origins[origin].results[result]);
}

static struct mirror_checker *new_checker(struct fixture *fx, uint32_t timeout_ms,
					  uint32_t max_in_flight)
{
	struct mirror_checker_options o = {
	    .timeout_ms = timeout_ms,
	    .max_in_flight = max_in_flight,
	};
	struct mirror_checker *c = mirror_checker_new(fx->base, &o);

	assert_non_null(c);
	return c;
}

static void test_present_and_absent(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer present = {.fx = fx}, absent = {.fx = fx};

	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &present);
	mirror_checker_check(c, url_for(fx, "/absent"), on_answer, &absent);
	wait_answers(fx, 2);
	assert_int_equal(present.calls, 1);
	assert_true(present.present);
	assert_int_equal(absent.calls, 1);
	assert_false(absent.present);
	assert_int_equal(server_count(fx, "/present"), 1);
	assert_int_equal(server_count(fx, "/absent"), 1);
	mirror_checker_free(c);
}

static void test_cache_hit_sends_no_second_request(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer first = {.fx = fx}, again = {.fx = fx}, absent = {.fx = fx},
		      absent_again = {.fx = fx};

	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &first);
	mirror_checker_check(c, url_for(fx, "/absent"), on_answer, &absent);
	wait_answers(fx, 2);

	/* Answered from the cache before the call returns. */
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &again);
	mirror_checker_check(c, url_for(fx, "/absent"), on_answer, &absent_again);
	assert_int_equal(again.calls, 1);
	assert_true(again.present);
	assert_int_equal(absent_again.calls, 1);
	assert_false(absent_again.present);
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	assert_int_equal(server_count(fx, "/present"), 1);
	assert_int_equal(server_count(fx, "/absent"), 1);
	mirror_checker_free(c);
}

static void test_redirect_is_absent_and_not_followed(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer a = {.fx = fx};

	mirror_checker_check(c, url_for(fx, "/redirect"), on_answer, &a);
	wait_answers(fx, 1);
	assert_int_equal(a.calls, 1);
	assert_false(a.present);
	assert_int_equal(server_count(fx, "/redirect"), 1);
	assert_int_equal(server_count(fx, "/present"), 0);
	mirror_checker_free(c);
}

static void test_timeout_is_absent(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, SHORT_TIMEOUT_MS, 0);
	struct answer a = {.fx = fx};

	mirror_checker_check(c, url_for(fx, "/slow"), on_answer, &a);
	wait_answers(fx, 1);
	assert_int_equal(a.calls, 1);
	assert_false(a.present);
	assert_int_equal(fx->nslow, 1); /* the request did reach the server */
	mirror_checker_free(c);
}

static void test_concurrent_checks_send_one_head(void **state)
{
	enum { N = 20 };
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer a[N];

	for (int i = 0; i < N; i++) {
		a[i] = (struct answer){.fx = fx};
		mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a[i]);
	}
	wait_answers(fx, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_true(a[i].present);
	}
	assert_int_equal(server_count(fx, "/present"), 1);
	mirror_checker_free(c);
}

/* A socket bound to a port but not listening: connecting to it is refused,
 * and no other process can take the port meanwhile. */
static int refusing_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void test_connection_refused_is_absent(void **state)
{
	struct fixture *fx = *state;
	/* A long timeout: the answer must come from the refusal, not a timer. */
	struct mirror_checker *c = new_checker(fx, 60000, 0);
	struct answer a = {.fx = fx};
	uint16_t port;
	int fd = refusing_socket(&port);
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/present", (unsigned)port);
	mirror_checker_check(c, url, on_answer, &a);
	wait_answers(fx, 1);
	assert_int_equal(a.calls, 1);
	assert_false(a.present);
	mirror_checker_free(c);
	close(fd);
}

/* A failing mirror may be gone: its cached "present" answers are dropped so the
 * next requests check again; another mirror's answers stay. */
static void test_failure_forgets_present_answers_of_that_origin(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer a = {.fx = fx}, b = {.fx = fx}, err = {.fx = fx}, again = {.fx = fx},
		      other = {.fx = fx};
	uint16_t refused_port;
	int refusing = refusing_socket(&refused_port);
	char other_url[128];

	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a);
	mirror_checker_check(c, url_for(fx, "/ok/1"), on_answer, &b);
	wait_answers(fx, 2);
	assert_true(a.present && b.present);

	/* Another origin failing (connection refused) leaves this one's answers. */
	snprintf(other_url, sizeof(other_url), "http://127.0.0.1:%u/x", (unsigned)refused_port);
	mirror_checker_check(c, other_url, on_answer, &other);
	wait_answers(fx, 3);
	assert_false(other.present);
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &again);
	assert_int_equal(again.calls, 1); /* still a cache hit */
	assert_int_equal(server_count(fx, "/present"), 1);

	/* This origin answering 503: /present must be checked again. */
	mirror_checker_check(c, url_for(fx, "/error"), on_answer, &err);
	wait_answers(fx, 5);
	assert_false(err.present);
	struct answer recheck = {.fx = fx};
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &recheck);
	assert_int_equal(recheck.calls, 0); /* not answered from the cache */
	wait_answers(fx, 6);
	assert_true(recheck.present);
	assert_int_equal(server_count(fx, "/present"), 2);
	close(refusing);
	mirror_checker_free(c);
}

/* The health probe re-checks the most recent "present" blob of each origin;
 * when the mirror now fails, that origin's answers are forgotten, so requests
 * stop being sent there even without a cache miss. */
static void test_probe_forgets_a_mirror_that_died(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker_options o = {.probe_interval_ms = 100};
	struct mirror_checker *c = mirror_checker_new(fx->base, &o);
	struct answer a = {.fx = fx}, b = {.fx = fx}, hit = {.fx = fx}, after = {.fx = fx};

	assert_non_null(c);
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a);
	wait_answers(fx, 1);
	mirror_checker_check(c, url_for(fx, "/ok/1"), on_answer, &b);
	wait_answers(fx, 2);
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &hit);
	assert_int_equal(hit.calls, 1); /* cached */
	assert_int_equal(server_count(fx, "/present"), 1);

	/* The mirror dies; the probe (of /present, the most recently used) sees 503. */
	fx->status_override = 503;
	fx->break_on_path = "/present";
	run_loop(fx);
	fx->break_on_path = NULL;
	assert_int_equal(server_count(fx, "/present"), 2);
	/* Let the probe's answer arrive and be processed (loopback: well within). */
	struct timeval settle = {0, 300 * 1000};
	event_base_loopexit(fx->base, &settle);
	event_base_dispatch(fx->base);
	mirror_checker_check(c, url_for(fx, "/ok/1"), on_answer, &after);
	assert_int_equal(after.calls, 0); /* forgotten: checked again */
	wait_answers(fx, 4);
	assert_false(after.present);
	mirror_checker_free(c);
}

struct chained {
	struct answer first;
	struct answer second;
	struct mirror_checker *checker;
	const char *next_url;
};

static void start_second_check(void *arg, bool present)
{
	struct chained *ch = arg;

	on_answer(&ch->first, present);
	mirror_checker_check(ch->checker, ch->next_url, on_answer, &ch->second);
}

static void test_free_answers_pending_checks(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 60000, 0);
	struct answer a[3] = {{.fx = fx}, {.fx = fx}, {.fx = fx}};
	struct chained ch = {.first = {.fx = fx}, .second = {.fx = fx}, .checker = c};
	char next_url[128];

	snprintf(next_url, sizeof(next_url), "%s", url_for(fx, "/present"));
	ch.next_url = next_url;
	mirror_checker_check(c, url_for(fx, "/slow/1"), on_answer, &a[0]);
	mirror_checker_check(c, url_for(fx, "/slow/1"), on_answer, &a[1]);
	mirror_checker_check(c, url_for(fx, "/slow/2"), on_answer, &a[2]);
	/* This one's callback starts another check while the checker closes. */
	mirror_checker_check(c, url_for(fx, "/slow/3"), start_second_check, &ch);
	wait_slow_requests(fx, 3);
	assert_int_equal(fx->answered, 0);

	mirror_checker_free(c);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_false(a[i].present);
	}
	assert_int_equal(ch.first.calls, 1);
	assert_false(ch.first.present);
	assert_int_equal(ch.second.calls, 1);
	assert_false(ch.second.present);
	assert_int_equal(server_count(fx, "/present"), 0);
}

static void test_callback_may_start_another_check(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct chained ch = {.first = {.fx = fx}, .second = {.fx = fx}, .checker = c};
	char next_url[128];

	snprintf(next_url, sizeof(next_url), "%s", url_for(fx, "/ok/second"));
	ch.next_url = next_url;
	mirror_checker_check(c, url_for(fx, "/ok/first"), start_second_check, &ch);
	wait_answers(fx, 2);
	assert_int_equal(ch.first.calls, 1);
	assert_true(ch.first.present);
	assert_int_equal(ch.second.calls, 1);
	assert_true(ch.second.present);
	assert_int_equal(server_count(fx, "/ok/second"), 1);
	mirror_checker_free(c);
}

static void test_connection_is_reused(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer one = {.fx = fx}, two = {.fx = fx};

	mirror_checker_check(c, url_for(fx, "/ok/1"), on_answer, &one);
	wait_answers(fx, 1);
	mirror_checker_check(c, url_for(fx, "/ok/2"), on_answer, &two);
	wait_answers(fx, 2);
	assert_true(one.present && two.present);
	/* Same client port: the second HEAD went over the first connection. */
	assert_int_equal(path_entry(fx, "/ok/1")->peer_port, path_entry(fx, "/ok/2")->peer_port);
	mirror_checker_free(c);
}

static void test_proxy_environment_is_ignored(void **state)
{
	struct fixture *fx = *state;
	uint16_t port;
	int fd = refusing_socket(&port);
	char proxy[64];

	/* Were the proxy used, the check would be refused and answer absent. */
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", (unsigned)port);
	setenv("http_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer a = {.fx = fx};

	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a);
	wait_answers(fx, 1);
	unsetenv("http_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	assert_true(a.present);
	assert_int_equal(server_count(fx, "/present"), 1);
	mirror_checker_free(c);
	close(fd);
}

static void test_in_flight_limit_answers_absent(void **state)
{
	struct fixture *fx = *state;
	static struct mirror_check_stats stats;
	memset(&stats, 0, sizeof(stats));
	struct mirror_checker_options o = {
	    .timeout_ms = 60000, .max_in_flight = 2, .stats = &stats};
	struct mirror_checker *c = mirror_checker_new(fx->base, &o);
	struct answer a[3] = {{.fx = fx}, {.fx = fx}, {.fx = fx}};

	mirror_checker_check(c, url_for(fx, "/slow/a"), on_answer, &a[0]);
	mirror_checker_check(c, url_for(fx, "/slow/b"), on_answer, &a[1]);
	mirror_checker_check(c, url_for(fx, "/slow/c"), on_answer, &a[2]);
	/* The third is over the limit: answered at once, never sent. */
	assert_int_equal(a[2].calls, 1);
	assert_false(a[2].present);
	wait_slow_requests(fx, 2);
	assert_int_equal(server_count(fx, "/slow/c"), 0);
	assert_int_equal(a[0].calls + a[1].calls, 0);
	/* Counted apart: it says nothing about the mirror. */
	assert_int_equal(counter_read(&stats.not_made), 1);
	assert_int_equal(result_count(&stats, 0, MIRROR_CHECK_ERROR), 0);
	mirror_checker_free(c);
	assert_int_equal(a[0].calls + a[1].calls, 2);
}

static void test_only_http_and_https_are_fetched(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, SHORT_TIMEOUT_MS, 0);
	struct answer file = {.fx = fx}, gopher = {.fx = fx};
	char gopher_url[128];

	/* Gopher sends its selector verbatim: here a complete HTTP request, so
	 * the server would count it if gopher were allowed. */
	snprintf(gopher_url, sizeof(gopher_url),
		 "gopher://127.0.0.1:%u/0GET%%20/present%%20HTTP/1.0%%0D%%0A", (unsigned)fx->port);
	mirror_checker_check(c, "file:///dev/null", on_answer, &file);
	mirror_checker_check(c, gopher_url, on_answer, &gopher);
	wait_answers(fx, 2);
	assert_false(file.present);
	assert_false(gopher.present);
	/* An HTTP check sent afterwards reaches the server after any gopher
	 * bytes would have, so once it is answered the count is final. */
	struct answer sync = {.fx = fx};
	mirror_checker_check(c, url_for(fx, "/ok/sync"), on_answer, &sync);
	wait_answers(fx, 3);
	assert_true(sync.present);
	assert_int_equal(server_count(fx, "/present"), 0);
	mirror_checker_free(c);
}

static void test_cache_full_of_pending_still_answers(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker_options o = {.cache = {.max_entries = 1}, .timeout_ms = 60000};
	struct mirror_checker *c = mirror_checker_new(fx->base, &o);
	struct answer slow = {.fx = fx}, one = {.fx = fx}, two = {.fx = fx};

	assert_non_null(c);
	/* The only cache slot is pending on /slow: /ok/x is checked uncached. */
	mirror_checker_check(c, url_for(fx, "/slow"), on_answer, &slow);
	mirror_checker_check(c, url_for(fx, "/ok/x"), on_answer, &one);
	wait_answers(fx, 1);
	assert_int_equal(one.calls, 1);
	assert_true(one.present);
	/* Not remembered: the next check asks the server again. */
	mirror_checker_check(c, url_for(fx, "/ok/x"), on_answer, &two);
	wait_answers(fx, 2);
	assert_true(two.present);
	assert_int_equal(server_count(fx, "/ok/x"), 2);
	assert_int_equal(slow.calls, 0);
	mirror_checker_free(c);
	assert_int_equal(slow.calls, 1);
	assert_false(slow.present);
}

static void test_url_libcurl_refuses_is_absent_at_once(void **state)
{
	struct fixture *fx = *state;
	struct mirror_checker *c = new_checker(fx, 0, 0);
	struct answer a = {.fx = fx}, again = {.fx = fx};
	size_t len = 9 * 1000 * 1000; /* over libcurl's 8 MB string limit */
	char *url = malloc(len + 1);

	assert_non_null(url);
	memcpy(url, "http://127.0.0.1/", 17);
	memset(url + 17, 'a', len - 17);
	url[len] = '\0';
	mirror_checker_check(c, url, on_answer, &a);
	assert_int_equal(a.calls, 1);
	assert_false(a.present);
	/* Remembered as absent like any failed check. */
	mirror_checker_check(c, url, on_answer, &again);
	assert_int_equal(again.calls, 1);
	assert_false(again.present);
	free(url);
	mirror_checker_free(c);
}

static void test_bad_arguments(void **state)
{
	struct fixture *fx = *state;
	struct answer a = {.fx = fx}, b = {.fx = fx};

	assert_null(mirror_checker_new(NULL, NULL));
	struct mirror_checker *c = mirror_checker_new(fx->base, NULL); /* all defaults */
	assert_non_null(c);
	mirror_checker_check(c, NULL, on_answer, &a);
	mirror_checker_check(NULL, url_for(fx, "/present"), on_answer, &b);
	assert_int_equal(a.calls, 1);
	assert_false(a.present);
	assert_int_equal(b.calls, 1);
	assert_false(b.present);
	mirror_checker_check(c, url_for(fx, "/present"), NULL, NULL); /* nobody to tell */
	mirror_checker_free(c);
	mirror_checker_free(NULL);
	assert_int_equal(server_count(fx, "/present"), 0);
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* With a logger: each finished check is a debug line, a failing origin one
 * warning naming it and the reason however many checks fail (within the
 * probe interval), a 5xx counts as failing, and its recovery one info line. */
static void test_checks_and_failures_are_logged(void **state)
{
	struct fixture *fx = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	struct logger log = {.level = LOG_DEBUG, .format = LOG_FORMAT_TEXT, .out = out};
	struct mirror_checker_options o = {.log = &log, .probe_interval_ms = 60000};
	struct mirror_checker *c = mirror_checker_new(fx->base, &o);
	assert_non_null(c);
	struct answer a[8];
	for (int i = 0; i < 8; i++)
		a[i] = (struct answer){.fx = fx};
	uint16_t port;
	int refusing = refusing_socket(&port);
	char refused[64], origin[64];
	snprintf(origin, sizeof(origin), "origin=http://127.0.0.1:%u/ ", (unsigned)port);

	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a[0]);
	mirror_checker_check(c, url_for(fx, "/absent"), on_answer, &a[1]);
	wait_answers(fx, 2);
	for (int i = 0; i < 3; i++) {
		snprintf(refused, sizeof(refused), "http://127.0.0.1:%u/x/%d", (unsigned)port, i);
		mirror_checker_check(c, refused, on_answer, &a[2 + i]);
	}
	wait_answers(fx, 5);
	fx->status_override = 503; /* the test server's origin fails too ... */
	mirror_checker_check(c, url_for(fx, "/ok/1"), on_answer, &a[5]);
	wait_answers(fx, 6);
	fx->status_override = 0; /* ... and comes back */
	mirror_checker_check(c, url_for(fx, "/ok/2"), on_answer, &a[6]);
	wait_answers(fx, 7);
	mirror_checker_free(c);
	close(refusing);
	fclose(out);

	assert_int_equal(count_lines(text, " debug mirror check url="), 7);
	assert_non_null(strstr(text, "/present result=present status=200 "));
	assert_non_null(strstr(text, "/absent result=absent status=404 "));
	assert_int_equal(count_lines(text, " result=failed status=- reason=\"Failed to connect"),
			 3);
	assert_int_equal(count_lines(text, " warn mirror failing, its clients go upstream"), 2);
	assert_int_equal(count_lines(text, origin), 1);
	assert_non_null(strstr(text, "reason=\"HTTP 503\""));
	assert_int_equal(count_lines(text, " info mirror answering again "), 1);
	assert_non_null(strstr(text, "failed_checks=1 down_s=0"));
	assert_int_equal(count_lines(text, "still failing"), 0);
	free(text);
}

/* Every lookup is counted as a cache hit (by answer), a miss or a join;
 * every check by origin and result; every HEAD made in the latency
 * histogram. */
static void test_checks_are_counted(void **state)
{
	struct fixture *fx = *state;
	static struct mirror_check_stats stats; /* zeroed, as the caller must */
	memset(&stats, 0, sizeof(stats));
	struct mirror_checker_options o = {.timeout_ms = SHORT_TIMEOUT_MS, .stats = &stats};
	struct mirror_checker *c = mirror_checker_new(fx->base, &o);
	assert_non_null(c);
	struct answer a[8];
	for (int i = 0; i < 8; i++)
		a[i] = (struct answer){.fx = fx};
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a[0]);
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a[1]); /* joins */
	mirror_checker_check(c, url_for(fx, "/absent"), on_answer, &a[2]);
	wait_answers(fx, 3);
	mirror_checker_check(c, url_for(fx, "/present"), on_answer, &a[3]); /* cached */
	mirror_checker_check(c, url_for(fx, "/absent"), on_answer, &a[4]);  /* cached */
	/* After the cached answers: a 5xx or a timeout forgets the origin's. */
	mirror_checker_check(c, url_for(fx, "/error"), on_answer, &a[5]);
	mirror_checker_check(c, url_for(fx, "/slow"), on_answer, &a[6]);
	wait_answers(fx, 7);
	uint16_t port;
	int fd = refusing_socket(&port);
	char refused[64];
	snprintf(refused, sizeof(refused), "http://127.0.0.1:%u/present", (unsigned)port);
	mirror_checker_check(c, refused, on_answer, &a[7]);
	wait_answers(fx, 8);

	assert_int_equal(counter_read(&stats.cache_misses), 5);
	assert_int_equal(counter_read(&stats.joins), 1);
	assert_int_equal(counter_read(&stats.not_made), 0);
	assert_int_equal(counter_read(&stats.cache_present), 1);
	assert_int_equal(counter_read(&stats.cache_absent), 1);
	assert_int_equal(atomic_load(&stats.origin_count), 2);
	char origin[64];
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%u", (unsigned)fx->port);
	assert_string_equal(stats.origins[0].origin, origin);
	assert_int_equal(result_count(&stats, 0, MIRROR_CHECK_PRESENT), 1);
	assert_int_equal(result_count(&stats, 0, MIRROR_CHECK_ABSENT), 1);
	assert_int_equal(result_count(&stats, 0, MIRROR_CHECK_ERROR), 1); /* the 503 */
	assert_int_equal(result_count(&stats, 0, MIRROR_CHECK_TIMEOUT), 1);
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%u", (unsigned)port);
	assert_string_equal(stats.origins[1].origin, origin);
	assert_int_equal(result_count(&stats, 1, MIRROR_CHECK_ERROR), 1);
	uint64_t heads = 0;
	for (int b = 0; b < MIRROR_CHECK_LATENCY_BUCKETS; b++)
		heads += counter_read(&stats.latency[b]);
	assert_int_equal(heads, 5);
	/* The timeout took at least SHORT_TIMEOUT_MS. */
	assert_true(counter_read(&stats.latency_sum_us) >= SHORT_TIMEOUT_MS * 1000);
	assert_string_equal(mirror_check_result_name(MIRROR_CHECK_TIMEOUT), "timeout");
	mirror_checker_free(c);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_checks_are_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_present_and_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_hit_sends_no_second_request, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_probe_forgets_a_mirror_that_died, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_forgets_present_answers_of_that_origin,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redirect_is_absent_and_not_followed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_is_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_checks_send_one_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_refused_is_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_answers_pending_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_callback_may_start_another_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_is_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_proxy_environment_is_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_flight_limit_answers_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_http_and_https_are_fetched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_full_of_pending_still_answers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_url_libcurl_refuses_is_absent_at_once, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checks_and_failures_are_logged, setup, teardown),
	};

	/* As in main: once per process, before anything else uses libcurl. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "test_mirror_check: curl_global_init failed\n");
		return 1;
	}
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return failed;
}
