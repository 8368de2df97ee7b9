/* Nanoseconds per packet of the XDP program with all provider ranges loaded,
 * through BPF_PROG_TEST_RUN with repeat (the kernel runs the program N times
 * on the same frame and reports the mean duration). Frames: an IPv4 SYN from
 * a listed address to a listening port (LPM lookup + tag-map update +
 * counters), the same from an address in no range, a non-SYN TCP segment and
 * a UDP datagram (both not new connections), and an IPv6 SYN. Needs root.
 * Every run after the first of a frame finds its source in the program's
 * per-CPU cache of trie answers (a client opening several connections); what
 * a source not in the cache costs, and each piece of the program, is measured
 * by bench/xdp_pieces.sh with builds that force a miss or skip a piece.
 * Run with bench/xdp.sh (builds it); by hand, from the repo root:
 *   make build/libarcheio.a build/libcore.a
 *   cc -O2 -D_GNU_SOURCE -Iinclude -Ibuild/include -Iuser bench/xdp_bench.c \
 *      build/libarcheio.a build/libcore.a -lxdp -lbpf -lelf -lz -ljansson -o build/xdp_bench
 *   build/xdp_bench [REPEAT] [RANGES_PATH...]   (default 1000000, the three files in
 * ../shared/data) */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "archeio/geo/ranges.h"
#include "archeio/geo/region.h"
#include "xdp/xdp_obj.h"

#define PORT_HTTP 8080
#define XDP_PASS_CODE 2

struct packet {
	const char *name;
	int family;
	const char *src, *dst;
	uint8_t l4;    /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t flags; /* TCP flags */
};

static void put16(uint8_t *at, uint16_t host)
{
	uint16_t net = htons(host);
	memcpy(at, &net, 2);
}

/* Ethernet + IPv4/IPv6 + TCP/UDP header, no payload. */
static size_t build(const struct packet *pk, uint8_t *p)
{
	size_t off = 14;
	memset(p, 0, 128);
	memset(p, 0x02, 6);
	memset(p + 6, 0x04, 6);
	put16(p + 12, pk->family == AF_INET ? 0x0800 : 0x86DD);
	size_t l4_len = pk->l4 == IPPROTO_TCP ? 20 : 8;
	if (pk->family == AF_INET) {
		p[off] = 0x45;
		put16(p + off + 2, (uint16_t)(20 + l4_len));
		p[off + 8] = 64;
		p[off + 9] = pk->l4;
		inet_pton(AF_INET, pk->src, p + off + 12);
		inet_pton(AF_INET, pk->dst, p + off + 16);
		off += 20;
	} else {
		p[off] = 0x60;
		put16(p + off + 4, (uint16_t)l4_len);
		p[off + 6] = pk->l4;
		p[off + 7] = 64;
		inet_pton(AF_INET6, pk->src, p + off + 8);
		inet_pton(AF_INET6, pk->dst, p + off + 24);
		off += 40;
	}
	put16(p + off, 40000);
	put16(p + off + 2, PORT_HTTP);
	if (pk->l4 == IPPROTO_TCP) {
		p[off + 12] = 5 << 4;
		p[off + 13] = pk->flags;
		put16(p + off + 14, 64240);
	} else {
		put16(p + off + 4, 8);
	}
	return off + l4_len;
}

/* Mean ns of N single runs (repeat 1), each with a source port (and with
 * new_source, a source address in 52.4.0.0/16, aws us-east-1) not seen
 * before: every SYN inserts a new conn_tags key, as a real connection does,
 * where a repeated frame replaces one key. A single run's duration includes
 * reading the clock around it; the same loop over a UDP frame measures that. */
static long single_runs(int prog_fd, const struct packet *pk, unsigned n, int new_source)
{
	uint8_t frame[128], out[128];
	size_t len = build(pk, frame);
	unsigned long long total = 0;

	for (unsigned i = 0; i < n; i++) {
		put16(frame + 34, (uint16_t)(1024 + i % 60000));
		if (new_source) {
			frame[26] = 52;
			frame[27] = 4;
			put16(frame + 28, (uint16_t)i);
		}
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .data_size_in = (uint32_t)len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);
		if (bpf_prog_test_run_opts(prog_fd, &opts) != 0 || opts.retval != XDP_PASS_CODE)
			return -1;
		total += opts.duration;
	}
	return (long)(total / n);
}

