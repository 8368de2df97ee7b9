/* The XDP program on crafted frames through BPF_PROG_TEST_RUN, and the
 * loader's maps: tagging, what is not tagged, VLANs, IPv4 options, truncated
 * frames, counters, and atomic reloads. Needs root (CAP_BPF). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "archeio/bpf_shared.h"
#include "xdp/xdp_obj.h"
#include "xdp/xdp_syn_limit.h"
#include "helpers/xdp_fixture.h"

#define XDP_DROP_CODE 1 /* enum xdp_action XDP_DROP */
#define XDP_PASS_CODE 2 /* enum xdp_action XDP_PASS */
#define PORT_HTTP 5000
#define PORT_OTHER 5001
#define FRAME_MAX 256

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct env {
	struct xdp_fixture_data data;
	uint32_t aws_east, gcp_west, azure_eu, aws_west;
	struct xdp_obj *obj;
};

/* What to put in a frame; zero fields take defaults in build_frame(). */
struct frame_spec {
	int vlans;	 /* 0..3 tags: the outer 802.1AD when two or more */
	uint8_t family;	 /* AF_INET or AF_INET6 */
	uint8_t ihl;	 /* IPv4 header length field in words: 0..4 are invalid */
	uint8_t version; /* IP version nibble override; from family when 0 */
	uint8_t l4;	 /* IPPROTO_TCP when 0 */
	uint8_t tcp_flags;
	uint16_t frag_off; /* host order, IPv4 flags+offset field */
	const char *src, *dst;
	uint16_t sport, dport;
};

struct frame {
	uint8_t bytes[FRAME_MAX];
	size_t len;
};

static void put16(uint8_t *at, uint16_t host)
{
	uint16_t net = htons(host);

	memcpy(at, &net, 2);
}

static size_t put_vlans(uint8_t *p, int vlans, uint16_t inner_proto)
{
	size_t off = 12;

	for (int i = 0; i < vlans; i++) {
		bool outer_of_two = vlans >= 2 && i == 0;

		put16(p + off, outer_of_two ? 0x88A8 : 0x8100);
		put16(p + off + 2, (uint16_t)(100 + i)); /* TCI: VLAN id */
		off += 4;
	}
	put16(p + off, inner_proto);
	return off + 2;
}

static size_t put_ipv4(uint8_t *p, const struct frame_spec *spec, uint8_t l4)
{
	uint8_t ihl = spec->ihl;
	size_t header_len = (size_t)(ihl < 5 ? 5 : ihl) * 4;
	struct ip_addr src = xdp_fixture_addr(spec->src);
	struct ip_addr dst = xdp_fixture_addr(spec->dst);

	p[0] = (uint8_t)(((spec->version ? spec->version : 4) << 4) | (ihl & 0x0F));
	put16(p + 2, (uint16_t)(header_len + 20));
	put16(p + 6, spec->frag_off);
	p[8] = 64;
	p[9] = l4;
	memcpy(p + 12, src.bytes, 4);
	memcpy(p + 16, dst.bytes, 4);
	for (size_t i = 20; i < header_len; i++)
		p[i] = 1; /* NOP options */
	return header_len;
}

static size_t put_ipv6(uint8_t *p, const struct frame_spec *spec, uint8_t l4)
{
	struct ip_addr src = xdp_fixture_addr(spec->src);
	struct ip_addr dst = xdp_fixture_addr(spec->dst);

	p[0] = (uint8_t)((spec->version ? spec->version : 6) << 4);
	put16(p + 4, 20);
	p[6] = l4;
	p[7] = 64;
	memcpy(p + 8, src.bytes, 16);
	memcpy(p + 24, dst.bytes, 16);
	return 40;
}

static struct frame build_frame(const struct frame_spec *spec)
{
	struct frame frame;
	uint8_t l4 = spec->l4 ? spec->l4 : IPPROTO_TCP;
	bool v4 = spec->family == AF_INET;
	uint8_t *p = frame.bytes;
	size_t off;

	memset(&frame, 0, sizeof(frame));
	memset(p, 0x02, 6);	/* destination MAC */
	memset(p + 6, 0x04, 6); /* source MAC */
	off = put_vlans(p, spec->vlans, v4 ? 0x0800 : 0x86DD);
	off += v4 ? put_ipv4(p + off, spec, l4) : put_ipv6(p + off, spec, l4);
	put16(p + off, spec->sport);
	put16(p + off + 2, spec->dport);
	if (l4 == IPPROTO_TCP) {
		p[off + 12] = 5 << 4; /* data offset */
		p[off + 13] = spec->tcp_flags;
		put16(p + off + 14, 64240);
		off += 20;
	} else {
		put16(p + off + 4, 8);
		off += 8;
	}
	frame.len = off;
	return frame;
}

