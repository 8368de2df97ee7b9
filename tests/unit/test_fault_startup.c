/* Allocation failure sweeps along the start of `archeio serve`
 * (tests/unit/helpers/fail_alloc.h), without worker threads:
 *
 * - start-up: config_parse() of a command line using most of what start-up
 *   opens (the three provider files cut small and an operator's text file in
 *   one --ranges directory, mirror and upstream rules, HTTPS with two
 *   certificates, a plain listener, the rate limit with exempt CIDRs, the
 *   metrics port, a pid file), config_log(), then server_open() — the pid file
 *   check, the serve state, TLS, limits, listening sockets, the operator's
 *   port — and server_close(). libevent's allocations count too; OpenSSL's
 *   do not (test_fault_tls.c sweeps them along the TLS load, which here would
 *   take ten thousand starts more).
 * - the same with --xdp-iface lo in skb mode and a SYN limit (as root, in a
 *   private network namespace: lo there is the only interface touched):
 *   open_xdp() and the XDP path's own allocations (libbpf's and libxdp's are
 *   not counted; tests/unit/test_fault_xdp.c sweeps xdp_path_open() alone).
 * - the ranges loader: ranges_load_path() of that directory and
 *   ranges_finish().
 *
 * For N = 1, 2, ... the Nth allocation fails. Each run must either complete
 * like the run without failure, or end with an error: for start-up an exit
 * status of 1 or 2 and an error line in the log; for the loader a message,
 * with the set and region table still freeable. No half-state: after each
 * run the process has exactly the file descriptors it had before (every
 * socket closed), no pid file was written, no XDP program is left on lo and
 * no pin directory on bpffs, and nothing leaks (the sanitizer
 * build, `make check-sanitize`, runs this with leak checking). */
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archeio/geo/ranges.h"
#include "archeio/server/config.h"
#include "helpers/fail_alloc.h"
#include "helpers/test_certs.h"
#include "helpers/xdp_fixture.h"
#include "server/config_log.h"
#include "server/server_startup.h"

#define CORPUS "tests/fuzz/corpus/fuzz_ranges/"

static char *dir;
static char ranges_dir[600], mirrors[600], upstreams[600], pid_file[600];
/* The XDP sweep: root in a private network namespace (lo only). */
static bool bpf_ok, with_xdp;
static char bpffs_dir[64];
static char a_crt[600], a_key[600], b_crt[600], b_key[600];

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

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* The real provider files cut small (tests/fuzz/corpus/fuzz_ranges: the first
 * entries of each, in its real layout) under their real names, and an
 * operator's text file. */
static void make_files(void)
{
	dir = test_dir_new();
	assert_non_null(dir);
	struct test_ca *ca = test_ca_new(dir);
	assert_non_null(ca);
	assert_true(test_ca_issue(ca, dir, "a", "a.test", "127.0.0.1"));
	assert_true(test_ca_issue(ca, dir, "b", "b.test", NULL));
	test_ca_free(ca);
	snprintf(a_crt, sizeof(a_crt), "%s/a.crt", dir);
	snprintf(a_key, sizeof(a_key), "%s/a.key", dir);
	snprintf(b_crt, sizeof(b_crt), "%s/b.crt", dir);
	snprintf(b_key, sizeof(b_key), "%s/b.key", dir);
	snprintf(ranges_dir, sizeof(ranges_dir), "%s/ranges", dir);
	assert_int_equal(mkdir(ranges_dir, 0700), 0);
	static const char *const files[][2] = {{CORPUS "aws.json", "aws-ip-ranges.json"},
					       {CORPUS "gcp.json", "gcp-cloud.json"},
					       {CORPUS "azure.json", "azure-service-tags.json"},
					       {CORPUS "text", "zz-operator.txt"}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char to[700];
		snprintf(to, sizeof(to), "%s/%s", ranges_dir, files[i][1]);
		copy_file(files[i][0], to);
	}
	snprintf(mirrors, sizeof(mirrors), "%s/mirrors", dir);
	write_file(mirrors, "gcp upstream\n"
			    "aws:us-east-1 http://127.0.0.1:1/use1\n"
			    "corp:dc1 http://127.0.0.1:1/dc1\n"
			    "* http://127.0.0.1:1/cdn\n");
	snprintf(upstreams, sizeof(upstreams), "%s/upstreams", dir);
	write_file(upstreams, "aws:us-east-1 http://127.0.0.1:1/up-use1/\n"
			      "corp http://127.0.0.1:1/up-corp\n");
	snprintf(pid_file, sizeof(pid_file), "%s/archeio.pid", dir);
}

