#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "archeio/geo/region.h"

static void test_empty_table(void **state)
{
	(void)state;
	struct region_table t;
	region_table_init(&t);
	assert_null(region_table_get(&t, REGION_NONE));
	assert_null(region_table_get(&t, 1));
	region_table_free(&t);
}

static void test_intern_assigns_stable_ids(void **state)
{
	(void)state;
	struct region_table t;
	region_table_init(&t);
	uint32_t a = region_table_intern(&t, "aws", "us-east-1");
	uint32_t b = region_table_intern(&t, "gcp", "us-east1");
	uint32_t c = region_table_intern(&t, "gcp", "us-east-1"); /* same region, other cloud */
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(c, 3);
	assert_int_equal(region_table_intern(&t, "aws", "us-east-1"), a);
	assert_int_equal(region_table_intern(&t, "gcp", "us-east1"), b);

	const struct region_name *name = region_table_get(&t, b);
	assert_non_null(name);
	assert_string_equal(name->cloud, "gcp");
	assert_string_equal(name->region, "us-east1");
	assert_null(region_table_get(&t, 4));
	region_table_free(&t);
}

static void test_ids_survive_growth(void **state)
{
	(void)state;
	struct region_table t;
	region_table_init(&t);
	char region[32];
	for (unsigned i = 0; i < 500; i++) {
		snprintf(region, sizeof(region), "r%u", i);
		assert_int_equal(region_table_intern(&t, "c", region), i + 1);
	}
	for (unsigned i = 0; i < 500; i++) {
		snprintf(region, sizeof(region), "r%u", i);
		assert_int_equal(region_table_intern(&t, "c", region), i + 1);
		assert_string_equal(region_table_get(&t, i + 1)->region, region);
	}
	region_table_free(&t);
}

/* A ranges file may name tens of thousands of regions (an operator file with
 * one region per site): interning must stay near-linear, so it is done
 * through a hash index. No timing here (bench/region_load.sh measures it);
 * this checks that the index keeps every answer right: ids distinct and
 * stable, names found again, through growth and a copy. */
#define MANY_REGIONS 100000u

static void many_region_name(unsigned i, char *cloud, size_t cloud_len, char *region,
			     size_t region_len)
{
	/* Several clouds, and region names that repeat across clouds, so a
	 * hash of only one part would collide. */
	snprintf(cloud, cloud_len, "c%u", i % 7);
	snprintf(region, region_len, "site-%u", i / 7);
}

static void test_many_distinct_regions(void **state)
{
	(void)state;
	struct region_table t, copy;
	char cloud[16], region[32];
	region_table_init(&t);
	region_table_init(&copy);
	for (unsigned i = 0; i < MANY_REGIONS; i++) {
		many_region_name(i, cloud, sizeof(cloud), region, sizeof(region));
		uint32_t id = region_table_intern(&t, cloud, region);
		if (id != i + 1)
			fail_msg("region %u (%s:%s) got id %u", i, cloud, region, id);
	}
	assert_int_equal(t.count, MANY_REGIONS + 1);
	assert_int_equal(region_table_copy(&copy, &t), 0);
	for (unsigned i = 0; i < MANY_REGIONS; i++) {
		many_region_name(i, cloud, sizeof(cloud), region, sizeof(region));
		/* Found again by name, in the table and in its copy, without growing. */
		if (region_table_intern(&t, cloud, region) != i + 1 ||
		    region_table_intern(&copy, cloud, region) != i + 1)
			fail_msg("region %u (%s:%s) not found again", i, cloud, region);
		const struct region_name *name = region_table_get(&t, i + 1);
		assert_string_equal(name->cloud, cloud);
		assert_string_equal(name->region, region);
	}
	assert_int_equal(t.count, MANY_REGIONS + 1);
	assert_int_equal(copy.count, MANY_REGIONS + 1);
	/* A new name after all that still gets the next id, in each independently. */
	assert_int_equal(region_table_intern(&copy, "c0", "new"), MANY_REGIONS + 1);
	assert_int_equal(region_table_intern(&t, "c1", "new"), MANY_REGIONS + 1);
	assert_int_equal(region_table_intern(&t, "c0", "new"), MANY_REGIONS + 2);
	region_table_free(&t);
	region_table_free(&copy);
}

static void test_names_too_long_or_empty(void **state)
{
	(void)state;
	struct region_table t;
	region_table_init(&t);
	char cloud[REGION_CLOUD_MAX + 1];
	char region[REGION_NAME_MAX + 1];
	memset(cloud, 'c', sizeof(cloud));
	memset(region, 'r', sizeof(region));

	cloud[REGION_CLOUD_MAX - 1] = '\0'; /* 15 characters: fits */
	assert_int_not_equal(region_table_intern(&t, cloud, "r"), REGION_NONE);
	cloud[REGION_CLOUD_MAX - 1] = 'c';
	cloud[REGION_CLOUD_MAX] = '\0'; /* 16: does not */
	assert_int_equal(region_table_intern(&t, cloud, "r"), REGION_NONE);

	region[REGION_NAME_MAX - 1] = '\0'; /* 47 */
	assert_int_not_equal(region_table_intern(&t, "c", region), REGION_NONE);
	region[REGION_NAME_MAX - 1] = 'r';
	region[REGION_NAME_MAX] = '\0'; /* 48 */
	assert_int_equal(region_table_intern(&t, "c", region), REGION_NONE);

	assert_int_equal(region_table_intern(&t, "", "r"), REGION_NONE);
	assert_int_equal(region_table_intern(&t, "c", ""), REGION_NONE);
	assert_int_equal(region_table_intern(&t, NULL, "r"), REGION_NONE);
	assert_int_equal(region_table_intern(&t, "c", NULL), REGION_NONE);
	region_table_free(&t);
}

static void test_copy_is_independent(void **state)
{
	(void)state;
	struct region_table src, dst;
	region_table_init(&src);
	region_table_init(&dst);
	region_table_intern(&src, "aws", "eu-west-1");
	region_table_intern(&src, "azure", "westeurope");
	region_table_intern(&dst, "old", "stuff");
	region_table_intern(&dst, "old", "more");
	region_table_intern(&dst, "old", "most");

	assert_int_equal(region_table_copy(&dst, &src), 0);
	assert_int_equal(dst.count, src.count);
	assert_string_equal(region_table_get(&dst, 2)->region, "westeurope");
	assert_null(region_table_get(&dst, 3));
	/* Growing the copy keeps existing ids and leaves the source alone. */
	assert_int_equal(region_table_intern(&dst, "gcp", "europe-west1"), 3);
	assert_int_equal(region_table_intern(&dst, "aws", "eu-west-1"), 1);
	assert_null(region_table_get(&src, 3));

	struct region_table empty;
	region_table_init(&empty);
	assert_int_equal(region_table_copy(&dst, &empty), 0);
	assert_null(region_table_get(&dst, 1));
	assert_int_equal(region_table_intern(&dst, "x", "y"), 1);

	region_table_free(&src);
	region_table_free(&dst);
	region_table_free(&empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_table),
	    cmocka_unit_test(test_intern_assigns_stable_ids),
	    cmocka_unit_test(test_ids_survive_growth),
	    cmocka_unit_test(test_names_too_long_or_empty),
	    cmocka_unit_test(test_copy_is_independent),
	    cmocka_unit_test(test_many_distinct_regions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
