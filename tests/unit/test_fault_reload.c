/* Allocation failure sweeps along a reload (tests/unit/helpers/fail_alloc.h):
 * serve_state_load() of a ranges text file and mirror rules on top of a
 * previous state, ranges_parse_buffer() of each provider format's sample
 * (tests/fuzz/corpus/fuzz_ranges), and mirror_rules_parse(). For N = 1, 2, ...
 * the Nth allocation fails; each run must either fail with a message and
 * leave what it was given exactly as it was (a failed reload keeps the last
 * good state), or succeed with the same result as without any failure (never
 * a silently shorter table). Leaks are checked by the sanitizer build. */
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
#include "helpers/fail_alloc.h"

#define SAMPLES "tests/fuzz/corpus/fuzz_ranges/"

static const char *const rules_text = "# rules\n"
				      "gcp upstream\n"
				      "aws:us-east-1 http://127.0.0.1:1/use1\n"
				      "aws:eu-west-1 http://127.0.0.1:1/euw1\n"
				      "* http://127.0.0.1:1/cdn\n";

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

static void write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *file = fopen(path, "rb");
	assert_non_null(file);
	char *buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, file);
	fclose(file);
	return buf;
}

static bool same_sets(const struct range_set *a, const struct range_set *b)
{
	return a->count == b->count &&
	       (a->count == 0 ||
		memcmp(a->entries, b->entries, a->count * sizeof(*a->entries)) == 0);
}

static bool same_regions(const struct region_table *a, const struct region_table *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t id = 1; id < a->count; id++)
		if (strcmp(a->names[id].cloud, b->names[id].cloud) != 0 ||
		    strcmp(a->names[id].region, b->names[id].region) != 0)
			return false;
	return true;
}

static bool same_rules(const struct mirror_rules *a, const struct mirror_rules *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct mirror_rule *x = &a->rules[i], *y = &b->rules[i];
		if (strcmp(x->cloud, y->cloud) != 0 || strcmp(x->region, y->region) != 0 ||
		    (x->base_url == NULL) != (y->base_url == NULL) ||
		    (x->base_url && strcmp(x->base_url, y->base_url) != 0))
			return false;
	}
	return true;
}

static uint32_t lookup(const struct serve_state *state, const char *ip)
{
	struct ip_addr addr;
	assert_true(ip_parse(ip, &addr));
	return range_table_lookup(state->table, &addr);
}

static bool same_state(const struct serve_state *a, const struct serve_state *b)
{
	const char *probes[] = {"10.1.2.3", "192.0.2.9", "2001:db8::1", "203.0.113.1"};
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (lookup(a, probes[i]) != lookup(b, probes[i]))
			return false;
	return same_sets(&a->ranges, &b->ranges) && same_regions(&a->regions, &b->regions) &&
	       same_rules(&a->rules, &b->rules);
}

/* A deep copy of what a state holds, to show a failed reload did not touch it. */
struct state_copy {
	struct range_set ranges;
	struct region_table regions;
	struct mirror_rules rules;
};

static void copy_state(const struct serve_state *state, struct state_copy *copy, const char *rules)
{
	char err[256];
	range_set_init(&copy->ranges);
	for (size_t i = 0; i < state->ranges.count; i++)
		assert_int_equal(range_set_add(&copy->ranges, &state->ranges.entries[i].prefix,
					       state->ranges.entries[i].region_id),
				 0);
	region_table_init(&copy->regions);
	assert_int_equal(region_table_copy(&copy->regions, &state->regions), 0);
	mirror_rules_init(&copy->rules);
	assert_int_equal(
	    mirror_rules_parse(&copy->rules, "copy", rules, strlen(rules), err, sizeof(err)), 0);
}

static void free_copy(struct state_copy *copy)
{
	range_set_free(&copy->ranges);
	region_table_free(&copy->regions);
	mirror_rules_free(&copy->rules);
}

struct files {
	char dir[64];
	char old_ranges[96];
	char ranges[96];
	char mirrors[96];
};

static void make_files(struct files *files)
{
	snprintf(files->dir, sizeof(files->dir), "/tmp/archeio-fault-reload-XXXXXX");
	assert_non_null(mkdtemp(files->dir));
	snprintf(files->old_ranges, sizeof(files->old_ranges), "%s/old.txt", files->dir);
	snprintf(files->ranges, sizeof(files->ranges), "%s/ranges.txt", files->dir);
	snprintf(files->mirrors, sizeof(files->mirrors), "%s/mirrors", files->dir);
	write_file(files->old_ranges, "10.0.0.0/8 aws us-east-1\n");
	write_file(files->ranges, "10.0.0.0/8 aws us-east-1\n"
				  "10.9.0.0/16 aws eu-west-1\n"
				  "192.0.2.0/24 gcp us-central1\n"
				  "2001:db8::/32 corp dc2\n");
	write_file(files->mirrors, rules_text);
}

static void remove_files(struct files *files)
{
	unlink(files->old_ranges);
	unlink(files->ranges);
	unlink(files->mirrors);
	rmdir(files->dir);
}

static void parse_config(struct config *config, const char *ranges, const char *mirrors)
{
	const char *argv[] = {"serve", "--ranges", ranges, "--mirrors", mirrors};
	char err[256];
	assert_int_equal(config_parse(config, 5, (char **)argv, no_env, err, sizeof(err)),
			 CONFIG_OK);
}