static struct frame_spec syn4(const char *src)
{
	return (struct frame_spec){.family = AF_INET,
				   .ihl = 5,
				   .tcp_flags = TCP_SYN,
				   .src = src,
				   .dst = "203.0.113.10",
				   .sport = 40000,
				   .dport = PORT_HTTP};
}

static struct frame_spec syn6(const char *src)
{
	return (struct frame_spec){.family = AF_INET6,
				   .tcp_flags = TCP_SYN,
				   .src = src,
				   .dst = "2001:db8:ffff::10",
				   .sport = 40001,
				   .dport = PORT_HTTP};
}

static struct conn_tuple tuple_of(const struct frame_spec *spec)
{
	struct conn_tuple tuple = {.peer = xdp_fixture_addr(spec->src),
				   .local = xdp_fixture_addr(spec->dst),
				   .peer_port = spec->sport,
				   .local_port = spec->dport};

	return tuple;
}

/* Runs the program once; asserts XDP_PASS and that the frame came out
 * byte-for-byte unchanged. */
static void run_pass_unchanged(struct xdp_obj *obj, const uint8_t *bytes, size_t len)
{
	uint8_t out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = bytes, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int rc = bpf_prog_test_run_opts(xdp_obj_prog_fd(obj), &opts);

	if (rc != 0 && len < 14) {
		/* The kernel's test harness refuses frames shorter than an
		 * Ethernet header, so those cannot reach the program here. */
		assert_int_equal(errno, EINVAL);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(opts.retval, XDP_PASS_CODE);
	assert_int_equal(opts.data_size_out, len);
	assert_memory_equal(out, bytes, len);
}

static void run_frame(struct xdp_obj *obj, const struct frame_spec *spec)
{
	struct frame frame = build_frame(spec);

	run_pass_unchanged(obj, frame.bytes, frame.len);
}

static uint64_t counter(struct xdp_obj *obj, uint32_t index)
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t values[1024] = {0}, sum = 0;

	assert_true(cpus > 0 && cpus <= 1024);
	assert_int_equal(bpf_map_lookup_elem(xdp_obj_map_fd(obj, "counters"), &index, values), 0);
	for (int i = 0; i < cpus; i++)
		sum += values[i];
	return sum;
}

static void assert_tag(struct xdp_obj *obj, const struct frame_spec *spec, uint32_t expected)
{
	struct conn_tuple tuple = tuple_of(spec);
	uint32_t region = 0xFFFFFFFF;

	assert_true(xdp_obj_take_conn_tag(obj, &tuple, &region));
	assert_int_equal(region, expected);
	/* Taken means gone. */
	assert_false(xdp_obj_take_conn_tag(obj, &tuple, &region));
}

static void assert_no_tag(struct xdp_obj *obj, const struct frame_spec *spec)
{
	struct conn_tuple tuple = tuple_of(spec);
	uint32_t region;

	assert_false(xdp_obj_take_conn_tag(obj, &tuple, &region));
}

static void add_standard_ranges(struct env *env)
{
	struct xdp_fixture_data *d = &env->data;

	xdp_fixture_range(d, "192.0.2.0/24", env->aws_east);
	xdp_fixture_range(d, "198.51.100.0/24", env->gcp_west);
	xdp_fixture_range(d, "198.51.100.128/25", env->azure_eu);
	xdp_fixture_range(d, "2001:db8::/32", env->aws_east);
	xdp_fixture_range(d, "2001:db8:1::/48", env->gcp_west);
}

