/* Pure parts of the XDP path, no BPF needed: map keys from archeio's address
 * types, cloud slots, map sizing, the bpffs directory check, and the status
 * format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "xdp/xdp_bpffs.h"
#include "xdp/xdp_keys.h"
#include "archeio/xdp/xdp_status.h"
#include "helpers/xdp_fixture.h"

static struct ip_prefix prefix(const char *addr, uint8_t len)
{
	struct ip_prefix p = {.addr = xdp_fixture_addr(addr), .len = len};

	return p;
}

static void test_lpm_keys(void **state)
{
	struct ip_prefix p4 = prefix("192.0.2.0", 24), p6 = prefix("2001:db8::", 32);
	struct ip_addr a6 = xdp_fixture_addr("2001:db8::7");
	struct lpm_v4_key k4;
	struct lpm_v6_key k6;

	(void)state;
	xdp_lpm_v4_key_for_prefix(&p4, &k4);
	assert_int_equal(k4.prefixlen, 24);
	assert_memory_equal(k4.addr, "\xc0\x00\x02\x00", 4);
	xdp_lpm_v6_key_for_prefix(&p6, &k6);
	assert_int_equal(k6.prefixlen, 32);
	assert_memory_equal(k6.addr, p6.addr.bytes, 16);
	xdp_lpm_v4_key_for_addr(&p4.addr, &k4);
	assert_int_equal(k4.prefixlen, 32);
	xdp_lpm_v6_key_for_addr(&a6, &k6);
	assert_int_equal(k6.prefixlen, 128);
	assert_int_equal(k6.addr[15], 7);
	/* Out-of-range lengths are clamped, never passed to the kernel. */
	p4.len = 40;
	xdp_lpm_v4_key_for_prefix(&p4, &k4);
	assert_int_equal(k4.prefixlen, 32);
}

