/* ranges_finish(): the set sorted (IPv4 before IPv6, then by address, then
 * by length) with earlier copies of a prefix dropped. A stable LSD radix sort
 * on an 18-byte key (family, 16 address bytes, length): a key byte that is
 * the same in every entry (the zero tail of IPv4 addresses and of most
 * provider IPv6 prefixes) costs no pass, so ~27k provider prefixes take
 * about ten counting passes instead of qsort's ~400k comparisons (~40M
 * instructions, a quarter of start-up, before). Stability keeps entries with
 * equal keys in load order, so the last one loaded is the one kept. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ranges_internal.h"

#define KEY_BYTES 18

struct sort_item {
	uint8_t key[KEY_BYTES];
	uint32_t index; /* into set->entries */
};

static void make_key(const struct range_entry *e, uint32_t index, struct sort_item *out)
{
	out->key[0] = e->prefix.addr.family == AF_INET ? 0 : 1;
	memcpy(out->key + 1, e->prefix.addr.bytes, 16);
	out->key[17] = e->prefix.len;
	out->index = index;
}

/* One stable counting pass on key byte `b`, src to dst. */
static void scatter(const struct sort_item *src, struct sort_item *dst, size_t n,
		    const uint32_t count[256], int b)
{
	uint32_t at[256];
	uint32_t sum = 0;
	for (int v = 0; v < 256; v++) {
		at[v] = sum;
		sum += count[v];
	}
	for (size_t i = 0; i < n; i++)
		dst[at[src[i].key[b]]++] = src[i];
}

/* Sorts items (n of them; tmp the same size) and returns the array that
 * holds the result (items or tmp). */
static struct sort_item *radix_sort(struct sort_item *items, struct sort_item *tmp, size_t n,
				    uint32_t (*count)[256])
{
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < KEY_BYTES; b++)
			count[b][items[i].key[b]]++;
	struct sort_item *src = items, *dst = tmp;
	for (int b = KEY_BYTES - 1; b >= 0; b--) {
		if (count[b][items[0].key[b]] == n)
			continue; /* every entry has this byte: nothing to order */
		scatter(src, dst, n, count[b], b);
		struct sort_item *t = src;
		src = dst;
		dst = t;
	}
	return src;
}

int ranges_finish(struct range_set *set)
{
	size_t n = set->count;
	if (n == 0)
		return 0;
	if (n > UINT32_MAX)
		return -1;
	struct sort_item *items = malloc(n * sizeof(*items));
	struct sort_item *tmp = malloc(n * sizeof(*tmp));
	uint32_t(*count)[256] = calloc(KEY_BYTES, sizeof(*count));
	struct range_entry *out = malloc(n * sizeof(*out));
	if (!items || !tmp || !count || !out) {
		free(items);
		free(tmp);
		free(count);
		free(out);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		make_key(&set->entries[i], (uint32_t)i, &items[i]);
	const struct sort_item *sorted = radix_sort(items, tmp, n, count);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		bool superseded =
		    i + 1 < n && memcmp(sorted[i].key, sorted[i + 1].key, KEY_BYTES) == 0;
		if (!superseded)
			out[kept++] = set->entries[sorted[i].index];
	}
	free(items);
	free(tmp);
	free(count);
	free(set->entries);
	set->entries = out;
	set->count = kept;
	set->cap = n;
	return 0;
}