static int setup(void **state)
{
	static const uint16_t ports[] = {PORT_HTTP, 443};
	struct env *env = calloc(1, sizeof(*env));
	char err[512];

	if (!env)
		return -1;
	xdp_fixture_init(&env->data);
	env->aws_east = xdp_fixture_region(&env->data, "aws", "us-east-1");
	env->gcp_west = xdp_fixture_region(&env->data, "gcp", "europe-west1");
	env->azure_eu = xdp_fixture_region(&env->data, "azure", "westeurope");
	env->aws_west = xdp_fixture_region(&env->data, "aws", "us-west-2");
	add_standard_ranges(env);
	*state = env;
	env->obj = xdp_obj_open(&env->data.set, &env->data.regions, 2, 0, err, sizeof(err));
	if (!env->obj || xdp_fixture_load(env->obj, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_xdp_prog: cannot load the XDP program: %s\n", err);
		xdp_obj_close(env->obj);
		env->obj = NULL;
		return xdp_fixture_bpf_required() ? -1 : 0;
	}
	if (xdp_obj_fill(env->obj, ports, 2, &env->data.set, &env->data.regions, err,
			 sizeof(err)) != 0) {
		fprintf(stderr, "test_xdp_prog: cannot fill the maps: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;

	xdp_obj_close(env->obj);
	free(env);
	return 0;
}

static void test_ipv4_syn_tags_region(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec east = syn4("192.0.2.77");
	struct frame_spec gcp = syn4("198.51.100.5");
	struct frame_spec azure = syn4("198.51.100.200"); /* inside the longer /25 */

	run_frame(env->obj, &east);
	run_frame(env->obj, &gcp);
	run_frame(env->obj, &azure);
	assert_tag(env->obj, &east, env->aws_east);
	assert_tag(env->obj, &gcp, env->gcp_west);
	assert_tag(env->obj, &azure, env->azure_eu);
}

static void test_ipv6_syn_tags_region(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec east = syn6("2001:db8:2::1");
	struct frame_spec gcp = syn6("2001:db8:1:5::9");

	run_frame(env->obj, &east);
	run_frame(env->obj, &gcp);
	assert_tag(env->obj, &east, env->aws_east);
	assert_tag(env->obj, &gcp, env->gcp_west);
}

static void test_tag_is_per_connection(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec first = syn4("192.0.2.77");
	struct frame_spec other_port = first;

	other_port.sport = 40002;
	run_frame(env->obj, &first);
	assert_no_tag(env->obj, &other_port);
	assert_tag(env->obj, &first, env->aws_east);
}

static void test_not_a_new_connection_is_not_tagged(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	const uint8_t flags[] = {TCP_SYN | TCP_ACK, TCP_ACK, 0,
				 TCP_FIN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK};

	for (size_t i = 0; i < sizeof(flags); i++) {
		struct frame_spec v4 = syn4("192.0.2.77");
		struct frame_spec v6 = syn6("2001:db8:2::1");

		v4.tcp_flags = flags[i];
		v6.tcp_flags = flags[i];
		run_frame(env->obj, &v4);
		run_frame(env->obj, &v6);
		assert_no_tag(env->obj, &v4);
		assert_no_tag(env->obj, &v6);
	}
	assert_int_equal(counter(env->obj, COUNTER_SYNS), 0);
}

static void test_udp_and_other_ports_are_not_tagged(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec udp4 = syn4("192.0.2.77");
	struct frame_spec udp6 = syn6("2001:db8:2::1");
	struct frame_spec port4 = syn4("192.0.2.77");
	struct frame_spec port6 = syn6("2001:db8:2::1");

	udp4.l4 = IPPROTO_UDP;
	udp6.l4 = IPPROTO_UDP;
	port4.dport = PORT_OTHER;
	port6.dport = PORT_OTHER;
	run_frame(env->obj, &udp4);
	run_frame(env->obj, &udp6);
	run_frame(env->obj, &port4);
	run_frame(env->obj, &port6);
	assert_no_tag(env->obj, &udp4);
	assert_no_tag(env->obj, &udp6);
	assert_no_tag(env->obj, &port4);
	assert_no_tag(env->obj, &port6);
	assert_int_equal(counter(env->obj, COUNTER_SYNS), 0);
	assert_int_equal(counter(env->obj, COUNTER_PACKETS), 4);
}

static void test_second_listening_port_is_tagged(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec https = syn4("192.0.2.77");

	https.dport = 443;
	run_frame(env->obj, &https);
	assert_tag(env->obj, &https, env->aws_east);
}

static void test_unlisted_source_is_counted_not_tagged(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec v4 = syn4("203.0.113.99");
	struct frame_spec v6 = syn6("2001:db9::1");

	run_frame(env->obj, &v4);
	run_frame(env->obj, &v6);
	assert_no_tag(env->obj, &v4);
	assert_no_tag(env->obj, &v6);
	assert_int_equal(counter(env->obj, COUNTER_SYNS), 2);
	assert_int_equal(counter(env->obj, COUNTER_UNTAGGED), 2);
	assert_int_equal(counter(env->obj, COUNTER_TAGGED), 0);
}

static void test_vlan_and_qinq(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);

	for (int vlans = 1; vlans <= 2; vlans++) {
		struct frame_spec v4 = syn4("192.0.2.77");
		struct frame_spec v6 = syn6("2001:db8:1::5");

		v4.vlans = vlans;
		v6.vlans = vlans;
		run_frame(env->obj, &v4);
		run_frame(env->obj, &v6);
		assert_tag(env->obj, &v4, env->aws_east);
		assert_tag(env->obj, &v6, env->gcp_west);
	}
}

static void test_three_vlan_tags_pass_untagged(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec v4 = syn4("192.0.2.77");

	v4.vlans = 3; /* beyond what the program parses: passes, not tagged */
	run_frame(env->obj, &v4);
	assert_no_tag(env->obj, &v4);
}

static void test_ipv4_options_any_ihl(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);

	for (uint8_t ihl = 5; ihl <= 15; ihl++) {
		struct frame_spec v4 = syn4("198.51.100.200");

		v4.ihl = ihl;
		v4.vlans = ihl % 3;
		run_frame(env->obj, &v4);
		assert_tag(env->obj, &v4, env->azure_eu);
	}
}

static void test_malformed_ip_headers_pass_untagged(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		struct frame_spec v4 = syn4("192.0.2.77");

		v4.ihl = ihl;
		run_frame(env->obj, &v4);
		assert_no_tag(env->obj, &v4);
	}
	struct frame_spec fragment = syn4("192.0.2.77");
	struct frame_spec bad_v4 = syn4("192.0.2.77");
	struct frame_spec bad_v6 = syn6("2001:db8:1::5");

	fragment.frag_off = 0x2000 | 185; /* MF, non-zero offset: no TCP header */
	bad_v4.version = 6;
	bad_v6.version = 4;
	run_frame(env->obj, &fragment);
	run_frame(env->obj, &bad_v4);
	run_frame(env->obj, &bad_v6);
	assert_no_tag(env->obj, &fragment);
	assert_no_tag(env->obj, &bad_v4);
	assert_no_tag(env->obj, &bad_v6);
}

