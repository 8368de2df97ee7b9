/* The BPF tries, filled from the real provider files, answer exactly as the
 * userspace range table does: at both ends of every prefix, just outside them, and at
 * pseudo-random addresses; through userspace map lookups and through the XDP
 * program itself on SYN frames. Then again after a reload with one provider
 * removed. Needs root (CAP_BPF). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "archeio/geo/range_table.h"
#include "xdp/xdp_obj.h"
#include "helpers/xdp_fixture.h"

#define SHARED_DATA "../shared/data"
#define RANDOM_ADDRESSES 20000
#define FRAME_SAMPLES 2000
#define PORT 443

struct fixture {
	struct range_set set;
	struct region_table regions;
	struct range_table *table;
	struct xdp_obj *obj;
	char err[512];
};

static void load(struct fixture *f, const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", SHARED_DATA, file);
	if (ranges_load_path(&f->set, &f->regions, path, f->err, sizeof(f->err)) != 0)
		fail_msg("%s", f->err);
}

static int setup(void **state)
{
	static const uint16_t port = PORT;
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	range_set_init(&f->set);
	region_table_init(&f->regions);
	load(f, "aws-ip-ranges.json");
	load(f, "gcp-cloud.json");
	load(f, "azure-service-tags.json");
	if (ranges_finish(&f->set) != 0)
		return -1;
	f->table = range_table_build(&f->set);
	if (!f->table)
		return -1;
	f->obj = xdp_obj_open(&f->set, &f->regions, 1, 0, f->err, sizeof(f->err));
	if (!f->obj || xdp_fixture_load(f->obj, f->err, sizeof(f->err)) != 0) {
		fprintf(stderr, "test_xdp_ranges: %s\n", f->err);
		xdp_obj_close(f->obj);
		f->obj = NULL;
		return xdp_fixture_bpf_required() ? -1 : 0;
	}
	if (xdp_obj_fill(f->obj, &port, 1, &f->set, &f->regions, f->err, sizeof(f->err)) != 0) {
		fprintf(stderr, "test_xdp_ranges: %s\n", f->err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xdp_obj_close(f->obj);
	range_table_free(f->table);
	range_set_free(&f->set);
	region_table_free(&f->regions);
	free(f);
	return 0;
}

static void check(struct fixture *f, const struct ip_addr *addr)
{
	uint32_t want = range_table_lookup(f->table, addr), got = xdp_obj_lookup(f->obj, addr);

	if (want != got) {
		char text[64];

		inet_ntop(addr->family, addr->bytes, text, sizeof(text));
		fail_msg("%s: range table says region %u, BPF trie %u", text, want, got);
	}
}

/* addr + delta on the address as a big-endian integer (wrapping). */
static struct ip_addr offset(const struct ip_addr *addr, int delta)
{
	struct ip_addr out = *addr;
	int len = addr->family == AF_INET ? 4 : 16;
	int carry = delta;

	for (int i = len - 1; i >= 0 && carry != 0; i--) {
		int sum = out.bytes[i] + carry;

		out.bytes[i] = (uint8_t)(sum & 0xFF);
		carry = sum < 0 ? -1 : sum >> 8;
	}
	return out;
}

static struct ip_addr last_address(const struct ip_prefix *prefix)
{
	struct ip_addr out = prefix->addr;
	int bits = prefix->addr.family == AF_INET ? 32 : 128;

	for (int bit = prefix->len; bit < bits; bit++)
		out.bytes[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	return out;
}

static void check_every_prefix_edge(struct fixture *f)
{
	for (size_t i = 0; i < f->set.count; i++) {
		const struct ip_prefix *prefix = &f->set.entries[i].prefix;
		struct ip_addr last = last_address(prefix);

		check(f, &prefix->addr);
		check(f, &last);
		struct ip_addr before = offset(&prefix->addr, -1), after = offset(&last, 1);

		check(f, &before);
		check(f, &after);
	}
}

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1Dull;
}

static struct ip_addr random_near_prefix(struct fixture *f, uint64_t *rng)
{
	const struct ip_prefix *prefix = &f->set.entries[next_random(rng) % f->set.count].prefix;
	struct ip_addr addr = prefix->addr;
	int len = addr.family == AF_INET ? 4 : 16;