static enum config_result parse(struct config *config, char *err, size_t errlen)
{
	const char *argv[] = {
	    "serve", "--listen", "127.0.0.1:0", "--tls-cert", a_crt, "--tls-key", a_key,
	    "--tls-cert", b_crt, "--tls-key", b_key, "--plain-listen", "127.0.0.1:0", "--ranges",
	    ranges_dir, "--mirrors", mirrors, "--upstream-rules", upstreams, "--upstream",
	    "http://127.0.0.1:1/upstream", "--trusted-proxy", "10.0.0.0/8", "--rate-limit", "100",
	    "--rate-limit-exempt", "192.0.2.0/24", "--rate-limit-exempt", "corp:dc2",
	    "--metrics-listen", "127.0.0.1:0", "--pid-file", pid_file, "--workers", "2",
	    "--ranges-max-age", "3650d", "--access-log",
	    /* only with_xdp: */
	    "--xdp-iface", "lo", "--xdp-mode", "skb", "--bpffs", bpffs_dir, "--xdp-syn-limit",
	    "50"};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - (with_xdp ? 0 : 8);
	return config_parse(config, argc, (char **)argv, no_env, err, errlen);
}

static int count_fds(void)
{
	DIR *fds = opendir("/proc/self/fd");
	assert_non_null(fds);
	int count = 0;
	while (readdir(fds))
		count++;
	closedir(fds);
	return count;
}

/* The log of one run, read back: tmpfile() allocates in libc, not counted. */
static bool log_has(FILE *file, const char *what)
{
	char line[2048];
	bool found = false;
	fflush(file);
	rewind(file);
	while (!found && fgets(line, sizeof(line), file))
		found = strstr(line, what) != NULL;
	return found;
}

/* The metrics port of a started server answers /healthz: its listener is
 * bound and watched by the main loop (driven here by server_poll()). */
