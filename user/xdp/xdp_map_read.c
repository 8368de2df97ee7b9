#include "xdp_map_read.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/bpf_shared.h"

uint64_t xdp_map_count_keys(int fd, uint32_t max_entries, size_t key_size)
{
	unsigned char key[64], next[64];
	uint64_t count = 0;
	const void *prev = NULL;

	if (key_size > sizeof(key))
		return 0;
	while (count <= max_entries && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		count++;
	}
	return count;
}

uint32_t xdp_map_max_entries(int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : 0;
}

int xdp_map_sum_counters(int fd, uint64_t *sums, char *err, size_t errlen)
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t *values;

	if (cpus <= 0) {
		snprintf(err, errlen, "cannot count possible CPUs");
		return -1;
	}
	values = calloc((size_t)cpus, sizeof(*values));
	if (!values) {
		snprintf(err, errlen, "out of memory reading counters");
		return -1;
	}
	for (uint32_t i = 0; i < COUNTER_COUNT; i++) {
		sums[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, values) != 0)
			continue;
		for (int cpu = 0; cpu < cpus; cpu++)
			sums[i] += values[cpu];
	}
	free(values);
	return 0;
}
