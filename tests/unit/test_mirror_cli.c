/* archeio-mirror's flags. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/mirrortool/cli.h"

#define ARGV(...) ((char *[]){"archeio-mirror", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"archeio-mirror", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, err, ...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void test_full_dir(void **state)
{
	(void)state;
	struct mirror_options o;
	char err[200];
	assert_int_equal(
	    PARSE(&o, err, "--from", "http://127.0.0.1:5000/", "--repo", "test/img", "--repo",
		  "other", "--to", "/tmp/m", "--concurrency", "8", "--rps", "2.5", "--dry-run",
		  "--ref", "v1", "--ref",
		  "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		  "--retries", "0", "--state-dir", "/tmp/s", "--catalog"),
	    CLI_OK);
	assert_true(cli_validate(&o, err, sizeof(err)));
	assert_string_equal(o.from, "http://127.0.0.1:5000");
	assert_int_equal(o.repo_count, 2);
	assert_string_equal(o.repos[1], "other");
	assert_int_equal(o.dest_count, 1);
	assert_int_equal(o.dests[0].kind, MIRROR_DEST_DIR);
	assert_string_equal(o.dests[0].dir, "/tmp/m");
	assert_int_equal(o.concurrency, 8);
	assert_true(o.rps > 2.49 && o.rps < 2.51);
	assert_true(o.dry_run);
	assert_true(o.catalog);
	assert_int_equal(o.ref_count, 2);
	assert_int_equal(o.retries, 0);
	assert_string_equal(o.state_dir, "/tmp/s");
	cli_options_free(&o);
}

static void test_defaults_and_s3(void **state)
{
	(void)state;
	struct mirror_options o;
	char err[200];
	assert_int_equal(PARSE(&o, err, "--from=https://reg.test", "--repo=a", "--to",
			       "s3://my-bucket//mirror/prefix/", "--s3-endpoint",
			       "http://127.0.0.1:9", "--s3-region", "eu-west-1"),
			 CLI_OK);
	assert_true(cli_validate(&o, err, sizeof(err)));
	assert_int_equal(o.dests[0].kind, MIRROR_DEST_S3);
	assert_string_equal(o.dests[0].bucket, "my-bucket");
	assert_string_equal(o.dests[0].prefix, "mirror/prefix");
	assert_null(o.dests[0].endpoint);
	assert_null(o.dests[0].region);
	assert_string_equal(o.s3_region, "eu-west-1");
	assert_int_equal(o.concurrency, 4);
	assert_int_equal(o.retries, 4);
	assert_true(o.rps == 0);
	assert_false(o.dry_run);
	assert_int_equal(o.s3_part_size, 64ULL << 20);
	assert_int_equal(o.s3_part_concurrency, 4);
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--from", "http://r", "--repo", "a", "--to", "s3://b"),
			 CLI_OK);
	assert_string_equal(o.dests[0].prefix, "");
	cli_options_free(&o);
}

/* --to repeats: directories and S3 buckets mixed, each S3 one with its own
 * endpoint and region when it says so. */
static void test_fan_out(void **state)
{
	(void)state;
	struct mirror_options o;
	char err[200];
	assert_int_equal(PARSE(&o, err, "--from", "http://r", "--repo", "a", "--to", "/srv/m",
			       "--to", "s3://b1/p?endpoint=http://127.0.0.1:9000&region=eu-west-1",
			       "--to", "s3://b2?region=us-west-2", "--to", "s3://b3/x/",
			       "--s3-endpoint", "http://127.0.0.1:9", "--s3-part-size", "5MiB",
			       "--s3-part-concurrency", "2"),
			 CLI_OK);
	assert_true(cli_validate(&o, err, sizeof(err)));
	assert_int_equal(o.dest_count, 4);
	assert_int_equal(o.dests[0].kind, MIRROR_DEST_DIR);
	assert_string_equal(o.dests[0].dir, "/srv/m");
	assert_int_equal(o.dests[1].kind, MIRROR_DEST_S3);
	assert_string_equal(o.dests[1].bucket, "b1");
	assert_string_equal(o.dests[1].prefix, "p");
	assert_string_equal(o.dests[1].endpoint, "http://127.0.0.1:9000");
	assert_string_equal(o.dests[1].region, "eu-west-1");
	assert_string_equal(o.dests[2].bucket, "b2");
	assert_string_equal(o.dests[2].prefix, "");
	assert_null(o.dests[2].endpoint);
	assert_string_equal(o.dests[2].region, "us-west-2");
	assert_string_equal(o.dests[3].prefix, "x");
	assert_null(o.dests[3].region);
	assert_string_equal(o.dests[3].text, "s3://b3/x/");
	assert_int_equal(o.s3_part_size, 5ULL << 20);
	assert_int_equal(o.s3_part_concurrency, 2);
	cli_options_free(&o);
}

