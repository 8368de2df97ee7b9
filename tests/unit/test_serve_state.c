/* The reloadable snapshot: loading, blob choice per region, stable region ids
 * across reloads, publication to workers, failed loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"

struct fixture {
	char dir[64];
	char ranges[96];
	char mirrors[96];
	char *ranges_list[1];
	struct config config;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/archeio-state-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->ranges, sizeof(f->ranges), "%s/ranges.txt", f->dir);
	snprintf(f->mirrors, sizeof(f->mirrors), "%s/mirrors", f->dir);
	write_file(f->ranges, "# operator\n"
			      "10.0.0.0/8 aws us-east-1\n"
			      "10.1.0.0/16 aws eu-west-1\n"
			      "192.0.2.0/24 gcp us-central1\n"
			      "2001:db8::/32 azure westeurope\n");
	write_file(f->mirrors, "gcp upstream\n"
			       "aws:us-east-1 http://127.0.0.1:1/use1\n"
			       "aws http://127.0.0.1:1/aws\n"
			       "* http://127.0.0.1:1/cdn\n");
	f->ranges_list[0] = f->ranges;
	f->config.ranges = f->ranges_list;
	f->config.ranges_count = 1;
	f->config.mirrors_file = f->mirrors;
	f->config.default_mirror = "http://127.0.0.1:1/default";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->ranges);
	unlink(f->mirrors);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint32_t region_of(struct serve_state *s, const char *ip)
{
	struct ip_addr addr;
	assert_true(ip_parse(ip, &addr));
	return range_table_lookup(s->table, &addr);
}

static void blob_choice_by_region(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct serve_state *s = serve_state_load(&f->config, NULL, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(s->ranges.count, 4);
	const char *digest =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	struct blob_choice c;
	serve_state_choose_blob(s, region_of(s, "10.2.3.4"), digest, &c);
	assert_true(c.use_mirror);
	assert_string_equal(c.cloud, "aws");
	assert_string_equal(c.region, "us-east-1");
	assert_string_equal(
	    c.mirror_url,
	    "http://127.0.0.1:1/use1/containers/images/"
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	serve_state_choose_blob(s, region_of(s, "10.1.2.3"), digest, &c);
	assert_string_equal(c.region, "eu-west-1");
	assert_string_equal(
	    c.mirror_url,
	    "http://127.0.0.1:1/aws/containers/images/"
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	serve_state_choose_blob(s, region_of(s, "192.0.2.1"), digest, &c);
	assert_false(c.use_mirror);
	assert_string_equal(c.cloud, "gcp");
	serve_state_choose_blob(s, region_of(s, "2001:db8::1"), digest, &c);
	assert_true(c.use_mirror);
	assert_string_equal(c.cloud, "azure");
	assert_non_null(strstr(c.mirror_url, "/cdn/"));
	serve_state_choose_blob(s, region_of(s, "198.51.100.1"), digest, &c);
	assert_null(c.cloud);
	assert_null(c.region);
	assert_true(c.use_mirror);
	assert_non_null(strstr(c.mirror_url, "/cdn/"));
	/* An unknown id (e.g. from a stale tag) is "no region", never a crash. */
	serve_state_choose_blob(s, 9999, digest, &c);
	assert_null(c.cloud);
	serve_state_release(s);
}

static void reload_keeps_region_ids(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct serve_state *first = serve_state_load(&f->config, NULL, err, sizeof(err));
	assert_non_null(first);
	uint32_t use1 = region_of(first, "10.2.3.4");
	write_file(f->ranges, "172.16.0.0/12 acme lab-1\n10.0.0.0/8 aws us-east-1\n");
	struct serve_state *second = serve_state_load(&f->config, first, err, sizeof(err));
	assert_non_null(second);
	assert_int_equal(region_of(second, "10.2.3.4"), use1);
	assert_int_equal(second->ranges.count, 2);
	/* Regions no longer in the ranges keep their names: old tags still resolve. */
	const struct region_name *gcp =
	    region_table_get(&second->regions, region_of(first, "192.0.2.1"));
	assert_non_null(gcp);
	assert_string_equal(gcp->cloud, "gcp");
	serve_state_release(first);
	serve_state_release(second);
}

/* The mirror cache keys answers by mirror id: an id must name the same base
 * URL across reloads, a base that comes back gets its old id, and a new base
 * never reuses one. */
