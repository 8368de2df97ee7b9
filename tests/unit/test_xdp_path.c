/* xdp_path end to end on the loopback device of a private network namespace:
 * clear errors (no interface, no bpffs, native refused), auto falling back to
 * skb mode, pins and `xdp status`, pinned lookups, reloads, real TCP
 * connections tagged by XDP and taken after accept(), keep and the next
 * start taking the kept program over, foreign programs refused, one process
 * per pin directory, `archeio xdp detach`, and cleanup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archeio/xdp/xdp_detach.h"
#include "archeio/xdp/xdp_path.h"
#include "archeio/xdp/xdp_status.h"
#include "helpers/xdp_fixture.h"

#define LOG_MAX 4096

struct env {
	bool bpf;	   /* root in a private netns with lo up */
	char pin_dir[64];  /* under /sys/fs/bpf, removed by teardown */
	char log[LOG_MAX]; /* every message the path logged */
	struct xdp_fixture_data data;
	uint32_t aws, gcp;
	uint16_t port;
};

static void collect_log(void *ctx, const char *message)
{
	struct env *env = ctx;
	size_t used = strlen(env->log);

	snprintf(env->log + used, sizeof(env->log) - used, "%s\n", message);
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

/* A private network namespace: the tests attach to its lo and nothing else. */
static int group_setup(void **state)
{
	static struct env env;

	memset(&env, 0, sizeof(env));
	*state = &env;
	if (geteuid() != 0 && !xdp_fixture_bpf_required())
		return 0;
	if (unshare(CLONE_NEWNET) != 0 || !bring_lo_up()) {
		fprintf(stderr, "test_xdp_path: cannot make a private netns: %s\n",
			strerror(errno));
		return xdp_fixture_bpf_required() ? -1 : 0;
	}
	env.bpf = true;
	return 0;
}

static int setup(void **state)
{
	struct env *env = *state;

	env->log[0] = '\0';
	snprintf(env->pin_dir, sizeof(env->pin_dir), "/sys/fs/bpf/archeio-test-%d", getpid());
	xdp_fixture_init(&env->data);
	env->aws = xdp_fixture_region(&env->data, "aws", "us-east-1");
	env->gcp = xdp_fixture_region(&env->data, "gcp", "europe-west1");
	xdp_fixture_range(&env->data, "127.0.0.0/8", env->aws);
	xdp_fixture_range(&env->data, "::1/128", env->gcp);
	xdp_fixture_range(&env->data, "192.0.2.0/24", env->gcp);
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;

	if (env->bpf) {
		/* Whatever a failed test left behind. */
		bpf_xdp_detach((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, NULL);
		xdp_fixture_remove_pins(env->pin_dir);
	}
	return 0;
}

static struct xdp_path_options options_for(struct env *env, const char *iface,
					   enum xdp_path_mode mode)
{
	static const uint16_t no_ports[1];
	struct xdp_path_options options = {.iface = iface,
					   .mode = mode,
					   .bpffs_dir = env->pin_dir,
					   .listen_ports = env->port ? &env->port : no_ports,
					   .listen_port_count = env->port ? 1 : 0,
					   .log = collect_log,
					   .log_ctx = env};

	return options;
}

static int unlink_pin(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return unlink(path);
}

static bool exists(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static uint32_t lo_prog_id(void)
{
	uint32_t id = 0;

	bpf_xdp_query_id((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, &id);
	return id;
}

static void test_no_such_interface(void **state)
{
	struct env *env = *state;
	struct xdp_path_options options = options_for(env, "archeio-nope0", XDP_PATH_MODE_AUTO);
	char err[512] = "";

	assert_null(xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err)));
	assert_non_null(strstr(err, "no such network interface 'archeio-nope0'"));
}

static void test_bpffs_dir_not_on_bpffs(void **state)
{
	struct env *env = *state;
	char tmp[] = "/tmp/archeio-xdp-XXXXXX", dir[64];
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_AUTO);
	char err[512] = "";

	assert_non_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/pins", tmp);
	options.bpffs_dir = dir;
	assert_null(xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err)));
	rmdir(dir);
	rmdir(tmp);
	assert_non_null(strstr(err, "is not on a bpf filesystem"));
	assert_non_null(strstr(err, "mount -t bpf bpf /sys/fs/bpf"));
}

