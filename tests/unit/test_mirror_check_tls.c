/* mirror_checker over HTTPS: certificates and host names are verified.
 * The TLS server is `openssl s_server` (a child process on 127.0.0.1, port
 * chosen by the kernel) with a self-signed certificate made in a temporary
 * directory; it sends a canned "200" answer from its stdin once a client
 * completes the handshake, so the check is "present" exactly when the
 * handshake was accepted. Everything is removed in teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archeio/mirrorcheck/mirror_check.h"

#define SAFETY_MS 10000
#define CANNED_200 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

struct fixture {
	char dir[64];
	char cert[96];
	char key[96];
	pid_t server;
	int server_stdin;
	int server_stdout;
	uint16_t port;
	struct event_base *base;
	int calls;
	bool present;
	bool safety_fired;
};

/* Runs argv with output discarded; fails the test unless it exits 0. */
static void run_command(char *const argv[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s failed (status %d); is the openssl command installed?", argv[0],
			 status);
}

static void make_certificate(struct fixture *fx, const char *san)
{
	char ext[64];

	snprintf(ext, sizeof(ext), "subjectAltName=%s", san);
	char *argv[] = {"openssl",
			"req",
			"-x509",
			"-newkey",
			"ec",
			"-pkeyopt",
			"ec_paramgen_curve:prime256v1",
			"-nodes",
			"-keyout",
			fx->key,
			"-out",
			fx->cert,
			"-days",
			"1",
			"-subj",
			"/CN=archeio-test",
			"-addext",
			ext,
			NULL};
	run_command(argv);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the server's stdout until its "ACCEPT 127.0.0.1:PORT" line, for at
 * most SAFETY_MS. */
static uint16_t read_accept_port(int fd)
{
	char buf[4096];
	size_t len = 0;
	int64_t deadline = now_ms() + SAFETY_MS;

	while (now_ms() < deadline && len < sizeof(buf) - 1) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		const char *at = strstr(buf, "ACCEPT 127.0.0.1:");
		unsigned port;
		if (at && strchr(at, '\n') && sscanf(at, "ACCEPT 127.0.0.1:%u", &port) == 1 &&
		    port > 0 && port < 65536)
			return (uint16_t)port;
	}
	fail_msg("openssl s_server did not report its port");
	return 0;
}

static void start_server(struct fixture *fx)
{
	int in[2], out[2];

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	fx->server = fork();
	assert_true(fx->server >= 0);
	if (fx->server == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		close(in[1]);
		close(out[0]);
		execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
		       fx->cert, "-key", fx->key, "-naccept", "1", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fx->server_stdin = in[1];
	fx->server_stdout = out[0];
	fx->port = read_accept_port(fx->server_stdout);
	/* Queued now, sent by s_server only inside an established session. */
	assert_int_equal(write(fx->server_stdin, CANNED_200, strlen(CANNED_200)),
			 (ssize_t)strlen(CANNED_200));
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->server = -1;
	fx->server_stdin = fx->server_stdout = -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/archeio-tls-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->cert, sizeof(fx->cert), "%s/cert.pem", fx->dir);
	snprintf(fx->key, sizeof(fx->key), "%s/key.pem", fx->dir);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->server > 0) {
		kill(fx->server, SIGTERM);
		waitpid(fx->server, NULL, 0);
	}
	if (fx->server_stdin >= 0)
		close(fx->server_stdin);
	if (fx->server_stdout >= 0)
		close(fx->server_stdout);
	unlink(fx->cert);
	unlink(fx->key);
	rmdir(fx->dir);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void on_answer(void *arg, bool present)
{
	struct fixture *fx = arg;

	fx->calls++;
	fx->present = present;
	event_base_loopbreak(fx->base);
}

static void on_safety_timer(evutil_socket_t fd, short events, void *arg)
{
	struct fixture *fx = arg;

	(void)fd;
	(void)events;
	fx->safety_fired = true;
	event_base_loopbreak(fx->base);
}

/* Checks https://127.0.0.1:port/present with ca_file and returns the answer. */
static bool check_once(struct fixture *fx, const char *ca_file)
{
	struct mirror_checker_options o = {.timeout_ms = 5000, .ca_file = ca_file};
	struct mirror_checker *c = mirror_checker_new(fx->base, &o);
	struct timeval tv = {.tv_sec = SAFETY_MS / 1000};
	struct event *safety = evtimer_new(fx->base, on_safety_timer, fx);
	char url[64];

	assert_non_null(c);
	assert_non_null(safety);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/present", (unsigned)fx->port);
	evtimer_add(safety, &tv);
	mirror_checker_check(c, url, on_answer, fx);
	if (fx->calls == 0)
		event_base_dispatch(fx->base);
	event_free(safety);
	mirror_checker_free(c);
	assert_false(fx->safety_fired);
	assert_int_equal(fx->calls, 1);
	return fx->present;
}

static void test_trusted_certificate_is_present(void **state)
{
	struct fixture *fx = *state;

	make_certificate(fx, "IP:127.0.0.1");
	start_server(fx);
	assert_true(check_once(fx, fx->cert));
}

static void test_untrusted_certificate_is_absent(void **state)
{
	struct fixture *fx = *state;

	make_certificate(fx, "IP:127.0.0.1");
	start_server(fx);
	assert_false(check_once(fx, NULL)); /* self-signed: not in the system store */
}

static void test_wrong_host_name_is_absent(void **state)
{
	struct fixture *fx = *state;

	make_certificate(fx, "DNS:mirror.invalid"); /* trusted, but not for 127.0.0.1 */
	start_server(fx);
	assert_false(check_once(fx, fx->cert));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_trusted_certificate_is_present, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_certificate_is_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_host_name_is_absent, setup, teardown),
	};

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "test_mirror_check_tls: curl_global_init failed\n");
		return 1;
	}
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return failed;
}
