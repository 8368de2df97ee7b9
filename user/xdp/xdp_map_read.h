/* Reading the program's maps from userspace, for `archeio xdp status` (over
 * the pins) and the server's metrics (over its own fds). Internal to xdp/. */
#ifndef ARCHEIO_XDP_MAP_READ_H
#define ARCHEIO_XDP_MAP_READ_H

#include <stddef.h>
#include <stdint.h>

/* Keys in a hash map, walked with bpf_map_get_next_key; bounded by the
 * map's own capacity. */
uint64_t xdp_map_count_keys(int fd, uint32_t max_entries, size_t key_size);
/* The map's max_entries (0 when unknown). */
uint32_t xdp_map_max_entries(int fd);
/* The per-CPU counters map summed over every possible CPU into
 * sums[COUNTER_COUNT]; -1 with err. */
int xdp_map_sum_counters(int fd, uint64_t *sums, char *err, size_t errlen);

#endif
