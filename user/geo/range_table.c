/* Longest-prefix match as a sorted table of disjoint address intervals.
 *
 * CIDR prefixes of one family either nest or are disjoint, so together they
 * cut the address space into intervals on which the longest covering prefix
 * does not change. range_table_build() computes those intervals once (a sort
 * and one sweep with a stack of the open prefixes, O(n log n));
 * range_table_lookup() is a binary search for the last interval starting at
 * or below the address. Only the start of each interval is stored: it runs up
 * to the next start, and a gap between prefixes is an interval of
 * REGION_NONE. Neighbours with the same region merge, so the table never has
 * more than 2n + 1 intervals and ~27k provider prefixes fit in a few hundred
 * kB (the 8-bit-stride trie this replaced needed ~10 MB).
 *
 * IPv4 starts are uint32_t, IPv6 starts unsigned __int128 (a compare is
 * cmp + sbb, so the search stays branch-free; comparing two uint64_t
 * halves made IPv6 lookups ~5x slower). */
#include "archeio/geo/range_table.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "range_table_internal.h"

#define MAX_NESTING 129 /* strictly nested prefixes: lengths 0..128 */

/* An address as a number; IPv4 uses the low 32 bits. */
typedef range_u128 u128;

struct span {
	u128 first, last;
	size_t order; /* load order: the later of two identical prefixes wins */
	uint32_t region;
	uint8_t len;
};

/* Interval boundaries under construction: starts[i] begins region[i]. */
struct boundaries {
	u128 *starts;
	uint32_t *regions;
	size_t count;
};

/* Big-endian loads; memcpy and a byte swap compile to one load and bswap. */
static uint64_t load_be64(const uint8_t *bytes)
{
	uint64_t v;
	memcpy(&v, bytes, sizeof(v));
	return be64toh(v);
}

static uint32_t load_be32(const uint8_t *bytes)
{
	uint32_t v;
	memcpy(&v, bytes, sizeof(v));
	return be32toh(v);
}

/* Host bits of a prefix of len bits among width (32 or 128). */
static u128 host_mask(unsigned width, unsigned len)
{
	return len >= width ? 0 : ~(u128)0 >> (128 - width + len);
}

static u128 load_be128(const uint8_t *bytes)
{
	return (u128)load_be64(bytes) << 64 | load_be64(bytes + 8);
}

static bool usable(const struct range_entry *entry, int family)
{
	return entry->region_id != REGION_NONE && entry->prefix.addr.family == family &&
	       entry->prefix.len <= ip_max_prefix((uint8_t)family);
}

static struct span to_span(const struct range_entry *entry, size_t order)
{
	const struct ip_prefix *p = &entry->prefix;
	unsigned width = ip_max_prefix(p->addr.family);
	struct span s = {.order = order, .region = entry->region_id, .len = p->len};
	s.first = width == 32 ? load_be32(p->addr.bytes) : load_be128(p->addr.bytes);
	u128 host = host_mask(width, p->len);
	s.first &= ~host; /* host bits are zero by contract; do not trust it */
	s.last = s.first | host;
	return s;
}

/* Outer prefixes before the ones nested at their start; identical prefixes
 * in load order. */
static int compare_spans(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static bool sorted(const struct span *spans, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (compare_spans(&spans[i - 1], &spans[i]) > 0)
			return false;
	return true;
}

/* Appends "from start on, region", replacing a boundary at the same start
 * (its interval would be empty) and merging into an equal predecessor. */
static void emit(struct boundaries *out, u128 start, uint32_t region)
{
	if (out->count > 0 && out->starts[out->count - 1] == start)
		out->count--;
	if (out->count > 0 ? out->regions[out->count - 1] == region : region == REGION_NONE)
		return; /* addresses before the first start are REGION_NONE already */
	out->starts[out->count] = start;
	out->regions[out->count] = region;
	out->count++;
}

/* Sweeps sorted, duplicate-free spans with a stack of the prefixes that
 * contain the current position; the innermost one names its region. */
static void flatten(const struct span *spans, size_t count, u128 top, struct boundaries *out)
{
	const struct span *open[MAX_NESTING];
	size_t depth = 0;
	for (size_t i = 0; i < count; i++) {
		const struct span *s = &spans[i];
		while (depth > 0 && open[depth - 1]->last < s->first) {
			u128 after = open[--depth]->last + 1;
			emit(out, after, depth > 0 ? open[depth - 1]->region : REGION_NONE);
		}
		emit(out, s->first, s->region);
		open[depth++] = s;
	}
	while (depth > 0) {
		const struct span *s = open[--depth];
		if (s->last == top)
			break; /* every prefix still open ends at the top too */
		emit(out, s->last + 1, depth > 0 ? open[depth - 1]->region : REGION_NONE);
	}
}

/* Sorted spans of one family with earlier copies of identical prefixes
 * dropped, so that strictly nested prefixes bound the sweep's stack depth. */
static struct span *collect(const struct range_set *set, int family, size_t *count)
{
	size_t n = 0;
	for (size_t i = 0; i < set->count; i++)
		n += usable(&set->entries[i], family);
	struct span *spans = malloc((n ? n : 1) * sizeof(*spans));
	if (spans == NULL)
		return NULL;
	n = 0;
	for (size_t i = 0; i < set->count; i++)
		if (usable(&set->entries[i], family))
			spans[n++] = to_span(&set->entries[i], i);
	/* A finished set (ranges_finish()) is in this order already: one check
	 * instead of ~n log n comparisons at every load and reload. */
	if (!sorted(spans, n))
		qsort(spans, n, sizeof(*spans), compare_spans);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		bool superseded = i + 1 < n && spans[i + 1].len == spans[i].len &&
				  spans[i + 1].first == spans[i].first;
		if (!superseded)
			spans[kept++] = spans[i];
	}
	*count = kept;
	return spans;
}

