/* Shared by the XDP unit tests: hand-built range sets and region tables (so
 * the tests do not depend on the ranges parser), the root/CI rule, and
 * loading the program without attaching it. */
#ifndef ARCHEIO_TESTS_XDP_FIXTURE_H
#define ARCHEIO_TESTS_XDP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/ip.h"
#include "archeio/geo/ranges.h"
#include "archeio/geo/region.h"
#include "xdp/xdp_obj.h"

#define XDP_FIXTURE_MAX_REGIONS 32
#define XDP_FIXTURE_MAX_RANGES 64

struct xdp_fixture_data {
	struct region_name names[XDP_FIXTURE_MAX_REGIONS];
	struct range_entry entries[XDP_FIXTURE_MAX_RANGES];
	struct region_table regions;
	struct range_set set;
};

void xdp_fixture_init(struct xdp_fixture_data *data);
/* Adds (cloud, region) and returns its id (1, 2, ...). */
uint32_t xdp_fixture_region(struct xdp_fixture_data *data, const char *cloud, const char *region);
/* Adds "addr/len" for region id; aborts the test on a malformed literal. */
void xdp_fixture_range(struct xdp_fixture_data *data, const char *prefix, uint32_t region_id);
/* Empties the range list, keeping the regions (a reload's new data). */
void xdp_fixture_clear_ranges(struct xdp_fixture_data *data);

/* inet_pton into an ip_addr; aborts the test on a malformed literal. */
struct ip_addr xdp_fixture_addr(const char *text);

/* BPF tests must run (fail loudly when they cannot) as root or under CI=true;
 * elsewhere they are skipped with a message. */
bool xdp_fixture_bpf_required(void);
/* Skips the calling test, saying so, when its setup found BPF unavailable
 * (setups fail instead where xdp_fixture_bpf_required()). */
void xdp_fixture_need_bpf(bool available);

/* Loads an opened program and its maps into the kernel without attaching
 * them, for the tests that run the program with BPF_PROG_TEST_RUN
 * (production lets libxdp load it while attaching). */
int xdp_fixture_load(struct xdp_obj *obj, char *err, size_t errlen);

/* Removes a test's pin directory and every pin in it (best effort). */
void xdp_fixture_remove_pins(const char *dir);

#endif
