/* Userspace longest-prefix match over a range_set: the lookup used when
 * XDP/BPF is not in use, and the reference the BPF path is tested against.
 * Immutable once built, so any number of threads may look up concurrently. */
#ifndef ARCHEIO_LPM_H
#define ARCHEIO_LPM_H

#include <stddef.h>
#include <stdint.h>

#include "archeio/core/ip.h"
#include "archeio/geo/ranges.h"

struct lpm;

/* NULL on allocation failure. O(n log n) in the number of entries; does not
 * reference `set` afterwards. Entries with REGION_NONE are ignored; of
 * identical prefixes the one loaded last (later in `set`) wins. */
struct lpm *lpm_build(const struct range_set *set);
void lpm_free(struct lpm *trie);
/* Region id of the longest prefix containing addr, or REGION_NONE. */
uint32_t lpm_lookup(const struct lpm *trie, const struct ip_addr *addr);
/* Bytes the structure holds on the heap (for benchmarks and memory logs). */
size_t lpm_memory_bytes(const struct lpm *trie);

#endif
