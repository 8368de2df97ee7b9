/* Allocation failure sweep along the userspace part of XDP set-up
 * (tests/unit/helpers/fail_alloc.h): xdp_path_open() — the pin directory and
 * its lock, opening and sizing the object, attaching through libxdp, filling
 * the maps, the SYN limit's exempt tries, pinning — on lo of a private network
 * namespace (skb mode), then a reload, then xdp_path_close(). archeio's own
 * allocations are counted; libbpf's and libxdp's are not (they are shared
 * libraries calling malloc themselves).
 *
 * For N = 1, 2, ... the Nth allocation fails. A failed open must say why and
 * leave nothing behind: no XDP program on lo, no pins and no pin directory,
 * exactly the file descriptors the process had before (leaks: the sanitizer
 * build). A failed reload must keep the maps as they were (the old ranges
 * still answer). A run that completes must look like one without failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archeio/xdp/xdp_path.h"
#include "helpers/fail_alloc.h"
#include "helpers/xdp_fixture.h"

static bool bpf_ok;

static bool bring_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	close(fd);
	return ok;
}

/* A private network namespace: the sweep attaches to its lo only. */
static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 && !xdp_fixture_bpf_required())
		return 0;
	if (unshare(CLONE_NEWNET) != 0 || !bring_lo_up()) {
		fprintf(stderr, "test_fault_xdp: cannot make a private netns: %s\n",
			strerror(errno));
		return xdp_fixture_bpf_required() ? -1 : 0;
	}
	bpf_ok = true;
	return 0;
}

static int count_fds(void)
{
	DIR *fds = opendir("/proc/self/fd");
	assert_non_null(fds);
	int count = 0;
	while (readdir(fds))
		count++;
	closedir(fds);
	return count;
}

static uint32_t lo_prog_id(void)
{
	uint32_t id = 0;
	if (bpf_xdp_query_id((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, &id) != 0)
		return 0;
	return id;
}

static void ignore_log(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
}

static void every_allocation_failure_in_xdp_set_up_is_an_error(void **state)
{
	(void)state;
	xdp_fixture_need_bpf(bpf_ok);
	char dir[64];
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/archeio-fault-xdp-%d", getpid());
	struct xdp_fixture_data data;
	xdp_fixture_init(&data);
	uint32_t aws = xdp_fixture_region(&data, "aws", "us-east-1");
	uint32_t gcp = xdp_fixture_region(&data, "gcp", "europe-west1");
	xdp_fixture_range(&data, "127.0.0.0/8", aws);
	xdp_fixture_range(&data, "::1/128", gcp);
	static const uint16_t ports[] = {8080, 8443};
	struct ip_prefix exempt[1];
	assert_true(ip_prefix_parse("192.0.2.0/24", true, &exempt[0]));
	struct xdp_path_options options = {.iface = "lo",
					   .mode = XDP_PATH_MODE_SKB,
					   .bpffs_dir = dir,
					   .listen_ports = ports,
					   .listen_port_count = 2,
					   .syn_limit = 100,
					   .syn_burst = 10,
					   .syn_exempt = exempt,
					   .syn_exempt_count = 1,
					   .log = ignore_log};
	struct ip_addr v4 = xdp_fixture_addr("127.1.2.3");
	struct stat st;
	char err[512];
	/* Twice without failures first: the second leaves exactly the fds the
	 * first left (libxdp's legacy multiprog used to leak one per detach). */
	struct xdp_path *warm = xdp_path_open(&options, &data.set, &data.regions, err, sizeof(err));
	if (!warm)
		fail_msg("XDP set-up without failures: %s", err);
	xdp_path_close(warm);
	int fds = count_fds();
	warm = xdp_path_open(&options, &data.set, &data.regions, err, sizeof(err));
	assert_non_null(warm);
	xdp_path_close(warm);
	assert_int_equal(count_fds(), fds);

	long nth = 1, failed_opens = 0, failed_reloads = 0;
	for (bool fired = true; fired; nth++) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		err[0] = '\0';
		fail_alloc_arm(nth);
		struct xdp_path *path =
		    xdp_path_open(&options, &data.set, &data.regions, err, sizeof(err));
		if (!path) {
			fired = fail_alloc_disarm();
			failed_opens++;
			assert_true(fired);
			if (!err[0])
				fail_msg("allocation %ld: open failed without a message", nth);
		} else {
			/* The reload: the range moves to gcp, or stays with aws. */
			xdp_fixture_clear_ranges(&data);
			xdp_fixture_range(&data, "127.0.0.0/8", gcp);
			int rc = xdp_path_reload(path, &data.set, &data.regions, err, sizeof(err));
			fired = fail_alloc_disarm();
			assert_true(lo_prog_id() != 0);
			if (rc != 0) {
				failed_reloads++;
				assert_true(err[0]);
				assert_int_equal(xdp_path_lookup(path, &v4), aws);
			} else {
				assert_int_equal(xdp_path_lookup(path, &v4), gcp);
			}
			xdp_path_close(path);
			xdp_fixture_clear_ranges(&data);
			xdp_fixture_range(&data, "127.0.0.0/8", aws);
			xdp_fixture_range(&data, "::1/128", gcp);
		}
		if (lo_prog_id() != 0)
			fail_msg("allocation %ld: an XDP program left on lo", nth);
		if (stat(dir, &st) == 0)
			fail_msg("allocation %ld: the pin directory %s left behind", nth, dir);
		if (count_fds() != fds)
			fail_msg("allocation %ld: %d file descriptors left open", nth,
				 count_fds() - fds);
	}
	print_message("xdp set-up sweep: %ld allocations (%ld failed opens, %ld failed "
		      "reloads)\n",
		      nth - 2, failed_opens, failed_reloads);
	xdp_fixture_remove_pins(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_allocation_failure_in_xdp_set_up_is_an_error),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