	/* Random host bits below a real prefix (and sometimes a bit above it),
	 * so most samples land inside or beside the data rather than in the
	 * empty space a uniform sample would hit. */
	for (int i = prefix->len / 8; i < len; i++)
		addr.bytes[i] ^= (uint8_t)next_random(rng);
	return addr;
}

static void test_map_lookups_agree(void **state)
{
	struct fixture *f = *state;
	xdp_fixture_need_bpf(f->obj != NULL);
	uint64_t rng = 0x5eed1234abcdef01ull;

	assert_true(f->set.count > 1000);
	check_every_prefix_edge(f);
	for (int i = 0; i < RANDOM_ADDRESSES; i++) {
		struct ip_addr addr = random_near_prefix(f, &rng);

		check(f, &addr);
	}
}

/* A minimal SYN from addr to port PORT, Ethernet + IPv4/IPv6 + TCP. */
static size_t syn_frame(const struct ip_addr *addr, uint8_t *frame)
{
	size_t l3 = 14, l4;

	memset(frame, 0, 128);
	if (addr->family == AF_INET) {
		frame[12] = 0x08;
		frame[14] = 0x45;
		frame[23] = IPPROTO_TCP;
		memcpy(frame + 26, addr->bytes, 4);
		frame[30] = 198, frame[31] = 18, frame[33] = 1;
		l4 = l3 + 20;
	} else {
		frame[12] = 0x86, frame[13] = 0xDD;
		frame[14] = 0x60;
		frame[20] = IPPROTO_TCP;
		memcpy(frame + 22, addr->bytes, 16);
		frame[38] = 0x20, frame[39] = 0x01, frame[40] = 0x0d, frame[41] = 0xb8;
		frame[53] = 1;
		l4 = l3 + 40;
	}
	frame[l4 + 0] = 0x9C; /* source port 40000 */
	frame[l4 + 1] = 0x40;
	frame[l4 + 2] = PORT >> 8;
	frame[l4 + 3] = PORT & 0xFF;
	frame[l4 + 12] = 0x50;
	frame[l4 + 13] = 0x02; /* SYN */
	return l4 + 20;
}

static uint32_t tag_via_program(struct fixture *f, const struct ip_addr *addr)
{
	uint8_t frame[128], out[128];
	size_t len = syn_frame(addr, frame);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	struct conn_tuple tuple = {.peer = *addr, .peer_port = 40000, .local_port = PORT};
	uint32_t region = REGION_NONE;

	tuple.local = xdp_fixture_addr(addr->family == AF_INET ? "198.18.0.1" : "2001:db8::1");
	assert_int_equal(bpf_prog_test_run_opts(xdp_obj_prog_fd(f->obj), &opts), 0);
	assert_int_equal(opts.retval, 2 /* XDP_PASS */);
	if (!xdp_obj_take_conn_tag(f->obj, &tuple, &region))
		return REGION_NONE;
	return region;
}

static void test_program_tags_agree(void **state)
{
	struct fixture *f = *state;
	xdp_fixture_need_bpf(f->obj != NULL);
	uint64_t rng = 0x0123456789abcdefull;

	for (int i = 0; i < FRAME_SAMPLES; i++) {
		struct ip_addr addr = random_near_prefix(f, &rng);
		uint32_t want = range_table_lookup(f->table, &addr);

		assert_int_equal(tag_via_program(f, &addr), want);
	}
}

static void test_reload_with_fewer_providers_agrees(void **state)
{
	struct fixture *f = *state;
	xdp_fixture_need_bpf(f->obj != NULL);
	uint64_t rng = 0xfeedfacecafebeefull;

	/* Same region table (ids stay), GCP only. */
	range_set_free(&f->set);
	range_set_init(&f->set);
	load(f, "gcp-cloud.json");
	assert_int_equal(ranges_finish(&f->set), 0);
	range_table_free(f->table);
	f->table = range_table_build(&f->set);
	assert_non_null(f->table);
	assert_int_equal(xdp_obj_reload(f->obj, &f->set, &f->regions, f->err, sizeof(f->err)), 0);
	check_every_prefix_edge(f);
	for (int i = 0; i < FRAME_SAMPLES; i++) {
		struct ip_addr addr = random_near_prefix(f, &rng);

		check(f, &addr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_map_lookups_agree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_program_tags_agree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_with_fewer_providers_agrees, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
