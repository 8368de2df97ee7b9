/* Allocation failure sweep along archeio-mirror's registry client
 * (tests/unit/helpers/fail_alloc.h) against an in-process registry on
 * 127.0.0.1 (libevent's HTTP server on its own thread) that asks for a bearer
 * token: ping, tags over two pages, the catalog, a manifest by tag and a blob.
 * For N = 1, 2, ... the Nth allocation (archeio's and jansson's) fails; each
 * run must report a failure or give exactly what the run without failures
 * gave, never a partial list or a wrong token. It found a response freed
 * before it was initialised, a tags list cut at its first page when the Link
 * header could not be copied, and a registry named by its URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <pthread.h>

#include "helpers/fail_alloc.h"
#include "mirrortool/http.h"
#include "mirrortool/registry.h"

#define MANIFEST                                                                                   \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","       \
	"\"config\":{\"digest\":\"sha256:"                                                         \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"size\":3},"          \
	"\"layers\":[]}"
#define BLOB_DIGEST "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fake_registry {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	unsigned short port;
	char base_url[64];
};

static struct fake_registry reg;

static void reply(struct evhttp_request *req, int code, const char *type, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	if (type)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, code, code == 200 ? "OK" : "No", out);
	evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	if (strncmp(uri, "/token", 6) == 0) {
		reply(req, 200, "application/json", "{\"token\":\"t0k\",\"expires_in\":300}");
		return;
	}
	if (strcmp(uri, "/v2/d/d/tags/list") == 0) {
		evhttp_add_header(out, "WWW-Authenticate", "Digest realm=\"fake\", nonce=\"1\"");
		reply(req, 401, "application/json", "{}");
		return;
	}
	if (strcmp(uri, "/v2/n/n/tags/list") == 0) {
		reply(req, 200, "application/json", "{\"name\":\"n/n\",\"tags\":[\"v1\",5,null]}");
		return;
	}
	if (strncmp(uri, "/v2/a/b/manifests/sha256:", 25) == 0) {
		reply(req, 200, "application/vnd.oci.image.manifest.v1+json", MANIFEST);
		return;
	}
	const char *auth = evhttp_find_header(in, "Authorization");
	if (!auth || strcmp(auth, "Bearer t0k") != 0) {
		char challenge[256];
		snprintf(challenge, sizeof(challenge),
			 "Bearer realm=\"%s/token\",service=\"fake\",scope=\"repository:a/b:pull\"",
			 reg.base_url);
		evhttp_add_header(out, "WWW-Authenticate", challenge);
		reply(req, 401, "application/json", "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
		return;
	}
	if (strcmp(uri, "/v2/") == 0) {
		reply(req, 200, "application/json", "{}");
	} else if (strcmp(uri, "/v2/a/b/tags/list") == 0) {
		evhttp_add_header(out, "Link", "</v2/a/b/tags/list?last=v1&n=1>; rel=\"next\"");
		reply(req, 200, "application/json", "{\"name\":\"a/b\",\"tags\":[\"v1\"]}");
	} else if (strcmp(uri, "/v2/a/b/tags/list?last=v1&n=1") == 0) {
		reply(req, 200, "application/json", "{\"name\":\"a/b\",\"tags\":[\"v2\"]}");
	} else if (strcmp(uri, "/v2/x/y/tags/list") == 0) {
		evhttp_add_header(out, "Link",
				  "<ftp://elsewhere.example/list?last=v1>; rel=\"next\"");
		reply(req, 200, "application/json", "{\"name\":\"x/y\",\"tags\":[\"v1\"]}");
	} else if (strcmp(uri, "/v2/_catalog") == 0) {
		reply(req, 200, "application/json", "{\"repositories\":[\"a/b\",\"c/d\"]}");
	} else if (strcmp(uri, "/v2/a/b/manifests/v1") == 0) {
		reply(req, 200, "application/vnd.oci.image.manifest.v1+json", MANIFEST);
	} else if (strcmp(uri, "/v2/a/b/blobs/" BLOB_DIGEST) == 0) {
		reply(req, 200, "application/octet-stream", "abc");
	} else {
		reply(req, 404, "application/json", "{\"errors\":[{\"code\":\"NOT_FOUND\"}]}");
	}
}

static void *serve(void *arg)
{
	(void)arg;
	event_base_dispatch(reg.base);
	return NULL;
}

static int start_registry(void **state)
{
	(void)state;
	/* The loop runs on its own thread and is stopped from the test's. */
	if (evthread_use_pthreads() != 0)
		return -1;
	reg.base = event_base_new();
	reg.http = reg.base ? evhttp_new(reg.base) : NULL;
	if (!reg.http)
		return -1;
	evhttp_set_gencb(reg.http, on_request, NULL);
	struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(reg.http, "127.0.0.1", 0);
	if (!sock)
		return -1;
	struct sockaddr_storage ss;
	ev_socklen_t len = sizeof(ss);
	getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &len);
	reg.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	snprintf(reg.base_url, sizeof(reg.base_url), "http://127.0.0.1:%u", reg.port);
	return pthread_create(&reg.thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

static int stop_registry(void **state)
{
	(void)state;
	event_base_loopbreak(reg.base);
	pthread_join(reg.thread, NULL);
	evhttp_free(reg.http);
	event_base_free(reg.base);
	return 0;
}

struct blob_sink {
	char data[16];
	size_t len;
};

static bool sink_write(void *ctx, const char *data, size_t len)
{
	struct blob_sink *s = ctx;
	if (s->len + len >= sizeof(s->data))
		return false;
	memcpy(s->data + s->len, data, len);
	s->len += len;
	return true;
}

static bool sink_reset(void *ctx)
{
	((struct blob_sink *)ctx)->len = 0;
	return true;
}

/* One walk over the registry; true with its summary, false on any failure. */
static bool walk(char *summary, size_t len)
{
	struct http_client client;
	http_client_init(&client, 0, 0);
	struct registry *r = registry_new(reg.base_url, &client);
	CURL *easy = r ? curl_easy_init() : NULL;
	char err[512] = "";
	char **tags = NULL, **repos = NULL;
	size_t tag_count = 0, repo_count = 0;
	struct fetched_manifest m = {0};
	struct blob_sink blob = {.len = 0};
	const struct http_sink sink = {sink_write, sink_reset, &blob};
	bool ok = easy && registry_ping(r, easy, err, sizeof(err)) &&
		  registry_tags(r, easy, "a/b", &tags, &tag_count, err, sizeof(err)) &&
		  registry_catalog(r, easy, &repos, &repo_count, err, sizeof(err)) &&
		  registry_manifest(r, easy, "a/b", "v1", &m, err, sizeof(err)) &&
		  registry_blob(r, easy, "a/b", BLOB_DIGEST, &sink, err, sizeof(err));
	if (ok)
		snprintf(summary, len, "%s | %zu %s %s | %zu %s %s | %s %s %zu | %.*s",
			 registry_host(r), tag_count, tags[0], tags[1], repo_count, repos[0],
			 repos[1], m.content_type, m.digest, m.len, (int)blob.len, blob.data);
	else
		assert_null(strstr(err, "t0k")); /* secrets never in a message */
	fetched_manifest_free(&m);
	registry_free_list(tags, tag_count);
	registry_free_list(repos, repo_count);
	if (easy)
		curl_easy_cleanup(easy);
	registry_free(r);
	http_client_destroy(&client);
	return ok;
}

static void every_allocation_failure_along_a_registry_walk(void **state)
{
	(void)state;
	static char want[2048], got[2048];
	assert_true(walk(want, sizeof(want)));
	assert_non_null(strstr(want, "2 v1 v2 | 2 a/b c/d"));
	for (long n = 1; n <= FAIL_ALLOC_MAX_STEPS; n++) {
		got[0] = '\0';
		fail_alloc_arm(n);
		bool ok = walk(got, sizeof(got));
		bool injected = fail_alloc_disarm();
		if (ok && strcmp(got, want) != 0)
			fail_msg("allocation %ld failed: got \"%s\", want \"%s\"", n, got, want);
		if (!injected) {
			assert_true(ok);
			return;
		}
	}
	fail_msg("more than %d allocations", FAIL_ALLOC_MAX_STEPS);
}

/* A next page the client cannot follow fails the listing: ending the list
 * there would make a mirror run skip every tag after it. */
static void an_unfollowable_next_page_is_an_error(void **state)
{
	(void)state;
	struct http_client client;
	http_client_init(&client, 0, 0);
	struct registry *r = registry_new(reg.base_url, &client);
	assert_non_null(r);
	CURL *easy = curl_easy_init();
	char **tags = NULL;
	size_t count = 0;
	char err[512] = "";
	assert_false(registry_tags(r, easy, "x/y", &tags, &count, err, sizeof(err)));
	char want[600];
	snprintf(want, sizeof(want),
		 "%s/v2/x/y/tags/list: cannot follow the next page's link "
		 "<ftp://elsewhere.example/list?last=v1>",
		 reg.base_url);
	assert_string_equal(err, want);
	registry_free_list(tags, count);
	curl_easy_cleanup(easy);
	registry_free(r);
	http_client_destroy(&client);
}

/* What the client refuses of a registry: an auth scheme it does not speak, a
 * manifest whose bytes are not the digest asked for, a digest it cannot
 * compute; what it skips: list entries that are not strings. */
static void registry_answers_refused_or_skipped(void **state)
{
	(void)state;
	struct http_client client;
	http_client_init(&client, 0, 0);
	struct registry *r = registry_new(reg.base_url, &client);
	assert_non_null(r);
	CURL *easy = curl_easy_init();
	char **tags = NULL;
	size_t count = 0;
	char err[512] = "", want[600];
	assert_false(registry_tags(r, easy, "d/d", &tags, &count, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "registry %s asks for Digest auth; only Basic and bearer tokens are supported",
		 registry_host(r));
	assert_string_equal(err, want);
	assert_true(registry_tags(r, easy, "n/n", &tags, &count, err, sizeof(err)));
	assert_int_equal(count, 1);
	assert_string_equal(tags[0], "v1");
	registry_free_list(tags, count);
	struct fetched_manifest m = {0};
	static const char other[] =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	assert_false(registry_manifest(r, easy, "a/b", other, &m, err, sizeof(err)));
	snprintf(want, sizeof(want), "manifest %s: content does not match its digest", other);
	assert_string_equal(err, want);
	fetched_manifest_free(&m);
	assert_false(registry_manifest(r, easy, "a/b", "sha256:zz", &m, err, sizeof(err)));
	assert_string_equal(err, "bad digest reference sha256:zz");
	fetched_manifest_free(&m);
	curl_easy_cleanup(easy);
	registry_free(r);
	http_client_destroy(&client);
}

int main(void)
{
	/* libcurl's own allocations are not failed here: under them libcurl
	 * itself may send a request again on a new connection. */
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_along_a_registry_walk),
	    cmocka_unit_test(an_unfollowable_next_page_is_an_error),
	    cmocka_unit_test(registry_answers_refused_or_skipped),
	};
	return cmocka_run_group_tests(tests, start_registry, stop_registry);
}