static void test_sizes(void **state)
{
	(void)state;
	unsigned long long v = 0;
	assert_true(cli_parse_size("5242880", &v));
	assert_int_equal(v, 5242880);
	assert_true(cli_parse_size("64MiB", &v));
	assert_int_equal(v, 64ULL << 20);
	assert_true(cli_parse_size("1GiB", &v));
	assert_int_equal(v, 1ULL << 30);
	assert_true(cli_parse_size("8KiB", &v));
	assert_int_equal(v, 8192);
	assert_false(cli_parse_size("", &v));
	assert_false(cli_parse_size("-5MiB", &v));
	assert_false(cli_parse_size("5MB", &v));
	assert_false(cli_parse_size("5 MiB", &v));
	assert_false(cli_parse_size("99999999999999999999", &v));
	/* Fits as a number, not once multiplied by its unit. */
	assert_true(cli_parse_size("17179869183GiB", &v));
	assert_true(v == 17179869183ULL << 30);
	assert_false(cli_parse_size("17179869184GiB", &v));
}

static void expect_error(enum cli_result got, struct mirror_options *o, const char *err,
			 const char *needle)
{
	assert_int_equal(got, CLI_ERROR);
	assert_non_null(strstr(err, needle));
	cli_options_free(o);
}

/* --verify takes an optional value: bare it means "size". */
static void test_verify_and_source_flags(void **state)
{
	(void)state;
	struct mirror_options o;
	char err[200];
	assert_int_equal(PARSE(&o, err, "--from", "https://r", "--repo", "a", "--to", "/m"),
			 CLI_OK);
	assert_int_equal(o.verify, MIRROR_VERIFY_OFF);
	assert_null(o.auth_file);
	assert_null(o.ca_file);
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--verify", "--from", "https://r", "--repo", "a", "--to",
			       "/m", "--auth-file", "/a.json", "--ca-file", "/ca.pem"),
			 CLI_OK);
	assert_int_equal(o.verify, MIRROR_VERIFY_SIZE);
	assert_string_equal(o.auth_file, "/a.json");
	assert_string_equal(o.ca_file, "/ca.pem");
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--verify=digest", "--from", "https://r"), CLI_OK);
	assert_int_equal(o.verify, MIRROR_VERIFY_DIGEST);
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--verify=sha1"), CLI_ERROR);
	assert_non_null(strstr(err, "--verify"));
	cli_options_free(&o);
}

static void test_bad_flags(void **state)
{
	(void)state;
	struct mirror_options o;
	char err[200];
	expect_error(PARSE(&o, err, "--bogus"), &o, err, "--bogus");
	expect_error(PARSE(&o, err, "--from"), &o, err, "--from");
	expect_error(PARSE(&o, err, "--from", "ftp://x"), &o, err, "not an http");
	expect_error(PARSE(&o, err, "--from", "http:///v2"), &o, err, "not an http");
	expect_error(PARSE(&o, err, "--from", "https://?x"), &o, err, "not an http");
	expect_error(PARSE(&o, err, "--to", "s3://b?endpoint=http://"), &o, err, "not an http");
	expect_error(PARSE(&o, err, "--repo", "Upper/Case"), &o, err, "Upper/Case");
	expect_error(PARSE(&o, err, "--repo", "a//b"), &o, err, "a//b");
	expect_error(PARSE(&o, err, "--concurrency", "0"), &o, err, "--concurrency");
	expect_error(PARSE(&o, err, "--concurrency", "-3"), &o, err, "--concurrency");
	expect_error(PARSE(&o, err, "--concurrency", "4x"), &o, err, "4x");
	expect_error(PARSE(&o, err, "--rps", "-1"), &o, err, "--rps");
	expect_error(PARSE(&o, err, "--rps", "nan"), &o, err, "--rps");
	expect_error(PARSE(&o, err, "--retries", "21"), &o, err, "--retries");
	expect_error(PARSE(&o, err, "--to", "s3:///x"), &o, err, "bucket");
	expect_error(PARSE(&o, err, "--to", "s3://Bad_Bucket"), &o, err, "bad character");
	expect_error(PARSE(&o, err, "--ref", "sha256:abc"), &o, err, "--ref");
	expect_error(PARSE(&o, err, "--ref", "-tag"), &o, err, "--ref");
	expect_error(PARSE(&o, err, "stray"), &o, err, "stray");
	expect_error(PARSE(&o, err, "--to", "s3://b?color=red"), &o, err, "unknown setting");
	expect_error(PARSE(&o, err, "--to", "s3://b?endpoint=ftp://x"), &o, err, "not an http");
	expect_error(PARSE(&o, err, "--to", "s3://b?region"), &o, err, "needs a value");
	expect_error(PARSE(&o, err, "--to", "s3://b?region=a&region=b"), &o, err, "twice");
	expect_error(PARSE(&o, err, "--to", "s3://?region=a"), &o, err, "bucket");
	expect_error(PARSE(&o, err, "--s3-part-size", "4MiB"), &o, err, "--s3-part-size");
	expect_error(PARSE(&o, err, "--s3-part-size", "6GiB"), &o, err, "--s3-part-size");
	expect_error(PARSE(&o, err, "--s3-part-concurrency", "0"), &o, err,
		     "--s3-part-concurrency");
	expect_error(PARSE(&o, err, "--to", ""), &o, err, "--to: empty destination");
	expect_error(PARSE(&o, err, "--s3-region", "eu/west"), &o, err,
		     "--s3-region: \"eu/west\" is not a region");
	expect_error(PARSE(&o, err, "--to", "s3://b?region=eu/west"), &o, err,
		     "\"eu/west\" is not a region");
}