static bool healthz_answers(FILE *log_file, struct server *server)
{
	char line[2048];
	unsigned port = 0;
	fflush(log_file);
	rewind(log_file);
	while (!port && fgets(line, sizeof(line), log_file)) {
		const char *at = strstr(line, "metrics on http://127.0.0.1:");
		if (at)
			port = (unsigned)atoi(at + strlen("metrics on http://127.0.0.1:"));
	}
	assert_true(port > 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	static const char request[] = "GET /healthz HTTP/1.0\r\n\r\n";
	assert_int_equal(send(fd, request, sizeof(request) - 1, 0), (ssize_t)sizeof(request) - 1);
	char answer[512] = "";
	size_t got = 0;
	for (int i = 0; i < 2000 && !strstr(answer, "\r\n\r\nok"); i++) {
		server_poll(server);
		ssize_t n = recv(fd, answer + got, sizeof(answer) - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			break;
		else
			usleep(500);
	}
	close(fd);
	return strncmp(answer, "HTTP/1.0 200 OK\r\n", 17) == 0 && strstr(answer, "\r\n\r\nok");
}

/* One start to "ready" and back, the nth allocation failing on the way
 * (none with nth 0); the exit status server_open() gave (0 when it was
 * ready, and then its metrics port answered), or -1 when the options were
 * refused. */
static int start_and_close(FILE *log_file, bool *fired, long nth)
{
	/* Static: with XDP, library_log_install() keeps it for libbpf's
	 * messages, as for the life of a server. */
	static struct logger log = {.level = LOG_INFO, .format = LOG_FORMAT_TEXT};
	log.out = log_file;
	struct config config;
	char err[1024] = "";
	struct server *server = NULL;
	int status;

	if (nth > 0)
		fail_alloc_arm(nth);
	if (parse(&config, err, sizeof(err)) != CONFIG_OK) {
		*fired = fail_alloc_disarm();
		if (!*fired)
			fail_msg("options refused without a failure: %s", err);
		if (!strstr(err, "out of memory"))
			fail_msg("allocation %ld: options refused with '%s'", nth, err);
		config_free(&config);
		return -1;
	}
	config_log(&config, &log);
	status = server_open(&config, &log, &server);
	*fired = fail_alloc_disarm();
	if (status == 0) {
		assert_non_null(server);
		if (!healthz_answers(log_file, server))
			fail_msg("allocation %ld: started, but the metrics port does not answer",
				 nth);
	} else {
		assert_null(server);
	}
	server_close(server);
	config_free(&config);
	return status;
}

static uint32_t lo_prog_id(void)
{
	uint32_t id = 0;
	if (bpf_xdp_query_id((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, &id) != 0)
		return 0;
	return id;
}

/* No half-state after a run: the fds of before (and the log file), no pid
 * file, and with XDP no program on lo and no pin directory. */
static void check_nothing_left(long nth, int fds)
{
	struct stat st;
	if (count_fds() != fds + 1)
		fail_msg("allocation %ld: %d file descriptors left open", nth,
			 count_fds() - fds - 1);
	if (access(pid_file, F_OK) == 0)
		fail_msg("allocation %ld: a pid file was written", nth);
	if (with_xdp && lo_prog_id() != 0)
		fail_msg("allocation %ld: an XDP program left on lo", nth);
	if (with_xdp && stat(bpffs_dir, &st) == 0)
		fail_msg("allocation %ld: the pin directory %s left behind", nth, bpffs_dir);
}

static void sweep_start_up(const char *what)
{
	int fds = count_fds();
	FILE *log_file = tmpfile();
	assert_non_null(log_file);
	bool fired;
	assert_int_equal(start_and_close(log_file, &fired, 0), 0);
	assert_false(fired);
	assert_true(log_has(log_file, "metrics on http://127.0.0.1:"));
	assert_false(log_has(log_file, " error "));
	assert_false(log_has(log_file, " warn "));
	if (with_xdp)
		assert_true(log_has(log_file, "XDP: tagging connections on lo (mode skb"));
	check_nothing_left(0, fds);

	long nth = 1, refused = 0, failed = 0, completed = 0;
	for (fired = true; fired; nth++) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		assert_int_equal(ftruncate(fileno(log_file), 0), 0);
		rewind(log_file);
		int status = start_and_close(log_file, &fired, nth);
		if (status < 0) {
			refused++;
		} else if (status != 0) {
			failed++;
			if (status != 1 && status != 2)
				fail_msg("allocation %ld: exit status %d", nth, status);
			if (!log_has(log_file, " error "))
				fail_msg("allocation %ld: exit status %d without an error logged",
					 nth, status);
		} else {
			/* Completed despite the failure (libevent falling back to
			 * another backend, jansson keeping a smaller hash table, a
			 * retried watch): then fully, the metrics port answering. */
			completed++;
		}
		check_nothing_left(nth, fds);
	}
	print_message("%s sweep: %ld allocations (%ld refused options, %ld failed starts, %ld "
		      "completed)\n",
		      what, nth - 2, refused, failed, completed);
	fclose(log_file);
}

static void every_allocation_failure_at_start_up_is_an_error(void **state)
{
	(void)state;
	sweep_start_up("start-up");
}

/* The same with --xdp-iface lo (skb mode, a SYN limit with exempt CIDRs):
 * open_xdp() and the XDP path in server_open()/server_close(). */
static void every_allocation_failure_at_start_up_with_xdp_is_an_error(void **state)
{
	(void)state;
	xdp_fixture_need_bpf(bpf_ok);
	with_xdp = true;
	sweep_start_up("start-up with XDP");
	with_xdp = false;
}

static bool same_sets(const struct range_set *a, const struct range_set *b)
{
	return a->count == b->count &&
	       (a->count == 0 ||
		memcmp(a->entries, b->entries, a->count * sizeof(*a->entries)) == 0);
}

static int load(struct range_set *set, struct region_table *regions, char *err, size_t errlen)
{
	range_set_init(set);
	region_table_init(regions);
	if (ranges_load_path(set, regions, ranges_dir, err, errlen) != 0)
		return -1;
	if (ranges_finish(set) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void every_allocation_failure_loading_the_ranges_is_an_error(void **state)
{
	(void)state;
	struct range_set reference;
	struct region_table reference_regions;
	char err[1024];
	assert_int_equal(load(&reference, &reference_regions, err, sizeof(err)), 0);
	assert_true(reference.count > 10);

	long nth = 1;
	for (bool fired = true; fired; nth++) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		struct range_set set;
		struct region_table regions;
		err[0] = '\0';
		fail_alloc_arm(nth);
		int rc = load(&set, &regions, err, sizeof(err));
		fired = fail_alloc_disarm();
		if (rc == 0) {
			assert_true(same_sets(&set, &reference));
			assert_int_equal(regions.count, reference_regions.count);
		} else {
			assert_true(fired);
			/* "out of memory", or where jansson reports its failure as a
			 * syntax error, that with its text; never a reason left empty. */
			size_t len = strlen(err);
			if (len < 2 || strcmp(err + len - 2, ": ") == 0 ||
			    (!strstr(err, "out of memory") && !strstr(err, "invalid JSON")))
				fail_msg("allocation %ld: '%s' does not say why", nth, err);
		}
		range_set_free(&set);
		region_table_free(&regions);
	}
	print_message("ranges loader sweep: %ld allocations\n", nth - 2);
	range_set_free(&reference);
	region_table_free(&reference_regions);
}

static bool bring_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok;
	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	close(fd);
	return ok;
}

/* The files, and as root a private network namespace, where the XDP sweep
 * attaches to lo and nothing else (the listeners use its 127.0.0.1). */
static int group_setup(void **state)
{
	(void)state;
	make_files();
	snprintf(bpffs_dir, sizeof(bpffs_dir), "/sys/fs/bpf/archeio-fault-startup-%d", getpid());
	if (geteuid() != 0 && !xdp_fixture_bpf_required())
		return 0;
	if (unshare(CLONE_NEWNET) != 0 || !bring_lo_up()) {
		fprintf(stderr, "test_fault_startup: cannot make a private netns: %s\n",
			strerror(errno));
		return xdp_fixture_bpf_required() ? -1 : 0;
	}
	bpf_ok = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (bpf_ok)
		xdp_fixture_remove_pins(bpffs_dir);
	test_dir_remove(dir);
	return 0;
}

int main(void)
{
	fail_alloc_count_libevent();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_at_start_up_is_an_error),
	    cmocka_unit_test(every_allocation_failure_at_start_up_with_xdp_is_an_error),
	    cmocka_unit_test(every_allocation_failure_loading_the_ranges_is_an_error),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