static void test_mode_names(void **state)
{
	enum xdp_path_mode mode;

	(void)state;
	assert_true(xdp_path_mode_parse("auto", &mode));
	assert_int_equal(mode, XDP_PATH_MODE_AUTO);
	assert_true(xdp_path_mode_parse("native", &mode));
	assert_int_equal(mode, XDP_PATH_MODE_NATIVE);
	assert_true(xdp_path_mode_parse("skb", &mode));
	assert_int_equal(mode, XDP_PATH_MODE_SKB);
	assert_false(xdp_path_mode_parse("drv", &mode));
	assert_string_equal(xdp_path_mode_name(XDP_PATH_MODE_SKB), "skb");
	assert_string_equal(xdp_path_mode_name(XDP_PATH_MODE_NATIVE), "native");
}

static void test_native_refused_without_auto(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_NATIVE);
	char err[512] = "";

	/* lo has no native XDP support. */
	assert_null(xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err)));
	assert_non_null(strstr(err, "native XDP attach on lo refused"));
	assert_non_null(strstr(err, "--xdp-mode skb or auto"));
	assert_false(exists(env->pin_dir, "conn_tags"));
	assert_int_equal(lo_prog_id(), 0);
}

static void test_auto_falls_back_pins_and_cleans_up(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_AUTO);
	struct xdp_path *path;
	char err[512] = "";

	path = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_non_null(path);
	assert_int_equal(xdp_path_attached_mode(path), XDP_PATH_MODE_SKB);
	assert_non_null(strstr(env->log, "falling back to skb"));
	assert_non_null(strstr(env->log, "attached to lo in skb mode"));
	assert_true(xdp_path_prog_id(path) != 0);
	assert_true(lo_prog_id() != 0);
	for (const char *const *name =
		 (const char *const[]){"lpm4_outer", "lpm6_outer", "lpm4", "lpm6", "regions",
				       "clouds", "conn_tags", "listen_ports", "counters",
				       "attach_info", NULL};
	     *name; name++)
		assert_true(exists(env->pin_dir, *name));
	xdp_path_close(path);
	assert_false(exists(env->pin_dir, "conn_tags"));
	assert_false(exists(env->pin_dir, ""));
	assert_int_equal(lo_prog_id(), 0);
}