static int load(struct range_set *set, struct region_table *regions, int argc, char **argv)
{
	static const char *defaults[] = {"../shared/data/aws-ip-ranges.json",
					 "../shared/data/gcp-cloud.json",
					 "../shared/data/azure-service-tags.json"};
	char err[512];
	int n = argc > 2 ? argc - 2 : 3;
	for (int i = 0; i < n; i++) {
		const char *path = argc > 2 ? argv[i + 2] : defaults[i];
		if (ranges_load_path(set, regions, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "xdp_bench: %s\n", err);
			return -1;
		}
	}
	return ranges_finish(set);
}

int main(int argc, char **argv)
{
	static const uint16_t ports[] = {PORT_HTTP};
	static const struct packet packets[] = {
	    {"SYN, listed (aws us-east-1), tagged", AF_INET, "3.2.0.10", "198.18.0.1", IPPROTO_TCP,
	     0x02},
	    {"SYN, listed IPv6, tagged", AF_INET6, "2600:1f18::1", "fd00::1", IPPROTO_TCP, 0x02},
	    {"SYN, in no range, counted", AF_INET, "192.0.2.7", "198.18.0.1", IPPROTO_TCP, 0x02},
	    {"ACK on the port (not a SYN)", AF_INET, "3.2.0.10", "198.18.0.1", IPPROTO_TCP, 0x10},
	    {"UDP", AF_INET, "3.2.0.10", "198.18.0.1", IPPROTO_UDP, 0},
	};
	unsigned repeat = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000000;
	struct range_set set;
	struct region_table regions;
	char err[512];

	range_set_init(&set);
	region_table_init(&regions);
	if (load(&set, &regions, argc, argv) != 0)
		return 1;
	struct xdp_obj *obj = xdp_obj_open(&set, &regions, 1, 0, err, sizeof(err));
	if (!obj) {
		fprintf(stderr, "xdp_bench: %s\n", err);
		return 1;
	}
	if (bpf_object__load(xdp_obj_bpf_object(obj)) != 0 ||
	    xdp_obj_fill(obj, ports, 1, &set, &regions, err, sizeof(err)) != 0) {
		fprintf(stderr, "xdp_bench: cannot load or fill the program (root?) %s\n", err);
		return 1;
	}
	printf("%zu prefixes, repeat %u\n", set.count, repeat);
	for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
		uint8_t frame[128], out[128];
		size_t len = build(&packets[i], frame);
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .data_size_in = (uint32_t)len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = repeat);
		if (bpf_prog_test_run_opts(xdp_obj_prog_fd(obj), &opts) != 0 ||
		    opts.retval != XDP_PASS_CODE) {
			fprintf(stderr, "xdp_bench: test run failed for %s\n", packets[i].name);
			return 1;
		}
		printf("%-38s %6u ns/packet\n", packets[i].name, opts.duration);
	}
	/* 30,000 connections: below conn_tags' 65,536, so no eviction. */
	static const struct packet udp = {"", AF_INET, "3.2.0.10", "198.18.0.1", IPPROTO_UDP, 0};
	long syn_same = single_runs(xdp_obj_prog_fd(obj), &packets[0], 15000, 0);
	long syn_new = single_runs(xdp_obj_prog_fd(obj), &packets[0], 15000, 1);
	long udp_single = single_runs(xdp_obj_prog_fd(obj), &udp, 15000, 0);
	if (syn_same < 0 || syn_new < 0 || udp_single < 0) {
		fprintf(stderr, "xdp_bench: single test runs failed\n");
		return 1;
	}
	printf("%-38s %6ld ns/packet\n", "1 run: SYN new port, cached source", syn_same);
	printf("%-38s %6ld ns/packet\n", "1 run: SYN new port, new source", syn_new);
	printf("%-38s %6ld ns/packet\n", "1 run: UDP (clock and run overhead)", udp_single);
	xdp_obj_close(obj);
	range_set_free(&set);
	region_table_free(&regions);
	return 0;
}
