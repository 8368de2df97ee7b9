/* Native-mode XDP on a veth pair between two private network namespaces
 * (198.18.0.0/24): a client in the peer namespace connects over IPv4 and
 * IPv6, the server side takes the XDP tags after accept(); bpftool shows the
 * pinned maps with region names, tries and counters. Needs root. Everything
 * lives in namespaces owned by this process and its child, so it all goes
 * away with them; pins are removed by teardown. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archeio/xdp/xdp_path.h"
#include "archeio/xdp/xdp_status.h"
#include "helpers/xdp_fixture.h"

#define PORT 18443
#define SERVER4 "198.18.0.1"
#define CLIENT4 "198.18.0.2"
#define SERVER6 "fd00:198:18::1"
#define CLIENT6 "fd00:198:18::2"

struct env {
	bool bpf;
	pid_t client; /* holds the client namespace; killed by teardown */
	int to_client, from_client;
	char pin_dir[64];
	struct xdp_fixture_data data;
	uint32_t aws, gcp;
};

static int run(const char *command)
{
	int rc = system(command);

	if (rc != 0)
		fprintf(stderr, "test_xdp_veth: `%s` failed (%d)\n", command, rc);
	return rc;
}

/* The client: its own namespace, then connects on request ("4"/"6"), one
 * byte back per attempt ('y' connected, 'n' failed). Bounded by its pipe. */
static void client_main(int commands, int answers)
{
	char c = 'r';

	if (unshare(CLONE_NEWNET) != 0)
		_exit(2);
	if (write(answers, &c, 1) != 1 || read(commands, &c, 1) != 1) /* veth moved in */
		_exit(3);
	if (run("ip link set lo up && ip link set xc0 up && ip addr add " CLIENT4
		"/24 dev xc0 && ip -6 addr add " CLIENT6 "/64 dev xc0 nodad") != 0)
		_exit(4);
	c = 'r';
	if (write(answers, &c, 1) != 1)
		_exit(5);
	while (read(commands, &c, 1) == 1) {
		bool v6 = c == '6';
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT)};
		int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
		int ok;

		inet_pton(AF_INET, SERVER4, &sin.sin_addr);
		inet_pton(AF_INET6, SERVER6, &sin6.sin6_addr);
		ok = fd >= 0 && connect(fd, v6 ? (struct sockaddr *)&sin6 : (struct sockaddr *)&sin,
					v6 ? sizeof(sin6) : sizeof(sin)) == 0;
		c = ok ? 'y' : 'n';
		if (write(answers, &c, 1) != 1)
			_exit(6);
		/* Keep the connection until the server has accepted it. */
		if (read(commands, &c, 1) != 1)
			_exit(0);
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

static bool start_client(struct env *env)
{
	int commands[2], answers[2];
	char c, command[128];

	if (pipe(commands) != 0 || pipe(answers) != 0)
		return false;
	env->client = fork();
	if (env->client < 0)
		return false;
	if (env->client == 0) {
		close(commands[1]);
		close(answers[0]);
		client_main(commands[0], answers[1]);
	}
	close(commands[0]);
	close(answers[1]);
	env->to_client = commands[1];
	env->from_client = answers[0];
	if (read(env->from_client, &c, 1) != 1)
		return false;
	snprintf(command, sizeof(command), "ip link set xc0 netns %d", (int)env->client);
	if (run(command) != 0 || write(env->to_client, "m", 1) != 1)
		return false;
	return read(env->from_client, &c, 1) == 1;
}

static int group_setup(void **state)
{
	static struct env env;

	memset(&env, 0, sizeof(env));
	env.to_client = env.from_client = -1;
	*state = &env;
	if (geteuid() != 0 && !xdp_fixture_bpf_required())
		return 0;
	signal(SIGPIPE, SIG_IGN);
	if (unshare(CLONE_NEWNET) != 0 ||
	    run("ip link set lo up && ip link add xs0 type veth peer name xc0 && "
		"ip link set xs0 up && ip addr add " SERVER4 "/24 dev xs0 && "
		"ip -6 addr add " SERVER6 "/64 dev xs0 nodad") != 0 ||
	    !start_client(&env)) {
		fprintf(stderr, "test_xdp_veth: cannot build the veth namespaces\n");
		return xdp_fixture_bpf_required() ? -1 : 0;
	}
	snprintf(env.pin_dir, sizeof(env.pin_dir), "/sys/fs/bpf/archeio-veth-%d", getpid());
	xdp_fixture_init(&env.data);
	env.aws = xdp_fixture_region(&env.data, "aws", "us-east-1");
	env.gcp = xdp_fixture_region(&env.data, "gcp", "europe-west1");
	xdp_fixture_range(&env.data, "198.18.0.0/24", env.aws);
	xdp_fixture_range(&env.data, "fd00:198:18::/48", env.gcp);
	env.bpf = true;
	return 0;
}