static void truncations_pass_untouched(struct env *env, const struct frame_spec *spec)
{
	struct frame frame = build_frame(spec);

	for (size_t len = 0; len < frame.len; len++) {
		run_pass_unchanged(env->obj, frame.bytes, len);
		assert_no_tag(env->obj, spec);
	}
	assert_int_equal(counter(env->obj, COUNTER_TAGGED), 0);
	/* The complete frame does tag: the truncations failed for their length only. */
	run_pass_unchanged(env->obj, frame.bytes, frame.len);
	assert_tag(env->obj, spec, env->aws_east);
}

static void test_truncated_frames_pass_untouched(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec specs[] = {syn4("192.0.2.77"), syn6("2001:db8:2::1"), syn4("192.0.2.78"),
				     syn6("2001:db8:2::2"), syn4("192.0.2.79")};

	specs[2].vlans = 1;
	specs[3].vlans = 2;
	specs[4].ihl = 15;
	specs[4].vlans = 2;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		truncations_pass_untouched(env, &specs[i]);
		/* Reset so the next spec's "no tag while truncated" check starts at 0. */
		uint32_t index = COUNTER_TAGGED;
		int cpus = libbpf_num_possible_cpus();
		uint64_t zeros[1024] = {0};

		assert_true(cpus > 0 && cpus <= 1024);
		assert_int_equal(bpf_map_update_elem(xdp_obj_map_fd(env->obj, "counters"), &index,
						     zeros, BPF_ANY),
				 0);
	}
}

static void test_counters(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec east = syn4("192.0.2.77");
	struct frame_spec gcp = syn6("2001:db8:1::5");
	struct frame_spec azure = syn4("198.51.100.200");
	struct frame_spec unlisted = syn4("203.0.113.99");
	struct frame_spec ack = syn4("192.0.2.77");
	struct cloud_name name;
	uint32_t slot;

	ack.tcp_flags = TCP_ACK;
	run_frame(env->obj, &east);
	run_frame(env->obj, &gcp);
	run_frame(env->obj, &azure);
	run_frame(env->obj, &azure);
	run_frame(env->obj, &unlisted);
	run_frame(env->obj, &ack);
	assert_int_equal(counter(env->obj, COUNTER_PACKETS), 6);
	assert_int_equal(counter(env->obj, COUNTER_SYNS), 5);
	assert_int_equal(counter(env->obj, COUNTER_TAGGED), 4);
	assert_int_equal(counter(env->obj, COUNTER_UNTAGGED), 1);
	assert_int_equal(counter(env->obj, COUNTER_TAG_ERRORS), 0);
	/* Clouds take slots in order of first region id: aws, gcp, azure. */
	assert_int_equal(counter(env->obj, COUNTER_CLOUD_BASE + 0), 1);
	assert_int_equal(counter(env->obj, COUNTER_CLOUD_BASE + 1), 1);
	assert_int_equal(counter(env->obj, COUNTER_CLOUD_BASE + 2), 2);
	slot = 2;
	assert_int_equal(bpf_map_lookup_elem(xdp_obj_map_fd(env->obj, "clouds"), &slot, &name), 0);
	assert_string_equal(name.name, "azure");
}