static void test_conn_key_from_tuple(void **state)
{
	struct conn_tuple t4 = {.peer = xdp_fixture_addr("192.0.2.1"),
				.local = xdp_fixture_addr("203.0.113.5"),
				.peer_port = 40000,
				.local_port = 443};
	struct conn_tuple t6 = {.peer = xdp_fixture_addr("2001:db8::1"),
				.local = xdp_fixture_addr("2001:db8::2"),
				.peer_port = 1,
				.local_port = 65535};
	struct conn_tuple mixed = t4;
	struct conn_key key;

	(void)state;
	assert_true(xdp_conn_key_from_tuple(&t4, &key));
	assert_int_equal(key.family, AF_INET);
	assert_memory_equal(key.saddr, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(key.daddr, "\xcb\x00\x71\x05", 4);
	for (int i = 4; i < 16; i++)
		assert_int_equal(key.saddr[i] | key.daddr[i], 0);
	assert_int_equal(key.sport, htons(40000));
	assert_int_equal(key.dport, htons(443));
	assert_int_equal(key.pad[0] | key.pad[1] | key.pad[2], 0);
	assert_true(xdp_conn_key_from_tuple(&t6, &key));
	assert_int_equal(key.family, AF_INET6);
	assert_memory_equal(key.saddr, t6.peer.bytes, 16);
	assert_int_equal(key.dport, htons(65535));
	mixed.local = t6.local;
	assert_false(xdp_conn_key_from_tuple(&mixed, &key));
	mixed = t4;
	mixed.peer.family = mixed.local.family = 0;
	assert_false(xdp_conn_key_from_tuple(&mixed, &key));
}

static void test_cloud_slots_in_first_id_order(void **state)
{
	struct xdp_fixture_data d;
	struct cloud_name clouds[ARCHEIO_CLOUD_SLOTS];
	uint32_t idx[XDP_FIXTURE_MAX_REGIONS];

	(void)state;
	xdp_fixture_init(&d);
	xdp_fixture_region(&d, "gcp", "a");
	xdp_fixture_region(&d, "aws", "b");
	xdp_fixture_region(&d, "gcp", "c");
	assert_int_equal(xdp_cloud_slots(&d.regions, idx, clouds), 2);
	assert_string_equal(clouds[0].name, "gcp");
	assert_string_equal(clouds[1].name, "aws");
	assert_int_equal(idx[1], 0);
	assert_int_equal(idx[2], 1);
	assert_int_equal(idx[3], 0);
	assert_string_equal(clouds[2].name, "");
	/* Growing the table keeps earlier slots. */
	xdp_fixture_region(&d, "azure", "d");
	assert_int_equal(xdp_cloud_slots(&d.regions, idx, clouds), 3);
	assert_string_equal(clouds[0].name, "gcp");
	assert_int_equal(idx[4], 2);
}

static void test_cloud_slots_overflow_to_other(void **state)
{
	struct xdp_fixture_data d;
	struct cloud_name clouds[ARCHEIO_CLOUD_SLOTS];
	uint32_t idx[XDP_FIXTURE_MAX_REGIONS];
	char name[16];

	(void)state;
	xdp_fixture_init(&d);
	for (int i = 0; i < ARCHEIO_CLOUD_SLOTS + 3; i++) {
		snprintf(name, sizeof(name), "cloud%d", i);
		xdp_fixture_region(&d, name, "r");
	}
	assert_int_equal(xdp_cloud_slots(&d.regions, idx, clouds), ARCHEIO_CLOUD_OTHER);
	assert_string_equal(clouds[ARCHEIO_CLOUD_OTHER].name, "other");
	assert_int_equal(idx[ARCHEIO_CLOUD_OTHER], ARCHEIO_CLOUD_OTHER - 1);
	assert_int_equal(idx[ARCHEIO_CLOUD_OTHER + 1], ARCHEIO_CLOUD_OTHER);
	assert_int_equal(idx[ARCHEIO_CLOUD_SLOTS + 3], ARCHEIO_CLOUD_OTHER);
}

static void test_map_sizes(void **state)
{
	struct xdp_fixture_data d;
	struct xdp_map_sizes sizes;
	uint32_t id;

	(void)state;
	xdp_fixture_init(&d);
	id = xdp_fixture_region(&d, "aws", "x");
	xdp_fixture_range(&d, "192.0.2.0/24", id);
	xdp_fixture_range(&d, "198.51.100.0/24", id);
	xdp_fixture_range(&d, "2001:db8::/32", id);
	xdp_map_sizes_for(&d.set, &d.regions, 2, 0, &sizes);
	assert_true(sizes.lpm_v4 >= 2);
	assert_true(sizes.lpm_v6 >= 1);
	assert_true(sizes.regions >= 2 * d.regions.count);
	assert_int_equal(sizes.conn_tags, XDP_CONN_TAGS_DEFAULT);
	assert_true(sizes.listen_ports >= 2);
	xdp_map_sizes_for(&d.set, &d.regions, 100, 1000, &sizes);
	assert_int_equal(sizes.conn_tags, 1000);
	assert_true(sizes.listen_ports >= 100);
	/* Empty data still gives loadable (non-zero) sizes. */
	xdp_fixture_clear_ranges(&d);
	xdp_map_sizes_for(&d.set, &d.regions, 0, 0, &sizes);
	assert_true(sizes.lpm_v4 > 0 && sizes.lpm_v6 > 0 && sizes.listen_ports > 0);
}

static void test_bpffs_dir_errors(void **state)
{
	char tmp[] = "/tmp/archeio-bpffs-XXXXXX", file[64], err[512] = "";
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(xdp_bpffs_prepare_dir(tmp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not on a bpf filesystem"));
	assert_non_null(strstr(err, tmp));
	snprintf(file, sizeof(file), "%s/file", tmp);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(xdp_bpffs_prepare_dir(file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists and is not a directory"));
	snprintf(file, sizeof(file), "%s/file/sub", tmp);
	assert_int_equal(xdp_bpffs_prepare_dir(file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, file));
	assert_int_equal(xdp_bpffs_prepare_dir("", err, sizeof(err)), -1);
	snprintf(file, sizeof(file), "%s/file", tmp);
	unlink(file);
	rmdir(tmp);
}

static void sample_report(struct xdp_status_report *r)
{
	static const char *const names[] = {"lpm4", "lpm6", "regions", "conn_tags", "listen_ports"};

	memset(r, 0, sizeof(*r));
	r->bpffs_dir = "/sys/fs/bpf/archeio";
	r->info.ifindex = 4;
	r->info.mode = ARCHEIO_ATTACH_NATIVE;
	r->info.prog_id = 77;
	r->info.generation = 3;
	strcpy(r->info.ifname, "eth0");
	r->attached = 1;
	r->iface_prog_id = 77;
	r->info.legacy = 1;
	for (int i = 0; i < XDP_STATUS_MAP_COUNT; i++) {
		r->maps[i].name = names[i];
		r->maps[i].entries = (uint64_t)i + 10;
		r->maps[i].max_entries = 100;
	}
	r->counters[COUNTER_PACKETS] = 1000;
	r->counters[COUNTER_SYNS] = 9;
	r->counters[COUNTER_TAGGED] = 7;
	r->counters[COUNTER_UNTAGGED] = 2;
	strcpy(r->clouds[0].name, "aws");
	r->counters[COUNTER_CLOUD_BASE] = 7;
}

static char *format(const struct xdp_status_report *r, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(xdp_status_format(r, json, out), 0);
	fclose(out);
	return text;
}

static void test_status_text(void **state)
{
	struct xdp_status_report r;
	char *text;

	(void)state;
	sample_report(&r);
	text = format(&r, false);
	assert_non_null(strstr(text, "bpffs /sys/fs/bpf/archeio\ninterface eth0\nifindex 4\n"
				     "mode native\nprogram_id 77\nattached yes\n"));
	assert_non_null(strstr(text, "\ndispatcher no\ngeneration 3\n"));
	assert_non_null(strstr(text, "\nlpm4_entries 10\nlpm4_max_entries 100\n"));
	assert_non_null(strstr(text, "\nlisten_ports_entries 14\n"));
	assert_non_null(strstr(text, "\npackets 1000\nsyns 9\ntagged 7\nuntagged 2\n"));
	assert_non_null(strstr(text, "\ntagged_aws 7\n"));
	/* Every line is exactly `name value`. */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *space = strchr(line, ' ');

		assert_non_null(space);
		assert_null(strchr(space + 1, ' '));
	}
	free(text);
}

static void test_status_json(void **state)
{
	struct xdp_status_report r;
	json_error_t error;
	json_t *root;
	char *text;

	(void)state;
	sample_report(&r);
	text = format(&r, true);
	root = json_loads(text, 0, &error);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "interface")), "eth0");
	assert_string_equal(json_string_value(json_object_get(root, "mode")), "native");
	assert_int_equal(json_integer_value(json_object_get(root, "program_id")), 77);
	assert_true(json_is_false(json_object_get(root, "dispatcher")));
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(root, "maps"), "conn_tags"), "entries")),
	    13);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(root, "counters"), "tagged_by_cloud"), "aws")),
	    7);
	json_decref(root);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lpm_keys),
	    cmocka_unit_test(test_conn_key_from_tuple),
	    cmocka_unit_test(test_cloud_slots_in_first_id_order),
	    cmocka_unit_test(test_cloud_slots_overflow_to_other),
	    cmocka_unit_test(test_map_sizes),
	    cmocka_unit_test(test_bpffs_dir_errors),
	    cmocka_unit_test(test_status_text),
	    cmocka_unit_test(test_status_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
