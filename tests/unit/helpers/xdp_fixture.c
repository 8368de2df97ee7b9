/* Hand-built data for the XDP unit tests. */
#include "xdp_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void xdp_fixture_init(struct xdp_fixture_data *data)
{
	memset(data, 0, sizeof(*data));
	data->regions.names = data->names;
	data->regions.count = 1; /* id 0 is "no region" */
	data->regions.cap = XDP_FIXTURE_MAX_REGIONS;
	data->set.entries = data->entries;
	data->set.cap = XDP_FIXTURE_MAX_RANGES;
}

static void die(const char *what, const char *value)
{
	fprintf(stderr, "xdp_fixture: %s: %s\n", what, value);
	abort();
}

uint32_t xdp_fixture_region(struct xdp_fixture_data *data, const char *cloud, const char *region)
{
	uint32_t id = data->regions.count;

	if (id >= XDP_FIXTURE_MAX_REGIONS)
		die("too many regions", region);
	snprintf(data->names[id].cloud, sizeof(data->names[id].cloud), "%s", cloud);
	snprintf(data->names[id].region, sizeof(data->names[id].region), "%s", region);
	data->regions.count++;
	return id;
}

struct ip_addr xdp_fixture_addr(const char *text)
{
	struct ip_addr addr;

	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, text, addr.bytes) == 1)
		addr.family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr.bytes) == 1)
		addr.family = AF_INET6;
	else
		die("bad address literal", text);
	return addr;
}

void xdp_fixture_range(struct xdp_fixture_data *data, const char *prefix, uint32_t region_id)
{
	char text[64];
	char *slash;
	struct range_entry *entry;

	if (data->set.count >= XDP_FIXTURE_MAX_RANGES)
		die("too many ranges", prefix);
	snprintf(text, sizeof(text), "%s", prefix);
	slash = strchr(text, '/');
	if (!slash)
		die("prefix without /len", prefix);
	*slash = '\0';
	entry = &data->entries[data->set.count++];
	entry->prefix.addr = xdp_fixture_addr(text);
	entry->prefix.len = (uint8_t)atoi(slash + 1);
	entry->region_id = region_id;
}

void xdp_fixture_clear_ranges(struct xdp_fixture_data *data)
{
	data->set.count = 0;
}

bool xdp_fixture_bpf_required(void)
{
	const char *ci = getenv("CI");

	return (ci && strcmp(ci, "true") == 0) || geteuid() == 0;
}

void xdp_fixture_need_bpf(bool available)
{
	if (!available) {
		fprintf(stderr, "SKIP: BPF unavailable (not root, CI unset)\n");
		skip();
	}
}

int xdp_fixture_load(struct xdp_obj *obj, char *err, size_t errlen)
{
	int rc = bpf_object__load(xdp_obj_bpf_object(obj));

	if (rc != 0) {
		snprintf(err, errlen,
			 "bpf_object__load: %s (needs root, or CAP_BPF and CAP_PERFMON)",
			 strerror(-rc));
		return -1;
	}
	return 0;
}

void xdp_fixture_remove_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[512];

	if (!d)
		return;
	while ((entry = readdir(d)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