static void test_regions_map_has_names(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct region_name name;
	uint32_t id = env->gcp_west;

	assert_int_equal(bpf_map_lookup_elem(xdp_obj_map_fd(env->obj, "regions"), &id, &name), 0);
	assert_string_equal(name.cloud, "gcp");
	assert_string_equal(name.region, "europe-west1");
}

static void test_userspace_lookup(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct ip_addr a = xdp_fixture_addr("198.51.100.129");
	struct ip_addr b = xdp_fixture_addr("2001:db8:1::1");
	struct ip_addr c = xdp_fixture_addr("10.0.0.1");

	assert_int_equal(xdp_obj_lookup(env->obj, &a), env->azure_eu);
	assert_int_equal(xdp_obj_lookup(env->obj, &b), env->gcp_west);
	assert_int_equal(xdp_obj_lookup(env->obj, &c), REGION_NONE);
}

static void test_reload_replaces_the_set(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct ip_addr old_addr = xdp_fixture_addr("192.0.2.77");
	struct ip_addr new_addr = xdp_fixture_addr("100.64.1.1");
	struct frame_spec old_syn = syn4("192.0.2.77");
	struct frame_spec new_syn = syn4("100.64.1.1");
	uint32_t new_region;
	char err[256];

	new_region = xdp_fixture_region(&env->data, "oracle", "eu-frankfurt-1");
	xdp_fixture_clear_ranges(&env->data);
	xdp_fixture_range(&env->data, "100.64.0.0/10", new_region);
	assert_int_equal(
	    xdp_obj_reload(env->obj, &env->data.set, &env->data.regions, err, sizeof(err)), 0);
	assert_int_equal(xdp_obj_lookup(env->obj, &old_addr), REGION_NONE);
	assert_int_equal(xdp_obj_lookup(env->obj, &new_addr), new_region);
	run_frame(env->obj, &old_syn);
	run_frame(env->obj, &new_syn);
	assert_no_tag(env->obj, &old_syn);
	assert_tag(env->obj, &new_syn, new_region);
}

/* The per-CPU cache of trie answers (lpm_cache in bpf/archeio.bpf.c) lives
 * on the CPU that runs the program; BPF_PROG_TEST_RUN runs it on the caller's,
 * so these tests stay on one CPU to be sure the second frame of a source is
 * answered from the cache. */
static cpu_set_t pin_to_this_cpu(void)
{
	cpu_set_t before, one;

	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	return before;
}

static void tag_twice(struct env *env, struct frame_spec spec, uint32_t expected)
{
	for (int i = 0; i < 2; i++) {
		spec.sport = (uint16_t)(spec.sport + i);
		run_frame(env->obj, &spec);
		if (expected == REGION_NONE)
			assert_no_tag(env->obj, &spec);
		else
			assert_tag(env->obj, &spec, expected);
	}
}

static void test_reload_invalidates_cached_answers(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	cpu_set_t before = pin_to_this_cpu();
	char err[256];

	tag_twice(env, syn4("192.0.2.77"), env->aws_east);
	tag_twice(env, syn4("100.64.1.1"), REGION_NONE);
	tag_twice(env, syn6("2001:db8::5"), env->aws_east);
	xdp_fixture_clear_ranges(&env->data);
	xdp_fixture_range(&env->data, "192.0.2.0/24", env->aws_west);
	xdp_fixture_range(&env->data, "100.64.0.0/10", env->gcp_west);
	xdp_fixture_range(&env->data, "2001:db8::/32", env->azure_eu);
	assert_int_equal(
	    xdp_obj_reload(env->obj, &env->data.set, &env->data.regions, err, sizeof(err)), 0);
	/* The same sources, answered before the reload: the new ranges' answers. */
	tag_twice(env, syn4("192.0.2.77"), env->aws_west);
	tag_twice(env, syn4("100.64.1.1"), env->gcp_west);
	tag_twice(env, syn6("2001:db8::5"), env->azure_eu);
	assert_int_equal(sched_setaffinity(0, sizeof(before), &before), 0);
}

/* Sources sharing a cache slot, and an IPv4 and an IPv6 address with the
 * same bytes (192.0.2.77 and c000:24d::), each get their own range. */