static void test_status_and_pinned_lookup(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_SKB);
	struct xdp_pinned *pinned = NULL;
	struct ip_addr v4 = xdp_fixture_addr("127.1.2.3");
	struct ip_addr v6 = xdp_fixture_addr("::1");
	struct ip_addr none = xdp_fixture_addr("10.9.9.9");
	struct region_name name;
	char err[512] = "", *text = NULL;
	size_t text_len = 0;
	FILE *out;
	struct xdp_path *path =
	    xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));

	assert_non_null(path);
	assert_int_equal(xdp_pinned_open(env->pin_dir, &pinned, err, sizeof(err)), 0);
	assert_int_equal(xdp_pinned_lookup(pinned, &v4), env->aws);
	assert_int_equal(xdp_pinned_lookup(pinned, &v6), env->gcp);
	assert_int_equal(xdp_pinned_lookup(pinned, &none), REGION_NONE);
	assert_true(xdp_pinned_region_name(pinned, env->gcp, &name));
	assert_string_equal(name.region, "europe-west1");
	assert_false(xdp_pinned_region_name(pinned, 500, &name));

	out = open_memstream(&text, &text_len);
	assert_non_null(out);
	assert_int_equal(xdp_status_run(env->pin_dir, false, out, err, sizeof(err)), 0);
	fclose(out);
	assert_non_null(strstr(text, "\ninterface lo\n"));
	assert_non_null(strstr(text, "\nmode skb\n"));
	assert_non_null(strstr(text, "\nattached yes\n"));
	assert_non_null(strstr(text, "\nlpm4_entries 2\n"));
	assert_non_null(strstr(text, "\nlpm6_entries 1\n"));
	assert_non_null(strstr(text, "\nregions_entries 2\n"));
	assert_non_null(strstr(text, "\ntagged_aws 0\n"));
	free(text);

	/* A reload is seen by the other process's lookups at once. */
	xdp_fixture_clear_ranges(&env->data);
	xdp_fixture_range(&env->data, "127.0.0.0/8", env->gcp);
	assert_int_equal(
	    xdp_path_reload(path, &env->data.set, &env->data.regions, err, sizeof(err)), 0);
	assert_int_equal(xdp_pinned_lookup(pinned, &v4), env->gcp);
	assert_int_equal(xdp_pinned_lookup(pinned, &v6), REGION_NONE);
	assert_int_equal(xdp_path_lookup(path, &v4), env->gcp);
	xdp_pinned_close(pinned);

	/* Pins removed under the running server: status says a server holds
	 * the directory; xdp_path_repin() (SIGHUP) pins them all again. */
	static const char *const gone[] = {"lpm4_outer", "attach_info", "lpm4"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_int_equal(unlink_pin(env->pin_dir, gone[i]), 0);
	assert_int_equal(xdp_status_run(env->pin_dir, true, stdout, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a running archeio holds it: its pins were removed"));
	assert_int_equal(xdp_path_repin(path, err, sizeof(err)), 3);
	assert_true(exists(env->pin_dir, "lpm4_outer") && exists(env->pin_dir, "lpm4"));
	assert_int_equal(xdp_path_repin(path, err, sizeof(err)), 0);
	assert_int_equal(xdp_pinned_open(env->pin_dir, &pinned, err, sizeof(err)), 0);
	assert_int_equal(xdp_pinned_lookup(pinned, &v4), env->gcp);
	xdp_pinned_close(pinned);

	xdp_path_close(path);
	assert_int_equal(xdp_pinned_open(env->pin_dir, &pinned, err, sizeof(err)), 1);
	assert_int_equal(xdp_status_run(env->pin_dir, true, stdout, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no archeio maps pinned in"));
	assert_non_null(strstr(err, "no `archeio serve --xdp-iface` with this --bpffs is running"));
}

/* The pin directory moved away under the server (as when bpffs is unmounted):
 * repinning refuses to pin where nobody looks, and exit removes the pins from
 * the directory it pinned in, not from what the path names now. */
static void test_pin_dir_gone(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_SKB);
	char err[512] = "", moved[600];
	struct xdp_path *path =
	    xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));

	assert_non_null(path);
	snprintf(moved, sizeof(moved), "%s-moved", env->pin_dir);
	assert_int_equal(rename(env->pin_dir, moved), 0);
	assert_int_equal(xdp_path_repin(path, err, sizeof(err)), -1);
	assert_string_equal(err, "it no longer exists: bpffs unmounted or the directory removed");
	/* Another directory at the path now, with a pin of the same name. */
	assert_int_equal(mkdir(env->pin_dir, 0700), 0);
	char other[700];
	snprintf(other, sizeof(other), "%s/lpm4_outer", env->pin_dir);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "other", 4, 4, 1, NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_pin(fd, other), 0);
	close(fd);
	assert_int_equal(xdp_path_repin(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another directory is there now"));
	assert_false(exists(env->pin_dir, "regions"));

	xdp_path_close(path);
	assert_true(exists(env->pin_dir, "lpm4_outer")); /* not ours: left alone */
	assert_false(exists(moved, "regions"));		 /* ours: removed */
	assert_int_equal(unlink(other), 0);
	assert_int_equal(rmdir(env->pin_dir), 0);
	rmdir(moved);
	assert_int_equal(lo_prog_id(), 0);
}

/* Connects to the listener from `from` and returns the accepted socket's
 * tuple as the server would build it. */
static struct conn_tuple connect_and_accept(int family, const char *addr, uint16_t port)
{
	struct sockaddr_storage peer, local;
	socklen_t peer_len = sizeof(peer), local_len = sizeof(local);
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr *sa =
	    family == AF_INET ? (struct sockaddr *)&sin : (struct sockaddr *)&sin6;
	socklen_t sa_len = family == AF_INET ? sizeof(sin) : sizeof(sin6);
	int listener = socket(family, SOCK_STREAM, 0), client = socket(family, SOCK_STREAM, 0);
	int one = 1, server;
	struct conn_tuple tuple;

	assert_true(listener >= 0 && client >= 0);
	inet_pton(family, addr,
		  family == AF_INET ? (void *)&sin.sin_addr : (void *)&sin6.sin6_addr);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(listener, sa, sa_len), 0);
	assert_int_equal(listen(listener, 4), 0);
	assert_int_equal(connect(client, sa, sa_len), 0);
	server = accept(listener, NULL, NULL);
	assert_true(server >= 0);
	assert_int_equal(getpeername(server, (struct sockaddr *)&peer, &peer_len), 0);
	assert_int_equal(getsockname(server, (struct sockaddr *)&local, &local_len), 0);
	memset(&tuple, 0, sizeof(tuple));
	if (family == AF_INET) {
		const struct sockaddr_in *p = (const void *)&peer, *l = (const void *)&local;

		tuple.peer.family = tuple.local.family = AF_INET;
		memcpy(tuple.peer.bytes, &p->sin_addr, 4);
		memcpy(tuple.local.bytes, &l->sin_addr, 4);
		tuple.peer_port = ntohs(p->sin_port);
		tuple.local_port = ntohs(l->sin_port);
	} else {
		const struct sockaddr_in6 *p = (const void *)&peer, *l = (const void *)&local;

		tuple.peer.family = tuple.local.family = AF_INET6;
		memcpy(tuple.peer.bytes, &p->sin6_addr, 16);
		memcpy(tuple.local.bytes, &l->sin6_addr, 16);
		tuple.peer_port = ntohs(p->sin6_port);
		tuple.local_port = ntohs(l->sin6_port);
	}
	close(server);
	close(client);
	close(listener);
	return tuple;
}

static void test_real_connections_are_tagged(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options;
	struct xdp_path *path;
	struct conn_tuple v4, v6, other;
	uint32_t region = 0;
	char err[512] = "";

	env->port = 18080;
	options = options_for(env, "lo", XDP_PATH_MODE_SKB);
	path = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	env->port = 0;
	assert_non_null(path);
	v4 = connect_and_accept(AF_INET, "127.0.0.1", 18080);
	v6 = connect_and_accept(AF_INET6, "::1", 18080);
	other = connect_and_accept(AF_INET, "127.0.0.1", 18081); /* not a listening port */
	assert_true(xdp_path_take_conn_tag(path, &v4, &region));
	assert_int_equal(region, env->aws);
	assert_false(xdp_path_take_conn_tag(path, &v4, &region));
	assert_true(xdp_path_take_conn_tag(path, &v6, &region));
	assert_int_equal(region, env->gcp);
	assert_false(xdp_path_take_conn_tag(path, &other, &region));
	xdp_path_close(path);
}

static void test_keep_then_next_start_takes_over(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_SKB);
	struct xdp_pinned *pinned = NULL;
	struct ip_addr v4 = xdp_fixture_addr("127.0.0.1");
	struct xdp_path *path;
	uint32_t kept_id;
	char err[512] = "", expected[128];

	options.keep = true;
	path = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_non_null(path);
	kept_id = xdp_path_prog_id(path);
	xdp_path_close(path);
	assert_int_equal(lo_prog_id(), kept_id);
	snprintf(expected, sizeof(expected), "kept archeio_xdp (program id %u) attached to lo",
		 kept_id);
	assert_non_null(strstr(env->log, expected));
	assert_int_equal(xdp_pinned_open(env->pin_dir, &pinned, err, sizeof(err)), 0);
	assert_int_equal(xdp_pinned_lookup(pinned, &v4), env->aws);
	xdp_pinned_close(pinned);
	/* The next start with the same interface and pins takes the kept
	 * program over: a new program, new maps filled from the new data. */
	options.keep = false;
	xdp_fixture_clear_ranges(&env->data);
	xdp_fixture_range(&env->data, "127.0.0.0/8", env->gcp);
	env->log[0] = '\0';
	path = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_non_null(path);
	snprintf(expected, sizeof(expected),
		 "took over archeio_xdp (program id %u) left attached to lo", kept_id);
	assert_non_null(strstr(env->log, expected));
	assert_true(xdp_path_prog_id(path) != kept_id);
	assert_int_equal(lo_prog_id(), xdp_path_prog_id(path));
	assert_int_equal(xdp_path_lookup(path, &v4), env->gcp);
	assert_int_equal(xdp_pinned_open(env->pin_dir, &pinned, err, sizeof(err)), 0);
	assert_int_equal(xdp_pinned_lookup(pinned, &v4), env->gcp);
	xdp_pinned_close(pinned);
	xdp_path_close(path);
	assert_int_equal(lo_prog_id(), 0);
	assert_false(exists(env->pin_dir, "conn_tags"));
}