static int group_teardown(void **state)
{
	struct env *env = *state;

	if (env->to_client >= 0)
		close(env->to_client); /* the client exits on EOF */
	if (env->from_client >= 0)
		close(env->from_client);
	if (env->client > 0) {
		kill(env->client, SIGKILL);
		waitpid(env->client, NULL, 0);
	}
	if (env->pin_dir[0])
		xdp_fixture_remove_pins(env->pin_dir);
	return 0;
}

static int listen_on(int family, const char *addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT)};
	int fd = socket(family, SOCK_STREAM, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		inet_pton(AF_INET, addr, &sin.sin_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	} else {
		inet_pton(AF_INET6, addr, &sin6.sin6_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	}
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Has the client connect, accepts, and returns the tuple the server sees. */
static struct conn_tuple accept_from_client(struct env *env, int listener, char family)
{
	struct sockaddr_storage peer, local;
	socklen_t peer_len = sizeof(peer), local_len = sizeof(local);
	struct conn_tuple tuple;
	char answer;
	int fd;

	assert_int_equal(write(env->to_client, &family, 1), 1);
	assert_int_equal(read(env->from_client, &answer, 1), 1);
	assert_int_equal(answer, 'y');
	fd = accept(listener, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&peer, &peer_len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&local, &local_len), 0);
	assert_true(ip_from_sockaddr(&peer, &tuple.peer));
	assert_true(ip_from_sockaddr(&local, &tuple.local));
	tuple.peer_port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
	tuple.local_port = ntohs(((struct sockaddr_in *)&local)->sin_port);
	close(fd);
	assert_int_equal(write(env->to_client, "c", 1), 1); /* client closes */
	return tuple;
}

static bool command_output_contains(const char *command, const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *p = popen(command, "r");

	if (!p)
		return false;
	while (fgets(line, sizeof(line), p))
		found = found || strstr(line, needle) != NULL;
	pclose(p);
	return found;
}

static void test_native_veth_tags_connections(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	const uint16_t port = PORT;
	struct xdp_path_options options = {.iface = "xs0",
					   .mode = XDP_PATH_MODE_NATIVE,
					   .bpffs_dir = env->pin_dir,
					   .listen_ports = &port,
					   .listen_port_count = 1};
	struct conn_tuple v4, v6;
	uint32_t region = 0;
	char err[512] = "", command[256], *status = NULL;
	size_t status_len = 0;
	FILE *out;
	struct xdp_path *path =
	    xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	int l4, l6;

	if (!path)
		fail_msg("%s", err);
	assert_int_equal(xdp_path_attached_mode(path), XDP_PATH_MODE_NATIVE);
	l4 = listen_on(AF_INET, SERVER4);
	l6 = listen_on(AF_INET6, SERVER6);
	v4 = accept_from_client(env, l4, '4');
	v6 = accept_from_client(env, l6, '6');
	close(l4);
	close(l6);

	assert_true(xdp_path_take_conn_tag(path, &v4, &region));
	assert_int_equal(region, env->aws);
	assert_true(xdp_path_take_conn_tag(path, &v6, &region));
	assert_int_equal(region, env->gcp);

	out = open_memstream(&status, &status_len);
	assert_non_null(out);
	assert_int_equal(xdp_status_run(env->pin_dir, false, out, err, sizeof(err)), 0);
	fclose(out);
	assert_non_null(strstr(status, "\ninterface xs0\nifindex "));
	assert_non_null(strstr(status, "\nmode native\n"));
	assert_non_null(strstr(status, "\nattached yes\n"));
	assert_non_null(strstr(status, "\nsyns 2\ntagged 2\n"));
	assert_non_null(strstr(status, "\ntagged_aws 1\ntagged_gcp 1\n"));
	free(status);

	/* The documented bpftool views. */
	snprintf(command, sizeof(command), "bpftool map dump pinned %s/regions 2>&1", env->pin_dir);
	assert_true(command_output_contains(command, "us-east-1"));
	snprintf(command, sizeof(command), "bpftool map dump pinned %s/lpm4 2>&1", env->pin_dir);
	assert_true(command_output_contains(command, "\"prefixlen\": 24"));
	snprintf(command, sizeof(command), "bpftool map dump pinned %s/counters 2>&1",
		 env->pin_dir);
	assert_true(command_output_contains(command, "\"values\""));
	xdp_path_close(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_native_veth_tags_connections),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