static void test_cache_keeps_sources_apart(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	cpu_set_t before = pin_to_this_cpu();
	char addr[64];

	tag_twice(env, syn4("192.0.2.77"), env->aws_east);
	tag_twice(env, syn6("c000:24d::"), REGION_NONE);
	tag_twice(env, syn4("192.0.2.77"), env->aws_east);
	/* 2 x 250 sources through 256 slots, twice over: many share a slot. */
	for (int round = 0; round < 2; round++)
		for (int i = 1; i <= 250; i++) {
			snprintf(addr, sizeof(addr), "192.0.2.%d", i);
			tag_twice(env, syn4(addr), env->aws_east);
			snprintf(addr, sizeof(addr), "198.51.100.%d", i);
			tag_twice(env, syn4(addr), i < 128 ? env->gcp_west : env->azure_eu);
		}
	assert_int_equal(sched_setaffinity(0, sizeof(before), &before), 0);
}

static void test_reload_rejects_bad_region_id_and_keeps_old_set(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct ip_addr addr = xdp_fixture_addr("192.0.2.77");
	char err[256] = "";

	xdp_fixture_clear_ranges(&env->data);
	xdp_fixture_range(&env->data, "100.64.0.0/10", 999);
	assert_int_equal(
	    xdp_obj_reload(env->obj, &env->data.set, &env->data.regions, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "999"));
	assert_int_equal(xdp_obj_lookup(env->obj, &addr), env->aws_east);
}

/* Two sets that a non-atomic, in-place update would mix: for the probe, set A
 * answers aws_east, set B answers azure_eu; half-way states answer gcp_west
 * (B's /8 without B's /16) or nothing. */
struct flipper {
	struct env *env;
	struct xdp_fixture_data a, b;
	int rounds;
	int failures;
	int lookups_started; /* the reloads start once lookups are running */
};