/* Loads `return XDP_PASS` under name and attaches it to lo in skb mode, as
 * another tool would; returns its id. */
static uint32_t attach_foreign(const char *name)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, 2, NULL);

	assert_true(fd >= 0);
	assert_int_equal(bpf_xdp_attach((int)if_nametoindex("lo"), fd, XDP_FLAGS_SKB_MODE, NULL),
			 0);
	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd); /* the interface holds it now */
	return info.id;
}

static void test_foreign_program_is_refused(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_SKB);
	struct xdp_path *path;
	uint32_t foreign;
	char err[512] = "";

	foreign = attach_foreign("foreign_pass");
	assert_null(xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err)));
	assert_non_null(strstr(err, "lo already has an XDP program that libxdp cannot share"));
	assert_non_null(strstr(err, "ip link set dev lo xdp off"));
	assert_int_equal(lo_prog_id(), foreign);
	assert_false(exists(env->pin_dir, "conn_tags"));
	bpf_xdp_detach((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, NULL);

	/* The name alone is not archeio's: without pins that describe it, a
	 * program called archeio_xdp is refused too. */
	foreign = attach_foreign("archeio_xdp");
	assert_null(xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err)));
	assert_non_null(strstr(err, "lo already has an XDP program"));
	assert_int_equal(lo_prog_id(), foreign);
	bpf_xdp_detach((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, NULL);

	/* Kept pins, but the program they name was replaced by another one
	 * that has the same name: refused, the pins stay. */
	options.keep = true;
	path = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_non_null(path);
	xdp_path_close(path);
	bpf_xdp_detach((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, NULL);
	foreign = attach_foreign("archeio_xdp");
	options.keep = false;
	assert_null(xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err)));
	assert_non_null(strstr(err, "lo already has an XDP program"));
	assert_int_equal(lo_prog_id(), foreign);
	assert_true(exists(env->pin_dir, "conn_tags"));
}

