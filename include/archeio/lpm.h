/* Userspace longest-prefix-match trie over a range_set: the lookup used when
 * XDP/BPF is not in use, and the reference the BPF path is tested against. */
#ifndef ARCHEIO_LPM_H
#define ARCHEIO_LPM_H

#include <stdint.h>

#include "archeio/ip.h"
#include "archeio/ranges.h"

struct lpm;

/* NULL on allocation failure. The trie does not reference `set` afterwards. */
struct lpm *lpm_build(const struct range_set *set);
void lpm_free(struct lpm *trie);
/* Region id of the longest prefix containing addr, or REGION_NONE. */
uint32_t lpm_lookup(const struct lpm *trie, const struct ip_addr *addr);

#endif