static void *flip_sets(void *arg)
{
	struct flipper *f = arg;
	char err[256];

	for (long spin = 0;
	     spin < 100000000 && !__atomic_load_n(&f->lookups_started, __ATOMIC_SEQ_CST); spin++)
		sched_yield();
	for (int i = 0; i < f->rounds; i++) {
		struct xdp_fixture_data *d = i % 2 ? &f->a : &f->b;

		if (xdp_obj_reload(f->env->obj, &d->set, &d->regions, err, sizeof(err)) != 0)
			__atomic_add_fetch(&f->failures, 1, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&f->rounds, -1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_reload_is_atomic_for_lookups(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct flipper f = {.env = env, .rounds = 200};
	struct ip_addr probe = xdp_fixture_addr("10.1.2.3");
	struct frame_spec syn = syn4("10.1.2.3");
	pthread_t thread;
	long seen_a = 0, seen_b = 0;
	uint32_t mixed_lookup = UINT32_MAX, mixed_tag = UINT32_MAX;

	f.a = env->data;
	f.b = env->data;
	xdp_fixture_init(&f.a);
	xdp_fixture_init(&f.b);
	/* Same table for both (ids are stable across reloads). */
	memcpy(f.a.names, env->data.names, sizeof(f.a.names));
	memcpy(f.b.names, env->data.names, sizeof(f.b.names));
	f.a.regions.count = f.b.regions.count = env->data.regions.count;
	xdp_fixture_range(&f.a, "10.0.0.0/8", env->aws_east);
	xdp_fixture_range(&f.b, "10.0.0.0/8", env->gcp_west);
	xdp_fixture_range(&f.b, "10.1.0.0/16", env->azure_eu);
	assert_int_equal(xdp_obj_reload(env->obj, &f.a.set, &f.a.regions, (char[64]){0}, 64), 0);

	assert_int_equal(pthread_create(&thread, NULL, flip_sets, &f), 0);
	/* Failures are recorded, not asserted, until the reloading thread is
	 * joined: it must not outlive the maps. */
	for (long i = 0; i < 2000000 && __atomic_load_n(&f.rounds, __ATOMIC_SEQ_CST) != -1; i++) {
		uint32_t region = xdp_obj_lookup(env->obj, &probe);
		struct conn_tuple tuple = tuple_of(&syn);

		if (region != env->aws_east && region != env->azure_eu) {
			mixed_lookup = region;
			break;
		}
		seen_a += region == env->aws_east;
		seen_b += region == env->azure_eu;
		__atomic_store_n(&f.lookups_started, 1, __ATOMIC_SEQ_CST);
		run_frame(env->obj, &syn);
		if (!xdp_obj_take_conn_tag(env->obj, &tuple, &region))
			region = REGION_NONE;
		if (region != env->aws_east && region != env->azure_eu) {
			mixed_tag = region;
			break;
		}
	}
	pthread_join(thread, NULL);
	if (mixed_lookup != UINT32_MAX)
		fail_msg("userspace lookup saw a mixed set: region %u", mixed_lookup);
	if (mixed_tag != UINT32_MAX)
		fail_msg("XDP saw a mixed set: region %u", mixed_tag);
	assert_int_equal(f.failures, 0);
	assert_true(seen_a + seen_b > 0);
}

/* ---- the SYN limit (--xdp-syn-limit) ---- */

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define T0 (1000 * NS_PER_S) /* the fixed clock's start */

/* The program's verdict on one frame (PASS frames come out unchanged). */
static int verdict(struct xdp_obj *obj, const struct frame_spec *spec)
{
	struct frame frame = build_frame(spec);
	uint8_t out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.bytes,
		    .data_size_in = (uint32_t)frame.len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(xdp_obj_prog_fd(obj), &opts), 0);
	if (opts.retval == XDP_PASS_CODE)
		assert_memory_equal(out, frame.bytes, frame.len);
	return (int)opts.retval;
}

/* How many of n copies of spec pass. */
static unsigned passed(struct xdp_obj *obj, const struct frame_spec *spec, unsigned n)
{
	unsigned count = 0;

	for (unsigned i = 0; i < n; i++) {
		int v = verdict(obj, spec);

		assert_true(v == XDP_PASS_CODE || v == XDP_DROP_CODE);
		count += v == XDP_PASS_CODE;
	}
	return count;
}

static void set_limit(struct env *env, uint32_t rate, uint32_t burst, uint64_t now)
{
	char err[256];

	assert_int_equal(xdp_syn_limit_set(env->obj, rate, burst, now, err, sizeof(err)), 0);
}

static void test_syn_limit_off_passes_everything(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec east = syn4("192.0.2.77");

	assert_int_equal(passed(env->obj, &east, 300), 300);
	assert_int_equal(counter(env->obj, COUNTER_SYN_DROPS), 0);
	/* configured, then turned off again: everything passes again */
	set_limit(env, 1, 1, T0);
	assert_int_equal(passed(env->obj, &east, 3), 1);
	set_limit(env, 0, 1, T0);
	assert_int_equal(passed(env->obj, &east, 300), 300);
}

static void test_syn_limit_cuts_burst_and_refills(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec east = syn4("192.0.2.77");

	set_limit(env, 10, 5, T0);
	assert_int_equal(passed(env->obj, &east, 20), 5);
	assert_int_equal(counter(env->obj, COUNTER_SYN_DROPS), 15);
	/* counted by cloud: aws is slot 0 */
	assert_int_equal(counter(env->obj, COUNTER_DROP_CLOUD_BASE + 0), 15);
	assert_int_equal(counter(env->obj, COUNTER_DROP_CLOUD_BASE + 1), 0);
	/* dropped SYNs are not tagged, passing ones are */
	assert_int_equal(counter(env->obj, COUNTER_TAGGED), 5);
	/* 10/s: one more every 100 ms */
	set_limit(env, 10, 5, T0 + 99 * NS_PER_MS);
	assert_int_equal(passed(env->obj, &east, 3), 0);
	set_limit(env, 10, 5, T0 + 100 * NS_PER_MS);
	assert_int_equal(passed(env->obj, &east, 3), 1);
	set_limit(env, 10, 5, T0 + 60 * NS_PER_S);
	assert_int_equal(passed(env->obj, &east, 20), 5);
}

static void test_syn_limit_real_clock(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec east = syn4("192.0.2.77");
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 250 * 1000000L};

	set_limit(env, 4, 2, 0); /* bpf_ktime_get_ns() */
	assert_int_equal(passed(env->obj, &east, 10), 2);
	nanosleep(&pause, NULL); /* 4/s: one token per 250 ms */
	/* two only if this machine slept 500 ms instead of 250 */
	assert_in_range(passed(env->obj, &east, 10), 1, 2);
}

static void test_syn_limit_leaves_others_alone(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec limited = syn4("192.0.2.77");
	struct frame_spec other = syn4("192.0.2.78");
	struct frame_spec ack = syn4("192.0.2.77");
	struct frame_spec other_port = syn4("192.0.2.77");
	struct frame_spec udp = syn4("192.0.2.77");
	struct frame_spec v6 = syn6("2001:db8:5:6::1");
	struct frame_spec v6_same64 = syn6("2001:db8:5:6:ffff::2");
	struct frame_spec v6_next64 = syn6("2001:db8:5:7::1");
	char err[256];
	struct ip_prefix exempt;

	ack.tcp_flags = TCP_ACK;
	other_port.dport = PORT_OTHER;
	udp.l4 = IPPROTO_UDP;
	set_limit(env, 1, 3, T0);
	assert_int_equal(passed(env->obj, &limited, 10), 3);
	assert_int_equal(passed(env->obj, &other, 10), 3);
	/* the limited source's other packets: untouched */
	run_frame(env->obj, &ack);
	run_frame(env->obj, &other_port);
	run_frame(env->obj, &udp);
	/* IPv6 sources by /64 */
	assert_int_equal(passed(env->obj, &v6, 10), 3);
	assert_int_equal(passed(env->obj, &v6_same64, 10), 0);
	assert_int_equal(passed(env->obj, &v6_next64, 10), 3);
	/* exempt CIDRs: never limited, from the next SYN on */
	assert_true(ip_prefix_parse("192.0.2.64/26", true, &exempt));
	assert_int_equal(xdp_syn_limit_exempt(env->obj, &exempt, 1, err, sizeof(err)), 0);
	assert_int_equal(passed(env->obj, &limited, 50), 50);
	assert_int_equal(passed(env->obj, &other, 50), 50);
	assert_true(ip_prefix_parse("2001:db8:5::/48", true, &exempt));
	assert_int_equal(xdp_syn_limit_exempt(env->obj, &exempt, 1, err, sizeof(err)), 0);
	assert_int_equal(passed(env->obj, &v6_same64, 50), 50);
}

static uint32_t map_entries(int fd)
{
	struct syn_limit_key key, next;
	uint32_t n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0 && n < 10 * ARCHEIO_SYN_BUCKETS) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* A flood of 2 x the map's size in distinct sources: the first SYN of each
 * passes (nothing fails closed), the map stays at its size (the oldest go),
 * and a source seen last still has its bucket. */
static void test_syn_limit_flood_stays_bounded(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec spec = syn4("10.0.0.1");
	struct frame frame = build_frame(&spec);
	/* the source address is at 14 + 12 in this frame */
	uint8_t *src = frame.bytes + 26;
	uint32_t flood = 2 * ARCHEIO_SYN_BUCKETS, dropped = 0;

	set_limit(env, 1, 1, T0);
	for (uint32_t i = 0; i < flood; i++) {
		uint32_t addr = htonl(0x0A000000u | i);
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.bytes,
			    .data_size_in = (uint32_t)frame.len, .repeat = 1);

		memcpy(src, &addr, 4);
		assert_int_equal(bpf_prog_test_run_opts(xdp_obj_prog_fd(env->obj), &opts), 0);
		dropped += opts.retval != XDP_PASS_CODE;
	}
	assert_int_equal(dropped, 0);
	assert_true(map_entries(xdp_obj_map_fd(env->obj, "syn_buckets")) <= ARCHEIO_SYN_BUCKETS);
	/* the last source sent its one SYN of the burst: the next is over */
	assert_int_equal(verdict(env->obj, &(struct frame_spec){.family = AF_INET,
								.ihl = 5,
								.tcp_flags = TCP_SYN,
								.src = "10.1.255.255",
								.dst = "203.0.113.10",
								.sport = 40000,
								.dport = PORT_HTTP}),
			 XDP_DROP_CODE);
}

