/* Every ranges format (AWS, GCP, Azure JSON, the operator text format) and
 * the detection between them. Properties: a file that parses loads into a
 * set whose every prefix is valid (length within the family, no host bits,
 * a known region, no default route from a JSON file); warnings stay within
 * their bound and each kept one is a line of text; a failed parse leaves the
 * set and its warnings as they were; and the lookup
 * table built from the set agrees with a brute-force longest-prefix scan for
 * every prefix's own address, its last address and addresses taken from the
 * input bytes. */
#include <stdint.h>
#include <sys/socket.h>

#include "archeio/geo/range_table.h"
#include "archeio/geo/ranges.h"
#include "fuzz_check.h"

static void check_prefix(const struct ip_prefix *p)
{
	FUZZ_CHECK(p->addr.family == AF_INET || p->addr.family == AF_INET6);
	unsigned max = ip_max_prefix(p->addr.family);
	FUZZ_CHECK(p->len <= max);
	for (unsigned bit = p->len; bit < max; bit++)
		FUZZ_CHECK(!(p->addr.bytes[bit / 8] & (0x80 >> (bit % 8))));
}

/* The contract (core/ip.h): an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * the IPv4 address, so an IPv6 prefix shorter than /96 that covers the mapped
 * block (e.g. ::/80) never matches it. The oracle follows the contract; it
 * once did not, and its first 30-minute run stopped on ::/80
 * (regressions/fuzz_ranges/mapped-under-short-v6-prefix). */
static struct ip_addr contract_address(const struct ip_addr *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct ip_addr out = *addr;
	if (addr->family == AF_INET6 && memcmp(addr->bytes, mapped, sizeof(mapped)) == 0) {
		memset(&out, 0, sizeof(out));
		out.family = AF_INET;
		memcpy(out.bytes, addr->bytes + sizeof(mapped), 4);
	}
	return out;
}

static uint32_t brute_force(const struct range_set *set, const struct ip_addr *given)
{
	const struct ip_addr normalised = contract_address(given);
	const struct ip_addr *addr = &normalised;
	int best = -1;
	uint32_t region = 0;
	for (size_t i = 0; i < set->count; i++) {
		const struct ip_prefix *p = &set->entries[i].prefix;
		if (ip_prefix_contains(p, addr) && (int)p->len > best) {
			best = p->len;
			region = set->entries[i].region_id;
		}
	}
	return region;
}

static void check_lookup(const struct range_table *table, const struct range_set *set,
			 const struct ip_addr *addr)
{
	FUZZ_CHECK(range_table_lookup(table, addr) == brute_force(set, addr));
}

static void last_address(const struct ip_prefix *p, struct ip_addr *out)
{
	*out = p->addr;
	for (unsigned bit = p->len; bit < ip_max_prefix(p->addr.family); bit++)
		out->bytes[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

static void check_table(const struct range_set *set, const uint8_t *data, size_t size)
{
	struct range_table *table = range_table_build(set);
	if (!table)
		return; /* allocation failure is reported by the caller in real use */
	for (size_t i = 0; i < set->count && i < 256; i++) {
		struct ip_addr a;
		check_lookup(table, set, &set->entries[i].prefix.addr);
		last_address(&set->entries[i].prefix, &a);
		check_lookup(table, set, &a);
	}
	for (size_t at = 0; at + 17 <= size && at < 17 * 64; at += 17) {
		struct ip_addr a = {.family = data[at] & 1 ? AF_INET6 : AF_INET};
		memcpy(a.bytes, data + at + 1, a.family == AF_INET6 ? 16 : 4);
		check_lookup(table, set, &a);
	}
	range_table_free(table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	struct range_set set;
	struct region_table regions;
	range_set_init(&set);
	region_table_init(&regions);
	char err[512];
	/* One entry first, so "unchanged on failure" is visible. */
	struct ip_prefix seed;
	ip_prefix_parse("198.18.0.0/15", true, &seed);
	uint32_t seed_region = region_table_intern(&regions, "test", "seed");
	range_set_add(&set, &seed, seed_region);
	int r =
	    ranges_parse_buffer(&set, &regions, "fuzz", (const char *)data, size, err, sizeof(err));
	size_t kept = ranges_warnings_kept(&set.warnings);
	FUZZ_CHECK(kept <= RANGES_WARNINGS_KEPT && kept <= set.warnings.total);
	for (size_t i = 0; i < kept; i++)
		FUZZ_CHECK(set.warnings.text[i][0] != '\0' &&
			   strchr(set.warnings.text[i], '\n') == NULL);
	/* JSON is recognised by its first significant byte (after a BOM). */
	size_t off = size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	while (off < size && strchr(" \t\r\n", data[off]) != NULL && data[off] != '\0')
		off++;
	bool json = off < size && (data[off] == '{' || data[off] == '[');
	if (r != 0) {
		FUZZ_CHECK(set.count == 1);
		FUZZ_CHECK(set.warnings.total == 0);
		FUZZ_CHECK(strlen(err) > 0);
	} else if (ranges_finish(&set) == 0) {
		for (size_t i = 0; i < set.count; i++) {
			FUZZ_CHECK(!json || set.entries[i].prefix.len > 0);
			check_prefix(&set.entries[i].prefix);
			FUZZ_CHECK(set.entries[i].region_id > 0 &&
				   set.entries[i].region_id < regions.count);
			FUZZ_CHECK(region_table_get(&regions, set.entries[i].region_id) != NULL);
		}
		check_table(&set, data, size);
	}
	range_set_free(&set);
	region_table_free(&regions);
	return 0;
}
