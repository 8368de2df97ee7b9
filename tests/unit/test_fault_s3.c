/* Allocation failure sweep along archeio-mirror's S3 destination
 * (tests/unit/helpers/fail_alloc.h) against an in-process bucket on
 * 127.0.0.1 (libevent's HTTP server on its own thread; path-style, no
 * signature check: the signatures are tested against AWS's vectors and a
 * verifying mock elsewhere): a HEAD that finds nothing, a blob written with
 * its checksum, a HEAD that finds it, and a deep --verify by the stored
 * checksum. For N = 1, 2, ... the Nth allocation (archeio's and jansson's)
 * fails; each run must report a failure or give exactly the result of the
 * run without failures, and never leave the blob half-published. */
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
#include "mirrortool/dest.h"
#include "mirrortool/http.h"

#define DIGEST "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* As the request line carries it: the key's ':' URI-encoded (SigV4). */
#define OBJECT                                                                                     \
	"/bucket/pre/containers/images/"                                                           \
	"sha256%3Aba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* The bucket: one object at most, touched only by the server thread while
 * the test thread waits for its answer. */
static struct {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	char endpoint[64];
	bool stored;
	size_t size;
	char checksum[64];
	int puts;
	bool drop_checksums; /* store objects without their checksum */
	int get_status;	     /* 0: serve GETs */
} bucket;

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (strcmp(uri, OBJECT) != 0) {
		evhttp_send_reply(req, 404, "Not Found", NULL);
		return;
	}
	if (cmd == EVHTTP_REQ_PUT) {
		const char *sum = evhttp_find_header(in, "x-amz-checksum-sha256");
		snprintf(bucket.checksum, sizeof(bucket.checksum), "%s",
			 sum && !bucket.drop_checksums ? sum : "");
		bucket.size = evbuffer_get_length(evhttp_request_get_input_buffer(req));
		bucket.stored = true;
		bucket.puts++;
		evhttp_add_header(out, "ETag", "\"e1\"");
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	if (!bucket.stored) {
		evhttp_send_reply(req, 404, "Not Found", NULL);
		return;
	}
	char len[32];
	snprintf(len, sizeof(len), "%zu", bucket.size);
	evhttp_add_header(out, "Content-Length", len);
	if (bucket.checksum[0])
		evhttp_add_header(out, "x-amz-checksum-sha256", bucket.checksum);
	if (cmd == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	if (bucket.get_status) {
		/* With a body: a reply without one leaves the length unsaid. */
		struct evbuffer *no = evbuffer_new();
		evbuffer_add(no, "<Error/>", 8);
		evhttp_send_reply(req, bucket.get_status, "Refused", no);
		evbuffer_free(no);
		return;
	}
	struct evbuffer *body = evbuffer_new();
	evbuffer_add(body, "abc", 3);
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}

static void *serve(void *arg)
{
	(void)arg;
	event_base_dispatch(bucket.base);
	return NULL;
}

static int start_bucket(void **state)
{
	(void)state;
	/* The loop runs on its own thread and is stopped from the test's. */
	if (evthread_use_pthreads() != 0)
		return -1;
	bucket.base = event_base_new();
	bucket.http = bucket.base ? evhttp_new(bucket.base) : NULL;
	if (!bucket.http)
		return -1;
	evhttp_set_allowed_methods(bucket.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT);
	evhttp_set_gencb(bucket.http, on_request, NULL);
	struct evhttp_bound_socket *sock =
	    evhttp_bind_socket_with_handle(bucket.http, "127.0.0.1", 0);
	if (!sock)
		return -1;
	struct sockaddr_storage ss;
	ev_socklen_t len = sizeof(ss);
	getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &len);
	snprintf(bucket.endpoint, sizeof(bucket.endpoint), "http://127.0.0.1:%u/",
		 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return pthread_create(&bucket.thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

static int stop_bucket(void **state)
{
	(void)state;
	event_base_loopbreak(bucket.base);
	pthread_join(bucket.thread, NULL);
	evhttp_free(bucket.http);
	event_base_free(bucket.base);
	return 0;
}

/* One round trip through the bucket; true with its summary. */
static bool round_trip(char *summary, size_t len)
{
	bucket.stored = false;
	bucket.checksum[0] = '\0';
	struct http_client client;
	http_client_init(&client, 0, 0);
	const struct s3_config cfg = {.bucket = "bucket",
				      .prefix = "pre",
				      .endpoint = bucket.endpoint,
				      .region = "us-east-1",
				      .access_key = "AKIDEXAMPLE",
				      .secret_key = "secret",
				      .session_token = "session",
				      .part_size = 5 << 20,
				      .part_concurrency = 1};
	char err[512] = "";
	struct dest *d = dest_s3_open(&cfg, &client, err, sizeof(err));
	CURL *easy = d ? curl_easy_init() : NULL;
	bool before = true, after = false, ok = easy != NULL;
	enum dest_blob_state state = DEST_BLOB_ABSENT;
	ok = ok && dest_has_blob(d, easy, DIGEST, &before, err, sizeof(err));
	struct dest_writer *w = ok ? dest_writer_open(d, DIGEST, 3, err, sizeof(err)) : NULL;
	ok = w != NULL;
	static const unsigned char sha[DIGEST_SHA256_LEN] = {
	    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
	    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
	    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	if (ok && !dest_writer_write(w, "abc", 3, err, sizeof(err))) {
		dest_writer_abort(w);
		ok = false;
	} else if (ok) {
		ok = dest_writer_commit(w, 3, sha, err, sizeof(err));
	}
	if (!ok)
		assert_false(bucket.stored && bucket.size != 3); /* never half an object */
	ok = ok && dest_has_blob(d, easy, DIGEST, &after, err, sizeof(err)) &&
	     dest_check_blob(d, easy, DIGEST, 3, true, &state, err, sizeof(err));
	if (ok) {
		/* For messages only: out of memory it names the digest alone. */
		char where[512];
		dest_describe(d, DIGEST, where, sizeof(where));
		assert_non_null(strstr(where, "ba7816bf8f01cfea"));
		snprintf(summary, len, "%d %d %s %s %d", before, after, dest_blob_state_name(state),
			 bucket.checksum, bucket.puts > 0);
	}
	if (easy)
		curl_easy_cleanup(easy);
	if (d)
		dest_free(d);
	http_client_destroy(&client);
	return ok;
}

static void every_allocation_failure_along_an_s3_round_trip(void **state)
{
	(void)state;
	static char want[1024], got[1024];
	assert_true(round_trip(want, sizeof(want)));
	assert_non_null(strstr(want, "0 1 intact ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="));
	for (long n = 1; n <= FAIL_ALLOC_MAX_STEPS; n++) {
		got[0] = '\0';
		fail_alloc_arm(n);
		bool ok = round_trip(got, sizeof(got));
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

/* --verify of an object S3 stored without a checksum: shallow by size,
 * deep by reading it back (intact; gone meanwhile: absent; refused: an
 * error naming the GET). */
static void checks_without_a_stored_checksum(void **state)
{
	(void)state;
	bucket.stored = false;
	bucket.drop_checksums = true;
	struct http_client client;
	http_client_init(&client, 0, 0);
	const struct s3_config cfg = {.bucket = "bucket",
				      .prefix = "pre",
				      .endpoint = bucket.endpoint,
				      .region = "us-east-1",
				      .access_key = "AKIDEXAMPLE",
				      .secret_key = "secret",
				      .part_size = 5 << 20,
				      .part_concurrency = 1};
	char err[512] = "";
	struct dest *d = dest_s3_open(&cfg, &client, err, sizeof(err));
	assert_non_null(d);
	CURL *easy = curl_easy_init();
	struct dest_writer *w = dest_writer_open(d, DIGEST, 3, err, sizeof(err));
	assert_non_null(w);
	static const unsigned char sha[DIGEST_SHA256_LEN] = {0};
	assert_true(dest_writer_write(w, "abc", 3, err, sizeof(err)));
	assert_true(dest_writer_commit(w, 3, sha, err, sizeof(err)));
	assert_string_equal(bucket.checksum, "");
	enum dest_blob_state st = DEST_BLOB_ABSENT;
	assert_true(dest_check_blob(d, easy, DIGEST, 3, false, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_INTACT);
	st = DEST_BLOB_ABSENT;
	assert_true(dest_check_blob(d, easy, DIGEST, 3, true, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_INTACT); /* read back: the bytes are abc */
	bucket.get_status = 404;
	assert_true(dest_check_blob(d, easy, DIGEST, 3, true, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_ABSENT);
	bucket.get_status = 403;
	assert_false(dest_check_blob(d, easy, DIGEST, 3, true, &st, err, sizeof(err)));
	assert_non_null(strstr(err, "GET "));
	assert_non_null(strstr(err, "403"));
	bucket.get_status = 0;
	bucket.drop_checksums = false;
	curl_easy_cleanup(easy);
	dest_free(d);
	http_client_destroy(&client);
}

int main(void)
{
	/* libcurl's own allocations are not failed (see test_fault_registry.c). */
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_along_an_s3_round_trip),
	    cmocka_unit_test(checks_without_a_stored_checksum),
	};
	return cmocka_run_group_tests(tests, start_bucket, stop_bucket);
}