static void test_one_process_per_pin_directory(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_SKB);
	struct xdp_path *first, *second;
	uint32_t id;
	char err[512] = "";

	first = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_non_null(first);
	id = xdp_path_prog_id(first);
	/* A second server with the same --bpffs must not take over a live one. */
	second = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_null(second);
	assert_non_null(strstr(err, "another archeio is running with --bpffs"));
	assert_int_equal(lo_prog_id(), id);
	assert_true(exists(env->pin_dir, "conn_tags"));
	xdp_path_close(first);
	assert_int_equal(lo_prog_id(), 0);
}

/* xdp_detach_run() into a string. */
static int detach(const char *dir, const char *iface, char *text, size_t size, char *err,
		  size_t errlen)
{
	FILE *out = fmemopen(text, size, "w");
	int rc;

	assert_non_null(out);
	rc = xdp_detach_run(dir, iface, out, err, errlen);
	fclose(out);
	return rc;
}

static void test_detach(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->bpf);
	struct xdp_path_options options = options_for(env, "lo", XDP_PATH_MODE_SKB);
	struct xdp_path *path;
	uint32_t id;
	char err[512] = "", text[1024] = "", expected[128];

	/* Never under a live server: it holds its directory. */
	path = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_non_null(path);
	id = xdp_path_prog_id(path);
	assert_int_equal(detach(env->pin_dir, NULL, text, sizeof(text), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another archeio is running with --bpffs"));
	assert_int_equal(lo_prog_id(), id);
	assert_true(exists(env->pin_dir, "conn_tags"));
	xdp_path_close(path);

	/* A kept program and its pins. */
	options.keep = true;
	path = xdp_path_open(&options, &env->data.set, &env->data.regions, err, sizeof(err));
	assert_non_null(path);
	id = xdp_path_prog_id(path);
	xdp_path_close(path);
	assert_int_equal(detach(env->pin_dir, NULL, text, sizeof(text), err, sizeof(err)), 0);
	snprintf(expected, sizeof(expected), "detached archeio_xdp (program id %u) from lo\n", id);
	assert_non_null(strstr(text, expected));
	snprintf(expected, sizeof(expected), "removed 14 pins from %s (", env->pin_dir);
	assert_non_null(strstr(text, expected));
	assert_int_equal(lo_prog_id(), 0);
	assert_false(exists(env->pin_dir, ""));
	assert_int_equal(detach(env->pin_dir, NULL, text, sizeof(text), err, sizeof(err)), 0);
	assert_non_null(strstr(text, "nothing to remove: no archeio pins in"));

	/* With the interface named and no pins, a program called archeio_xdp
	 * goes (the operator named it); anything else stays. */
	id = attach_foreign("archeio_xdp");
	assert_int_equal(detach(env->pin_dir, "lo", text, sizeof(text), err, sizeof(err)), 0);
	snprintf(expected, sizeof(expected), "detached archeio_xdp (program id %u) from lo\n", id);
	assert_non_null(strstr(text, expected));
	assert_int_equal(lo_prog_id(), 0);
	id = attach_foreign("foreign_pass");
	assert_int_equal(detach(env->pin_dir, "lo", text, sizeof(text), err, sizeof(err)), 0);
	snprintf(expected, sizeof(expected),
		 "no archeio_xdp on lo (it runs foreign_pass, program id %u, not archeio's)", id);
	assert_non_null(strstr(text, expected));
	assert_int_equal(lo_prog_id(), id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_no_such_interface, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bpffs_dir_not_on_bpffs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_native_refused_without_auto, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_falls_back_pins_and_cleans_up, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_status_and_pinned_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pin_dir_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_real_connections_are_tagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keep_then_next_start_takes_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_program_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_process_per_pin_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