static void every_failure_in_a_reload_keeps_the_last_good_state(void **state)
{
	(void)state;
	struct files files;
	make_files(&files);
	struct config old_config, config;
	parse_config(&old_config, files.old_ranges, files.mirrors);
	parse_config(&config, files.ranges, files.mirrors);
	char err[256];
	struct serve_state *previous = serve_state_load(&old_config, NULL, err, sizeof(err));
	assert_non_null(previous);
	struct state_copy before;
	copy_state(previous, &before, rules_text);
	struct serve_state *reference = serve_state_load(&config, previous, err, sizeof(err));
	assert_non_null(reference);

	long nth = 1;
	for (bool fired = true; fired; nth++) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		err[0] = '\0';
		fail_alloc_arm(nth);
		struct serve_state *next = serve_state_load(&config, previous, err, sizeof(err));
		fired = fail_alloc_disarm();
		if (next) {
			assert_true(same_state(next, reference));
			serve_state_release(next);
		} else {
			assert_true(fired);
			assert_true(err[0] != '\0');
		}
		/* The state being served is untouched either way. */
		assert_true(same_sets(&previous->ranges, &before.ranges));
		assert_true(same_regions(&previous->regions, &before.regions));
		assert_true(same_rules(&previous->rules, &before.rules));
	}
	print_message("reload sweep: %ld allocations\n", nth - 2);
	free_copy(&before);
	serve_state_release(reference);
	serve_state_release(previous);
	config_free(&old_config);
	config_free(&config);
	remove_files(&files);
}

/* One sample parsed into a set that already holds an entry (as when several
 * --ranges are loaded): a failure leaves the set as it was. */
static void sweep_ranges_sample(const char *path)
{
	size_t len;
	char *buf = read_file(path, &len);
	struct ip_prefix first;
	assert_true(ip_prefix_parse("203.0.113.0/24", true, &first));
	char err[256];

	struct range_set reference;
	struct region_table reference_regions;
	range_set_init(&reference);
	region_table_init(&reference_regions);
	assert_int_equal(range_set_add(&reference, &first, 1), 0);
	assert_int_equal(
	    ranges_parse_buffer(&reference, &reference_regions, path, buf, len, err, sizeof(err)),
	    0);

	long nth = 1;
	for (bool fired = true; fired; nth++) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		struct range_set set;
		struct region_table regions;
		range_set_init(&set);
		region_table_init(&regions);
		assert_int_equal(range_set_add(&set, &first, 1), 0);
		err[0] = '\0';
		fail_alloc_arm(nth);
		int rc = ranges_parse_buffer(&set, &regions, path, buf, len, err, sizeof(err));
		fired = fail_alloc_disarm();
		if (rc == 0) {
			assert_true(same_sets(&set, &reference));
		} else {
			assert_true(fired);
			assert_true(err[0] != '\0');
			assert_int_equal(set.count, 1);
			assert_memory_equal(&set.entries[0].prefix, &first, sizeof(first));
		}
		range_set_free(&set);
		region_table_free(&regions);
	}
	print_message("%s: %ld allocations\n", path, nth - 2);
	range_set_free(&reference);
	region_table_free(&reference_regions);
	free(buf);
}

static void every_failure_parsing_a_ranges_format_leaves_the_set(void **state)
{
	(void)state;
	sweep_ranges_sample(SAMPLES "aws.json");
	sweep_ranges_sample(SAMPLES "gcp.json");
	sweep_ranges_sample(SAMPLES "azure.json");
	sweep_ranges_sample(SAMPLES "text");
}

static void every_failure_parsing_mirror_rules_keeps_the_rules(void **state)
{
	(void)state;
	const char *old_text = "* http://127.0.0.1:1/old\n";
	char err[256];
	struct mirror_rules reference;
	mirror_rules_init(&reference);
	assert_int_equal(mirror_rules_parse(&reference, "rules", rules_text, strlen(rules_text),
					    err, sizeof(err)),
			 0);
	long nth = 1;
	for (bool fired = true; fired; nth++) {
		assert_true(nth < FAIL_ALLOC_MAX_STEPS);
		struct mirror_rules rules, old;
		mirror_rules_init(&rules);
		mirror_rules_init(&old);
		assert_int_equal(
		    mirror_rules_parse(&rules, "old", old_text, strlen(old_text), err, sizeof(err)),
		    0);
		assert_int_equal(
		    mirror_rules_parse(&old, "old", old_text, strlen(old_text), err, sizeof(err)),
		    0);
		err[0] = '\0';
		fail_alloc_arm(nth);
		int rc = mirror_rules_parse(&rules, "rules", rules_text, strlen(rules_text), err,
					    sizeof(err));
		fired = fail_alloc_disarm();
		if (rc == 0) {
			assert_true(same_rules(&rules, &reference));
		} else {
			assert_true(fired);
			assert_true(err[0] != '\0');
			assert_true(same_rules(&rules, &old));
		}
		mirror_rules_free(&rules);
		mirror_rules_free(&old);
	}
	print_message("mirror rules: %ld allocations\n", nth - 2);
	mirror_rules_free(&reference);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_failure_in_a_reload_keeps_the_last_good_state),
	    cmocka_unit_test(every_failure_parsing_a_ranges_format_leaves_the_set),
	    cmocka_unit_test(every_failure_parsing_mirror_rules_keeps_the_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
