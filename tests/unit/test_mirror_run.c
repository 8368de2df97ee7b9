/* mirror_run() end to end in-process: an image of one blob from a registry
 * on 127.0.0.1 (libevent's HTTP server on a thread) fanned out to two
 * directories, with the live progress line on a pseudo-terminal (it names
 * each destination's counts); then --verify where one destination cannot
 * take the repaired blob (its name is a directory): the failure says what
 * was being repaired, the other destination is repaired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archeio/mirrortool/cli.h"
#include "archeio/mirrortool/run.h"

#define BLOB "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MANIFEST                                                                                   \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","       \
	"\"config\":{\"digest\":\"" BLOB "\",\"size\":3},\"layers\":[]}"

static struct {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	char url[64];
	char dir[64];
} fx;

static void reply(struct evhttp_request *req, int code, const char *type, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	if (type)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Not Found", out);
	evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *uri = evhttp_request_get_uri(req);
	if (strcmp(uri, "/v2/") == 0)
		reply(req, 200, "application/json", "{}");
	else if (strcmp(uri, "/v2/a/b/tags/list") == 0)
		reply(req, 200, "application/json", "{\"name\":\"a/b\",\"tags\":[\"v1\"]}");
	else if (strcmp(uri, "/v2/a/b/manifests/v1") == 0)
		reply(req, 200, "application/vnd.oci.image.manifest.v1+json", MANIFEST);
	else if (strcmp(uri, "/v2/a/b/blobs/" BLOB) == 0)
		reply(req, 200, "application/octet-stream", "abc");
	else
		reply(req, 404, "application/json", "{\"errors\":[{\"code\":\"NOT_FOUND\"}]}");
}

static void *serve(void *arg)
{
	(void)arg;
	event_base_dispatch(fx.base);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	if (evthread_use_pthreads() != 0)
		return -1;
	fx.base = event_base_new();
	fx.http = fx.base ? evhttp_new(fx.base) : NULL;
	if (!fx.http)
		return -1;
	evhttp_set_gencb(fx.http, on_request, NULL);
	struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(fx.http, "127.0.0.1", 0);
	if (!sock)
		return -1;
	struct sockaddr_storage ss;
	ev_socklen_t len = sizeof(ss);
	getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &len);
	snprintf(fx.url, sizeof(fx.url), "http://127.0.0.1:%u",
		 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/archeio-test-run.XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	return pthread_create(&fx.thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	event_base_loopbreak(fx.base);
	pthread_join(fx.thread, NULL);
	evhttp_free(fx.http);
	event_base_free(fx.base);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A pseudo-terminal for the log, so the progress line is live; the master
 * end collects what was written (non-blocking, read after the run). */
struct terminal {
	int master;
	FILE *slave;
};

static struct terminal terminal_open(void)
{
	struct terminal t = {posix_openpt(O_RDWR | O_NOCTTY), NULL};
	assert_true(t.master >= 0);
	assert_int_equal(grantpt(t.master), 0);
	assert_int_equal(unlockpt(t.master), 0);
	t.slave = fopen(ptsname(t.master), "w");
	assert_non_null(t.slave);
	fcntl(t.master, F_SETFL, O_NONBLOCK);
	return t;
}

static char *terminal_close(struct terminal *t)
{
	static char text[16384];
	fclose(t->slave);
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(text) - 1 &&
	       (n = read(t->master, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	text[len] = '\0';
	close(t->master);
	return text;
}

static int run(const char *const *args, int argc, struct terminal *t)
{
	struct mirror_options o;
	char err[256];
	const char *argv[16] = {"archeio-mirror"};
	for (int i = 0; i < argc; i++)
		argv[1 + i] = args[i];
	assert_int_equal(cli_parse(argc + 1, (char **)argv, &o, err, sizeof(err)), CLI_OK);
	FILE *out = tmpfile();
	int rc = mirror_run(&o, out, t->slave);
	fclose(out);
	cli_options_free(&o);
	return rc;
}

static void fan_out_with_a_live_progress_line(void **state)
{
	(void)state;
	char a[128], b[128], path[512];
	snprintf(a, sizeof(a), "%s/a", fx.dir);
	snprintf(b, sizeof(b), "%s/b", fx.dir);
	struct terminal t = terminal_open();
	const char *args[] = {"--from", fx.url, "--repo", "a/b", "--to", a, "--to", b};
	int rc = run(args, 8, &t);
	char *text = terminal_close(&t);
	assert_int_equal(rc, MIRROR_EXIT_OK);
	struct stat st;
	snprintf(path, sizeof(path), "%s/containers/images/" BLOB, a);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	snprintf(path, sizeof(path), "%s/containers/images/" BLOB, b);
	assert_int_equal(stat(path, &st), 0);
	/* The live line counts each destination: " | 1: copied+present 2: ..." */
	if (!strstr(text, " | 1: ") || !strstr(text, " 2: "))
		fail_msg("no per-destination counts in the progress line: \"%s\"", text);
}

static void a_repair_one_destination_cannot_take(void **state)
{
	(void)state;
	char a[128], b[128], path[512];
	snprintf(a, sizeof(a), "%s/ra", fx.dir);
	snprintf(b, sizeof(b), "%s/rb", fx.dir);
	/* b's blob name is taken by a directory: the repaired blob cannot go there. */
	snprintf(path, sizeof(path), "mkdir -p '%s/containers/images/" BLOB "/x' '%s'", b, a);
	assert_int_equal(system(path), 0);
	struct terminal t = terminal_open();
	const char *args[] = {"--from", fx.url, "--repo", "a/b", "--to", a, "--to", b, "--verify"};
	int rc = run(args, 9, &t);
	char *text = terminal_close(&t);
	assert_true(rc != MIRROR_EXIT_OK);
	struct stat st;
	snprintf(path, sizeof(path), "%s/containers/images/" BLOB, a);
	assert_int_equal(stat(path, &st), 0); /* the other one repaired */
	assert_int_equal(st.st_size, 3);
	if (!strstr(text, "repairing (missing): cannot rename"))
		fail_msg("the failure does not say what was repaired: \"%s\"", text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fan_out_with_a_live_progress_line),
	    cmocka_unit_test(a_repair_one_destination_cannot_take),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
