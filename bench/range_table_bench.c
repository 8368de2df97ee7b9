/* Memory and lookups per second of the userspace range table on the real
 * provider ranges. Not built by the Makefile; from the repo root:
 *   make build/libarcheio.a build/libcore.a
 *   cc -O2 -Iinclude bench/range_table_bench.c build/libarcheio.a build/libcore.a \
 *      -ljansson -o build/range_table_bench
 *   build/range_table_bench [RANGES_PATH...]   (default: the three files in ../shared/data)
 * To compare with another implementation (e.g. lpm.c from git history, under
 * these function names), compile it and put its object before the library
 * on the same command line: memory is measured as heap growth, so it needs
 * nothing from the implementation but build, lookup and free. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "archeio/geo/range_table.h"

#define ADDRESSES (1u << 16) /* a power of two: indexes wrap with a mask */
#define LOOKUPS 20000000u

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Heap bytes in use, allocator overhead included. */
static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Addresses inside random prefixes of the set (random host bits), so most
 * lookups find a real match, as client traffic from clouds does. */
static void make_addresses(const struct range_set *set, int family, struct ip_addr *out)
{
	uint64_t seed = 42;
	size_t first = 0, count = 0;
	for (size_t i = 0; i < set->count; i++) {
		if (set->entries[i].prefix.addr.family != family)
			continue;
		if (count++ == 0)
			first = i;
	}
	for (unsigned i = 0; i < ADDRESSES; i++) {
		const struct ip_prefix *p =
		    &set->entries[first + next_random(&seed) % count].prefix;
		out[i] = p->addr;
		unsigned width = ip_max_prefix((uint8_t)family);
		for (unsigned bit = p->len; bit < width; bit++)
			if (next_random(&seed) & 1)
				out[i].bytes[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	}
}

static void run(const struct range_table *table, const struct ip_addr *addrs, const char *label)
{
	uint64_t sum = 0;
	double start = now_seconds();
	for (unsigned i = 0; i < LOOKUPS; i++)
		sum += range_table_lookup(table, &addrs[i & (ADDRESSES - 1)]);
	double elapsed = now_seconds() - start;
	printf("%s: %.1f M lookups/s (%.1f ns each, checksum %llu)\n", label,
	       LOOKUPS / elapsed / 1e6, elapsed * 1e9 / LOOKUPS, (unsigned long long)sum);
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = {"../shared/data/aws-ip-ranges.json",
					       "../shared/data/gcp-cloud.json",
					       "../shared/data/azure-service-tags.json"};
	struct range_set set;
	struct region_table regions;
	char err[512];
	range_set_init(&set);
	region_table_init(&regions);
	int n = argc > 1 ? argc - 1 : 3;
	for (int i = 0; i < n; i++) {
		const char *path = argc > 1 ? argv[i + 1] : defaults[i];
		if (ranges_load_path(&set, &regions, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	if (ranges_finish(&set) != 0)
		return 1;
	size_t heap_before = heap_in_use();
	double start = now_seconds();
	struct range_table *table = range_table_build(&set);
	if (table == NULL)
		return 1;
	double build_ms = (now_seconds() - start) * 1e3;
	size_t bytes = heap_in_use() - heap_before;
	printf(
	    "%zu prefixes, built in %.1f ms, %zu heap bytes kept (%.1f KiB, %.1f bytes/prefix)\n",
	    set.count, build_ms, bytes, bytes / 1024.0, (double)bytes / (double)set.count);

	struct ip_addr *addrs = calloc(ADDRESSES, sizeof(*addrs));
	if (addrs == NULL)
		return 1;
	make_addresses(&set, AF_INET, addrs);
	run(table, addrs, "IPv4");
	make_addresses(&set, AF_INET6, addrs);
	run(table, addrs, "IPv6");
	/* Clients outside every cloud: mostly misses, spread over all of IPv4. */
	uint64_t seed = 7;
	for (unsigned i = 0; i < ADDRESSES; i++) {
		uint64_t r = next_random(&seed);
		addrs[i] = (struct ip_addr){.family = AF_INET};
		memcpy(addrs[i].bytes, &r, 4);
	}
	run(table, addrs, "IPv4 uniform");
	free(addrs);
	range_table_free(table);
	range_set_free(&set);
	region_table_free(&regions);
	return 0;
}