static void reload_keeps_mirror_ids(void **state)
{
	struct fixture *f = *state;
	char err[256];
	const char *digest =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	struct serve_state *first = serve_state_load(&f->config, NULL, err, sizeof(err));
	assert_non_null(first);
	struct blob_choice use1, aws, cdn;
	serve_state_choose_blob(first, region_of(first, "10.2.3.4"), digest, &use1);
	serve_state_choose_blob(first, region_of(first, "10.1.2.3"), digest, &aws);
	serve_state_choose_blob(first, region_of(first, "198.51.100.1"), digest, &cdn);
	assert_true(use1.mirror_id != aws.mirror_id && aws.mirror_id != cdn.mirror_id &&
		    use1.mirror_id != cdn.mirror_id);
	/* us-east-1 moves to a new bucket, the aws rule goes, * stays. */
	write_file(f->mirrors, "aws:us-east-1 http://127.0.0.1:1/new\n"
			       "* http://127.0.0.1:1/cdn\n");
	struct serve_state *second = serve_state_load(&f->config, first, err, sizeof(err));
	assert_non_null(second);
	struct blob_choice c;
	serve_state_choose_blob(second, region_of(second, "10.2.3.4"), digest, &c);
	uint32_t new_id = c.mirror_id;
	assert_true(new_id != use1.mirror_id && new_id != aws.mirror_id && new_id != cdn.mirror_id);
	serve_state_choose_blob(second, region_of(second, "10.1.2.3"), digest, &c);
	assert_int_equal(c.mirror_id, cdn.mirror_id);
	assert_non_null(strstr(c.mirror_url, "/cdn/"));
	/* The first rules again: every base has its first id back. */
	write_file(f->mirrors, "gcp upstream\n"
			       "aws:us-east-1 http://127.0.0.1:1/use1\n"
			       "aws http://127.0.0.1:1/aws\n"
			       "* http://127.0.0.1:1/cdn\n");
	struct serve_state *third = serve_state_load(&f->config, second, err, sizeof(err));
	assert_non_null(third);
	serve_state_choose_blob(third, region_of(third, "10.2.3.4"), digest, &c);
	assert_int_equal(c.mirror_id, use1.mirror_id);
	serve_state_choose_blob(third, region_of(third, "10.1.2.3"), digest, &c);
	assert_int_equal(c.mirror_id, aws.mirror_id);
	serve_state_release(first);
	serve_state_release(second);
	serve_state_release(third);
}

static void failed_load_names_the_file(void **state)
{
	struct fixture *f = *state;
	char err[256];
	write_file(f->ranges, "10.0.0.0/8 aws us-east-1\n10.0.0.0/33 aws x\n");
	assert_null(serve_state_load(&f->config, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "ranges.txt:2: bad CIDR"));
	write_file(f->ranges, "10.0.0.0/8 aws us-east-1\n");
	write_file(f->mirrors, "aws:us-east-1 ftp://nope\n");
	assert_null(serve_state_load(&f->config, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "mirrors:1: not 'upstream' or an absolute http(s) URL"));
}

/* Without a mirrors file the built-in rules use --default-mirror; a bad one
 * fails the load with its own message. */
static void bad_default_mirror_fails_the_load(void **state)
{
	struct fixture *f = *state;
	char err[256];
	f->config.mirrors_file = NULL;
	f->config.default_mirror = "ftp://127.0.0.1/x";
	assert_null(serve_state_load(&f->config, NULL, err, sizeof(err)));
	assert_string_equal(err,
			    "default mirror: not an absolute http(s) URL: 'ftp://127.0.0.1/x'");
}

/* Without a mirrors file a client in an AWS region with a bucket goes to that
 * bucket, as with registry.k8s.io (not to the default mirror); GCP upstream;
 * the rest to --default-mirror. */
static void built_in_rules_without_file(void **state)
{
	struct fixture *f = *state;
	char err[256];
	f->config.mirrors_file = NULL;
	struct serve_state *s = serve_state_load(&f->config, NULL, err, sizeof(err));
	assert_non_null(s);
	struct blob_choice c;
	serve_state_choose_blob(s, region_of(s, "10.0.0.1"), "sha256:x", &c);
	assert_true(c.use_mirror);
	assert_string_equal(c.mirror_url, "https://prod-registry-k8s-io-us-east-1.s3.dualstack."
					  "us-east-1.amazonaws.com/containers/images/sha256:x");
	serve_state_choose_blob(s, region_of(s, "10.1.0.1"), "sha256:x", &c);
	assert_string_equal(c.mirror_url, "https://prod-registry-k8s-io-eu-west-1.s3.dualstack."
					  "eu-west-1.amazonaws.com/containers/images/sha256:x");
	serve_state_choose_blob(s, region_of(s, "192.0.2.1"), "sha256:x", &c);
	assert_false(c.use_mirror);
	serve_state_choose_blob(s, region_of(s, "2001:db8::1"), "sha256:x", &c);
	assert_string_equal(c.mirror_url, "http://127.0.0.1:1/default/containers/images/sha256:x");
	serve_state_choose_blob(s, 0, "sha256:x", &c);
	assert_string_equal(c.mirror_url, "http://127.0.0.1:1/default/containers/images/sha256:x");
	serve_state_release(s);
}

static void holder_publishes_new_generation(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct state_holder holder;
	struct serve_state *a = serve_state_load(&f->config, NULL, err, sizeof(err));
	state_holder_init(&holder, a);
	unsigned gen1;
	struct serve_state *seen = state_holder_acquire(&holder, &gen1);
	assert_ptr_equal(seen, a);
	struct serve_state *b = serve_state_load(&f->config, a, err, sizeof(err));
	state_holder_publish(&holder, b);
	unsigned gen2;
	struct serve_state *now = state_holder_acquire(&holder, &gen2);
	assert_ptr_equal(now, b);
	assert_true(gen2 != gen1);
	/* The old snapshot lives until its last holder lets go. */
	assert_int_equal(seen->ranges.count, 4);
	serve_state_release(seen);
	serve_state_release(now);
	state_holder_destroy(&holder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(blob_choice_by_region, setup, teardown),
	    cmocka_unit_test_setup_teardown(built_in_rules_without_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(reload_keeps_region_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(reload_keeps_mirror_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(failed_load_names_the_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(holder_publishes_new_generation, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_default_mirror_fails_the_load, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