static int build_family(const struct range_set *set, int family, struct boundaries *out)
{
	size_t count;
	struct span *spans = collect(set, family, &count);
	if (spans == NULL)
		return -1;
	size_t cap = 2 * count + 1; /* each prefix opens one interval and closes one */
	out->starts = malloc(cap * sizeof(*out->starts));
	out->regions = malloc(cap * sizeof(*out->regions));
	out->count = 0;
	if (out->starts == NULL || out->regions == NULL) {
		free(spans);
		return -1;
	}
	u128 top = host_mask(ip_max_prefix((uint8_t)family), 0);
	flatten(spans, count, top, out);
	free(spans);
	return 0;
}

/* malloc(0) may return NULL; the tables are never read when empty. */
static void *alloc_array(size_t count, size_t size)
{
	return malloc(count ? count * size : 1);
}

static int store_v4(struct range_table *table, const struct boundaries *b)
{
	table->v4_starts = alloc_array(b->count, sizeof(*table->v4_starts));
	table->v4_regions = alloc_array(b->count, sizeof(*table->v4_regions));
	if (table->v4_starts == NULL || table->v4_regions == NULL)
		return -1;
	for (size_t i = 0; i < b->count; i++)
		table->v4_starts[i] = (uint32_t)b->starts[i];
	memcpy(table->v4_regions, b->regions, b->count * sizeof(*b->regions));
	table->v4_count = b->count;
	return 0;
}

static int store_v6(struct range_table *table, const struct boundaries *b)
{
	table->v6_starts = alloc_array(b->count, sizeof(*table->v6_starts));
	table->v6_regions = alloc_array(b->count, sizeof(*table->v6_regions));
	if (table->v6_starts == NULL || table->v6_regions == NULL)
		return -1;
	memcpy(table->v6_starts, b->starts, b->count * sizeof(*b->starts));
	memcpy(table->v6_regions, b->regions, b->count * sizeof(*b->regions));
	table->v6_count = b->count;
	return 0;
}

static void free_boundaries(struct boundaries *b)
{
	free(b->starts);
	free(b->regions);
}

struct range_table *range_table_build(const struct range_set *set)
{
	struct range_table *table = calloc(1, sizeof(*table));
	if (table == NULL)
		return NULL;
	/* The scratch tables hold 128-bit starts for both families and twice
	 * the final size at worst; the kept tables are exact and narrower. */
	struct boundaries b = {0};
	int rc = build_family(set, AF_INET, &b);
	if (rc == 0)
		rc = store_v4(table, &b);
	free_boundaries(&b);
	b = (struct boundaries){0};
	if (rc == 0)
		rc = build_family(set, AF_INET6, &b);
	if (rc == 0)
		rc = store_v6(table, &b);
	free_boundaries(&b);
	if (rc != 0) {
		range_table_free(table);
		return NULL;
	}
	return table;
}

void range_table_free(struct range_table *table)
{
	if (table == NULL)
		return;
	free(table->v4_starts);
	free(table->v4_regions);
	free(table->v6_starts);
	free(table->v6_regions);
	free(table);
}

/* One branch-free search for both widths of start: base ends on the last
 * start <= key when there is one (the compare compiles to a conditional move,
 * so no mispredictions); before the first start there is no region. */
#define DEFINE_SEARCH(name, key_type)                                                              \
	static uint32_t name(const key_type *starts, const uint32_t *regions, size_t count,        \
			     key_type key)                                                         \
	{                                                                                          \
		const key_type *base = starts;                                                     \
		size_t n = count;                                                                  \
		if (n == 0)                                                                        \
			return REGION_NONE;                                                        \
		while (n > 1) {                                                                    \
			size_t half = n / 2;                                                       \
			base = base[half] <= key ? base + half : base;                             \
			n -= half;                                                                 \
		}                                                                                  \
		return *base <= key ? regions[base - starts] : REGION_NONE;                        \
	}

DEFINE_SEARCH(search_starts_v4, uint32_t);
DEFINE_SEARCH(search_starts_v6, u128);

static uint32_t search_v4(const struct range_table *table, uint32_t key)
{
	return search_starts_v4(table->v4_starts, table->v4_regions, table->v4_count, key);
}

static uint32_t search_v6(const struct range_table *table, u128 key)
{
	return search_starts_v6(table->v6_starts, table->v6_regions, table->v6_count, key);
}

uint32_t range_table_lookup(const struct range_table *table, const struct ip_addr *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (addr->family == AF_INET)
		return search_v4(table, load_be32(addr->bytes));
	if (addr->family != AF_INET6)
		return REGION_NONE;
	/* ip_parse() already normalises mapped IPv4; this covers callers that
	 * filled an ip_addr by hand. */
	if (memcmp(addr->bytes, mapped, sizeof(mapped)) == 0)
		return search_v4(table, load_be32(addr->bytes + sizeof(mapped)));
	return search_v6(table, load_be128(addr->bytes));
}