static void test_help_and_validate(void **state)
{
	(void)state;
	struct mirror_options o;
	char err[200];
	assert_int_equal(PARSE(&o, err, "--repo", "a", "--help"), CLI_HELP);
	cli_options_free(&o);
	char *usage = NULL;
	size_t usage_len = 0;
	FILE *out = open_memstream(&usage, &usage_len);
	assert_non_null(out);
	cli_print_usage(out);
	fclose(out);
	assert_non_null(strstr(usage, "--from URL"));
	free(usage);
	assert_int_equal(PARSE(&o, err, "--repo", "a", "--to", "/d"), CLI_OK);
	assert_false(cli_validate(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "--from"));
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--from", "http://r", "--to", "/d"), CLI_OK);
	assert_false(cli_validate(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "no repository"));
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--from", "http://r", "--repo", "a"), CLI_OK);
	assert_false(cli_validate(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "--to"));
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--from", "http://r", "--repo", "a", "--to", "/d",
			       "--s3-endpoint", "http://x"),
			 CLI_OK);
	assert_false(cli_validate(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "s3://"));
	cli_options_free(&o);
}

static void test_repos_text(void **state)
{
	(void)state;
	struct mirror_options o;
	char err[200];
	assert_int_equal(PARSE(&o, err, "--repo", "first"), CLI_OK);
	assert_true(cli_add_repos_text(&o,
				       "# comment\n  pause  \n\nkube-apiserver # trailing\r\n"
				       "a/b__c-d.e",
				       "repos.txt", err, sizeof(err)));
	assert_int_equal(o.repo_count, 4);
	assert_string_equal(o.repos[1], "pause");
	assert_string_equal(o.repos[2], "kube-apiserver");
	assert_string_equal(o.repos[3], "a/b__c-d.e");
	assert_false(cli_add_repos_text(&o, "ok\nnot ok\n", "repos.txt", err, sizeof(err)));
	assert_string_equal(err, "repos.txt:2: \"not ok\" is not a valid repository name");
	cli_options_free(&o);
}

static void test_names_and_refs(void **state)
{
	(void)state;
	assert_true(cli_repo_name_valid("registry.k8s.io/pause"));
	assert_true(cli_repo_name_valid("a--b"));
	assert_false(cli_repo_name_valid("a___b"));
	assert_false(cli_repo_name_valid("/a"));
	assert_false(cli_repo_name_valid("a/"));
	assert_false(cli_repo_name_valid("a/../b"));
	assert_true(cli_ref_valid("v1.2.3-rc_1"));
	assert_true(cli_ref_valid("_x"));
	assert_false(cli_ref_valid(".x"));
	assert_false(cli_ref_valid("a/b"));
	assert_false(cli_ref_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_dir),
	    cmocka_unit_test(test_defaults_and_s3),
	    cmocka_unit_test(test_verify_and_source_flags),
	    cmocka_unit_test(test_bad_flags),
	    cmocka_unit_test(test_help_and_validate),
	    cmocka_unit_test(test_repos_text),
	    cmocka_unit_test(test_names_and_refs),
	    cmocka_unit_test(test_fan_out),
	    cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