/* Per-SYN cost, limiter off and on (a source within its limit, the common
 * case): BPF_PROG_TEST_RUN's average over many runs. Printed, not asserted:
 * the numbers are for docs/xdp.md. */
static void test_syn_limit_cost(void **state)
{
	struct env *env = *state;
	xdp_fixture_need_bpf(env->obj != NULL);
	struct frame_spec east = syn4("192.0.2.77");
	struct frame frame = build_frame(&east);
	uint32_t ns[2];

	for (int on = 0; on < 2; on++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.bytes,
			    .data_size_in = (uint32_t)frame.len, .repeat = 200000);

		set_limit(env, on ? 1000000 : 0, 1000000, 0);
		assert_int_equal(bpf_prog_test_run_opts(xdp_obj_prog_fd(env->obj), &opts), 0);
		assert_int_equal(opts.retval, XDP_PASS_CODE);
		ns[on] = opts.duration;
	}
	printf("per-SYN cost (BPF_PROG_TEST_RUN, tagged SYN): limiter off %u ns, on %u ns\n", ns[0],
	       ns[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ipv4_syn_tags_region, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6_syn_tags_region, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tag_is_per_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_new_connection_is_not_tagged, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_udp_and_other_ports_are_not_tagged, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_second_listening_port_is_tagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unlisted_source_is_counted_not_tagged, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_vlan_and_qinq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_three_vlan_tags_pass_untagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv4_options_any_ihl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_ip_headers_pass_untagged, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_frames_pass_untouched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_regions_map_has_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_userspace_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_replaces_the_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_invalidates_cached_answers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cache_keeps_sources_apart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_rejects_bad_region_id_and_keeps_old_set,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_is_atomic_for_lookups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_limit_off_passes_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_limit_cuts_burst_and_refills, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_limit_real_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_limit_leaves_others_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_limit_flood_stays_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_limit_cost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
