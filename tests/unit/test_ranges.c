#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archeio/geo/ranges.h"
#include "geo/ranges_internal.h"
#include "helpers/ranges_detect.h"

#define SHARED_DATA "../shared/data"

struct fixture {
	struct range_set set;
	struct region_table regions;
	char err[512];
	char dir[64]; /* a test's temporary directory, removed by teardown */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	range_set_init(&f->set);
	region_table_init(&f->regions);
	*state = f;
	return 0;
}

static void rm_tree(const char *dir);

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->dir[0] != '\0')
		rm_tree(f->dir); /* also after a failed assertion */
	range_set_free(&f->set);
	region_table_free(&f->regions);
	free(f);
	return 0;
}

static int parse(struct fixture *f, const char *name, const char *text)
{
	f->err[0] = '\0';
	return ranges_parse_buffer(&f->set, &f->regions, name, text, strlen(text), f->err,
				   sizeof(f->err));
}

/* Parsing must fail with exactly this message and leave the set as it was. */
static void assert_parse_error(struct fixture *f, const char *name, const char *text,
			       const char *want)
{
	size_t before = f->set.count;
	assert_int_equal(parse(f, name, text), -1);
	assert_string_equal(f->err, want);
	assert_int_equal(f->set.count, before);
}

/* Entry i is prefix_text in (cloud, region). */
static void assert_entry(const struct fixture *f, size_t i, const char *prefix_text,
			 const char *cloud, const char *region)
{
	assert_true(i < f->set.count);
	struct ip_prefix want;
	assert_true(ip_prefix_parse(prefix_text, true, &want));
	const struct range_entry *e = &f->set.entries[i];
	assert_int_equal(e->prefix.addr.family, want.addr.family);
	assert_memory_equal(e->prefix.addr.bytes, want.addr.bytes, 16);
	assert_int_equal(e->prefix.len, want.len);
	const struct region_name *name = region_table_get(&f->regions, e->region_id);
	assert_non_null(name);
	assert_string_equal(name->cloud, cloud);
	assert_string_equal(name->region, region);
}

static enum ranges_format detect(const char *text)
{
	return ranges_detect_format(text, strlen(text));
}

static const char aws_json[] =
    "{\"syncToken\": \"1\", \"prefixes\": [\n"
    " {\"ip_prefix\": \"3.5.140.0/22\", \"region\": \"ap-northeast-2\", \"service\": \"AMAZON\"},\n"
    " {\"ip_prefix\": \"52.94.76.0/22\", \"region\": \"us-west-2\", \"service\": \"EC2\"}\n"
    "], \"ipv6_prefixes\": [\n"
    " {\"ipv6_prefix\": \"2600:1f14::/35\", \"region\": \"us-west-2\", \"service\": \"EC2\"}\n"
    "]}\n";

static const char gcp_json[] =
    "{\"syncToken\": \"1\", \"prefixes\": [{\n"
    "  \"ipv4Prefix\": \"34.1.208.0/20\", \"scope\": \"africa-south1\"\n"
    "}, {\n"
    "  \"ipv6Prefix\": \"2600:1900:8000::/44\", \"scope\": \"us-east1\"\n"
    "}]}\n";

static const char azure_json[] =
    "\xef\xbb\xbf{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [\n"
    " {\"name\": \"AzureCloud\", \"properties\": {\"region\": \"\",\n"
    "   \"addressPrefixes\": [\"1.0.0.0/8\"]}},\n"
    " {\"name\": \"AzureCloud.eastus\", \"properties\": {\"region\": \"eastus\",\n"
    "   \"addressPrefixes\": [\"20.42.0.0/17\", \"2603:1030:210::/47\"]}},\n"
    " {\"name\": \"AzureCloud.brazilne\", \"properties\": {\"region\": \"\",\n"
    "   \"addressPrefixes\": [\"20.195.0.0/18\"]}},\n"
    " {\"name\": \"Storage.EastUS\", \"properties\": {\"region\": \"eastus\",\n"
    "   \"addressPrefixes\": [\"2.0.0.0/8\"]}}\n"
    "]}\n";

static const char text_ranges[] = "# operator overrides\n"
				  "\n"
				  "198.51.100.0/24 onprem dc-1   # trailing comment\n"
				  "\t2001:db8::/32\tonprem\tdc_2\r\n"
				  "   # indented comment\n"
				  "203.0.113.7 corp hq/floor-3";

static void test_aws(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "aws.json", aws_json), 0);
	assert_int_equal(f->set.count, 3);
	assert_entry(f, 0, "3.5.140.0/22", "aws", "ap-northeast-2");
	assert_entry(f, 1, "52.94.76.0/22", "aws", "us-west-2");
	assert_entry(f, 2, "2600:1f14::/35", "aws", "us-west-2");
	assert_int_equal(f->set.entries[1].region_id, f->set.entries[2].region_id);
	assert_int_equal(detect(aws_json), RANGES_FORMAT_AWS);
}

static void test_gcp(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "gcp.json", gcp_json), 0);
	assert_int_equal(f->set.count, 2);
	assert_entry(f, 0, "34.1.208.0/20", "gcp", "africa-south1");
	assert_entry(f, 1, "2600:1900:8000::/44", "gcp", "us-east1");
	assert_int_equal(detect(gcp_json), RANGES_FORMAT_GCP);
}

static void test_azure_regional_tags_only(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "azure.json", azure_json), 0);
	assert_int_equal(f->set.count, 3);
	assert_entry(f, 0, "20.42.0.0/17", "azure", "eastus");
	assert_entry(f, 1, "2603:1030:210::/47", "azure", "eastus");
	/* Empty properties.region: the region comes from the tag name. */
	assert_entry(f, 2, "20.195.0.0/18", "azure", "brazilne");
	assert_int_equal(detect(azure_json), RANGES_FORMAT_AZURE);
}

static void test_text(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "ops.txt", text_ranges), 0);
	assert_int_equal(f->set.count, 3);
	assert_entry(f, 0, "198.51.100.0/24", "onprem", "dc-1");
	assert_entry(f, 1, "2001:db8::/32", "onprem", "dc_2");
	assert_entry(f, 2, "203.0.113.7/32", "corp", "hq/floor-3");
	assert_int_equal(detect(text_ranges), RANGES_FORMAT_TEXT);
}

static void test_text_only_comments_is_empty(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "empty.txt", "# nothing here yet\n\n   \n# still nothing\n"), 0);
	assert_int_equal(parse(f, "blank.txt", ""), 0);
	assert_int_equal(f->set.count, 0);
	assert_int_equal(detect("# only a comment\n"), RANGES_FORMAT_TEXT);
}

static void test_detect_unknown(void **state)
{
	(void)state;
	assert_int_equal(detect("{\"foo\": 1}"), RANGES_FORMAT_UNKNOWN);
	assert_int_equal(detect("[1, 2]"), RANGES_FORMAT_UNKNOWN);
	assert_int_equal(detect("{\"prefixes\": [{\"cidr\": \"1.0.0.0/8\"}]}"),
			 RANGES_FORMAT_UNKNOWN);
	assert_int_equal(detect("{broken"), RANGES_FORMAT_UNKNOWN);
	assert_int_equal(detect("<html><body>Download</body></html>\n"), RANGES_FORMAT_UNKNOWN);
	assert_int_equal(detect("10.0.0.0/8 aws us-east-1\nnot a range\n"), RANGES_FORMAT_UNKNOWN);
	assert_string_equal(ranges_format_name(RANGES_FORMAT_AWS), "aws");
	assert_string_equal(ranges_format_name(RANGES_FORMAT_GCP), "gcp");
	assert_string_equal(ranges_format_name(RANGES_FORMAT_AZURE), "azure");
	assert_string_equal(ranges_format_name(RANGES_FORMAT_TEXT), "text");
	assert_string_equal(ranges_format_name(RANGES_FORMAT_UNKNOWN), "unknown");
}

static void test_unknown_format_errors(void **state)
{
	struct fixture *f = *state;
	assert_parse_error(f, "x.json", "{\"foo\": 1}",
			   "x.json: JSON but not a known ranges format (want AWS ip-ranges.json, "
			   "GCP cloud.json or Azure service tags)");
	assert_parse_error(f, "page.html", "<html>\n<body>Download</body></html>\n",
			   "page.html:1: not a known ranges format (AWS, GCP or Azure JSON, or "
			   "text lines 'CIDR CLOUD REGION'): 1 field, want 'CIDR CLOUD "
			   "REGION'");
	assert_parse_error(f, "bin",
			   "\x7f"
			   "ELF\x02\x01\x01",
			   "bin:1: not a known ranges format (AWS, GCP or Azure JSON, or text "
			   "lines 'CIDR CLOUD REGION'): 1 field, want 'CIDR CLOUD "
			   "REGION'");
}

static void test_json_syntax_error_has_position(void **state)
{
	struct fixture *f = *state;
	assert_parse_error(f, "aws.json", "{\"prefixes\": [\n  {\"ip_prefix\": \"1.0.0.0/8\",}\n]}",
			   "aws.json:2: invalid JSON at column 29: string or '}' expected "
			   "near '}'");
}

static void test_aws_errors(void **state)
{
	struct fixture *f = *state;
	assert_parse_error(
	    f, "aws.json",
	    "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"r\"}, {\"ip_prefix\": "
	    "\"3.0.0.0/33\", \"region\": \"us-east-1\"}]}",
	    "aws.json: prefixes[1].ip_prefix: bad CIDR \"3.0.0.0/33\"");
	assert_parse_error(f, "aws.json", "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\"}]}",
			   "aws.json: prefixes[0]: missing string field \"region\"");
	assert_parse_error(f, "aws.json",
			   "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"r\"}, "
			   "{\"region\": \"r\"}]}",
			   "aws.json: prefixes[1]: missing string field \"ip_prefix\"");
	assert_parse_error(f, "aws.json",
			   "{\"prefixes\": [], \"ipv6_prefixes\": [{\"ipv6_prefix\": "
			   "\"2600:zz::/32\", \"region\": \"r\"}]}",
			   "aws.json: ipv6_prefixes[0].ipv6_prefix: bad CIDR \"2600:zz::/32\"");
	assert_parse_error(f, "aws.json",
			   "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"us "
			   "east\"}]}",
			   "aws.json: prefixes[0]: bad region name \"us east\"");
	assert_parse_error(f, "aws.json",
			   "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": "
			   "\"a-region-name-that-is-far-too-long-to-fit-the-table\"}]}",
			   "aws.json: prefixes[0]: bad region name "
			   "\"a-region-name-that-is-far-too-long-to-fit-the-table\"");
	assert_parse_error(f, "aws.json",
			   "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"r\"}], "
			   "\"ipv6_prefixes\": 5}",
			   "aws.json: ipv6_prefixes: not an array");
}

static void test_gcp_errors(void **state)
{
	struct fixture *f = *state;
	assert_parse_error(
	    f, "gcp.json",
	    "{\"prefixes\": [{\"ipv4Prefix\": \"34.0.0.0/8\", \"scope\": \"s\"}, {\"scope\": "
	    "\"s\"}]}",
	    "gcp.json: prefixes[1]: missing string field \"ipv4Prefix\" or \"ipv6Prefix\"");
	assert_parse_error(f, "gcp.json", "{\"prefixes\": [{\"ipv6Prefix\": \"2600::/16\"}]}",
			   "gcp.json: prefixes[0]: missing string field \"scope\"");
	assert_parse_error(
	    f, "gcp.json",
	    "{\"prefixes\": [{\"ipv4Prefix\": \"34.0.0.256/32\", \"scope\": \"s\"}]}",
	    "gcp.json: prefixes[0].ipv4Prefix: bad CIDR \"34.0.0.256/32\"");
}

static void test_azure_errors(void **state)
{
	struct fixture *f = *state;
	assert_parse_error(f, "az.json",
			   "{\"values\": [{\"name\": \"AzureCloud.eastus\", \"properties\": "
			   "{\"region\": \"eastus\", \"addressPrefixes\": [\"20.0.0.0/8\", "
			   "\"300.0.0.0/8\"]}}]}",
			   "az.json: values[0] (AzureCloud.eastus).properties.addressPrefixes[1]: "
			   "bad CIDR \"300.0.0.0/8\"");
	assert_parse_error(
	    f, "az.json",
	    "{\"values\": [{\"name\": \"Other\"}, {\"name\": \"AzureCloud.eastus\"}]}",
	    "az.json: values[1] (AzureCloud.eastus): missing object field "
	    "\"properties\"");
	assert_parse_error(f, "az.json",
			   "{\"values\": [{\"name\": \"AzureCloud.eastus\", \"properties\": "
			   "{\"region\": \"x\"}}]}",
			   "az.json: values[0] (AzureCloud.eastus): missing array field "
			   "\"properties.addressPrefixes\"");
	assert_parse_error(f, "az.json",
			   "{\"values\": [{\"name\": \"AzureCloud.eastus\", \"properties\": "
			   "{\"addressPrefixes\": [7]}}]}",
			   "az.json: values[0] (AzureCloud.eastus).properties.addressPrefixes[0]: "
			   "not a string");
	assert_parse_error(f, "az.json", "{\"values\": [{\"id\": \"AzureCloud.eastus\"}]}",
			   "az.json: values[0]: missing string field \"name\"");
}

static void test_text_errors(void **state)
{
	struct fixture *f = *state;
	const char *ok = "10.0.0.0/8 aws us-east-1\n";
	char buf[256];
	struct {
		const char *line;
		const char *want;
	} cases[] = {
	    {"10.0.0/8 aws r", "ops.txt:2: bad CIDR \"10.0.0/8\""},
	    {"10.0.0.1/8 aws r", "ops.txt:2: CIDR \"10.0.0.1/8\" has host bits set (the network is "
				 "10.0.0.0/8)"},
	    {"2001:db8::1/32 aws r",
	     "ops.txt:2: CIDR \"2001:db8::1/32\" has host bits set (the network is "
	     "2001:db8::/32)"},
	    {"10.1.0.0/16 aws", "ops.txt:2: 2 fields, want 'CIDR CLOUD REGION'"},
	    {"10.1.0.0/16 aws r extra", "ops.txt:2: 4 fields, want 'CIDR CLOUD REGION'"},
	    {"10.1.0.0/16 AWS r",
	     "ops.txt:2: bad cloud name \"AWS\" (want [a-z0-9_-], 1 to 15 characters)"},
	    {"10.1.0.0/16 a.b r",
	     "ops.txt:2: bad cloud name \"a.b\" (want [a-z0-9_-], 1 to 15 characters)"},
	    {"10.1.0.0/16 abcdefghijklmnop r",
	     "ops.txt:2: bad cloud name \"abcdefghijklmnop\" (want [a-z0-9_-], 1 to 15 "
	     "characters)"},
	    {"10.1.0.0/16 aws r\x01x",
	     "ops.txt:2: bad region name \"r?x\" (want printable characters without "
	     "spaces, 1 to 47 characters)"},
	    {"10.1.0.0/16 aws 123456789012345678901234567890123456789012345678",
	     "ops.txt:2: bad region name "
	     "\"123456789012345678901234567890123456789012345678\" (want printable characters "
	     "without spaces, 1 to 47 characters)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s\n", ok, cases[i].line);
		assert_parse_error(f, "ops.txt", buf, cases[i].want);
	}
	/* 47 characters fits. */
	assert_int_equal(
	    parse(f, "ok.txt",
		  "10.1.0.0/16 abcdefghijklmno 12345678901234567890123456789012345678901234567"),
	    0);

	static const char with_nul[] = "10.0.0.0/8 aws r\n10.1.0.0/16 aws\0r\n";
	size_t before = f->set.count;
	assert_int_equal(ranges_parse_buffer(&f->set, &f->regions, "nul.txt", with_nul,
					     sizeof(with_nul) - 1, f->err, sizeof(f->err)),
			 -1);
	assert_string_equal(f->err, "nul.txt:2: contains a NUL byte");
	assert_int_equal(f->set.count, before);
}

static void test_error_keeps_earlier_entries(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "aws.json", aws_json), 0);
	assert_parse_error(f, "ops.txt", "192.0.2.0/24 x y\n192.0.2.0/33 x y\n",
			   "ops.txt:2: bad CIDR \"192.0.2.0/33\"");
	assert_int_equal(f->set.count, 3);
	assert_entry(f, 2, "2600:1f14::/35", "aws", "us-west-2");
}

static void test_long_token_is_truncated_in_error(void **state)
{
	struct fixture *f = *state;
	char buf[400];
	char token[201];
	memset(token, '9', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	snprintf(buf, sizeof(buf), "10.0.0.0/8 a b\n%s aws r\n", token);
	assert_int_equal(parse(f, "ops.txt", buf), -1);
	char want[200];
	snprintf(want, sizeof(want), "ops.txt:2: bad CIDR \"%.64s...\"", token);
	assert_string_equal(f->err, want);
}

static void test_finish_sorts_and_last_wins(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "a.txt",
			       "2001:db8::/32 a six\n"
			       "10.1.0.0/16 a first\n"
			       "10.0.0.0/8 a eight\n"
			       "10.1.0.0/16 b second\n"
			       "10.0.0.0/16 a sixteen\n"),
			 0);
	assert_int_equal(parse(f, "b.txt", "10.1.0.0/16 c third\n2001:db8::/32 c six\n"), 0);
	assert_int_equal(ranges_finish(&f->set), 0);
	assert_int_equal(f->set.count, 4);
	assert_entry(f, 0, "10.0.0.0/8", "a", "eight");
	assert_entry(f, 1, "10.0.0.0/16", "a", "sixteen");
	assert_entry(f, 2, "10.1.0.0/16", "c", "third");
	assert_entry(f, 3, "2001:db8::/32", "c", "six");

	struct range_set empty;
	range_set_init(&empty);
	assert_int_equal(ranges_finish(&empty), 0);
	assert_int_equal(empty.count, 0);
}

static void test_count_by_cloud(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "aws.json", aws_json), 0);
	assert_int_equal(parse(f, "gcp.json", gcp_json), 0);
	assert_int_equal(parse(f, "ops.txt", text_ranges), 0);
	struct ranges_cloud_count counts[8];
	size_t n = ranges_count_by_cloud(&f->set, &f->regions, counts, 8);
	assert_int_equal(n, 4);
	assert_string_equal(counts[0].cloud, "aws");
	assert_int_equal(counts[0].v4, 2);
	assert_int_equal(counts[0].v6, 1);
	assert_string_equal(counts[1].cloud, "gcp");
	assert_int_equal(counts[1].v4, 1);
	assert_int_equal(counts[1].v6, 1);
	assert_string_equal(counts[2].cloud, "onprem");
	assert_int_equal(counts[2].v4, 1);
	assert_int_equal(counts[2].v6, 1);
	assert_string_equal(counts[3].cloud, "corp");
	assert_int_equal(counts[3].v4, 1);
	assert_int_equal(counts[3].v6, 0);
	/* Capped at max: later clouds are not counted. */
	assert_int_equal(ranges_count_by_cloud(&f->set, &f->regions, counts, 2), 2);
	assert_string_equal(counts[1].cloud, "gcp");
}

/* Writes dir/name; the test fails if it cannot. */
static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void rm_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static char *make_temp_dir(struct fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/archeio-test-ranges-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	return f->dir;
}

static void test_directory_loading(void **state)
{
	struct fixture *f = *state;
	const char *dir = make_temp_dir(f);
	write_file(dir, "b-operator.txt", "10.1.0.0/16 onprem dc-b\n");
	write_file(dir, "a-aws.json", aws_json);
	write_file(dir, "C-upper.txt", "10.1.0.0/16 onprem dc-C\n"); /* 'C' < 'a' byte-wise */
	write_file(dir, ".hidden.txt", "this is not a ranges file\n");
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/subdir", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(sub, "ignored.txt", "not ranges either\n");
	char link_path[600];
	snprintf(link_path, sizeof(link_path), "%s/d-link.txt", dir);
	assert_int_equal(symlink("b-operator.txt", link_path), 0);

	int rc = ranges_load_path(&f->set, &f->regions, dir, f->err, sizeof(f->err));
	if (rc != 0)
		fail_msg("%s", f->err);
	/* C-upper (1), a-aws (3), b-operator (1), d-link (1). */
	assert_int_equal(f->set.count, 6);
	assert_entry(f, 0, "10.1.0.0/16", "onprem", "dc-C");
	assert_entry(f, 1, "3.5.140.0/22", "aws", "ap-northeast-2");
	assert_entry(f, 4, "10.1.0.0/16", "onprem", "dc-b");
	assert_int_equal(ranges_finish(&f->set), 0);
	assert_int_equal(f->set.count, 4);
	assert_entry(f, 1, "10.1.0.0/16", "onprem", "dc-b");

	/* One bad file fails the whole directory and is named. */
	write_file(dir, "c-bad.txt", "# ok so far\n10.2.0.0/16 onprem x\n10.3.0.0/16 onprem\n");
	size_t before = f->set.count;
	assert_int_equal(ranges_load_path(&f->set, &f->regions, dir, f->err, sizeof(f->err)), -1);
	char want[700];
	snprintf(want, sizeof(want), "%s/c-bad.txt:3: 2 fields, want 'CIDR CLOUD REGION'", dir);
	assert_string_equal(f->err, want);
	assert_int_equal(f->set.count, before);

	/* A single file path. */
	char file[600];
	snprintf(file, sizeof(file), "%s/a-aws.json", dir);
	range_set_free(&f->set);
	assert_int_equal(ranges_load_path(&f->set, &f->regions, file, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->set.count, 3);
}

static void test_directory_empty_and_missing(void **state)
{
	struct fixture *f = *state;
	const char *dir = make_temp_dir(f);
	assert_int_equal(ranges_load_path(&f->set, &f->regions, dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->set.count, 0);

	char missing[600];
	snprintf(missing, sizeof(missing), "%s/nope.json", dir);
	assert_int_equal(ranges_load_path(&f->set, &f->regions, missing, f->err, sizeof(f->err)),
			 -1);
	char want[700];
	snprintf(want, sizeof(want), "%s: No such file or directory", missing);
	assert_string_equal(f->err, want);

	char dangling[600];
	snprintf(dangling, sizeof(dangling), "%s/dangling.txt", dir);
	assert_int_equal(symlink("nope.txt", dangling), 0);
	assert_int_equal(ranges_load_path(&f->set, &f->regions, dir, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", dangling);
	assert_string_equal(f->err, want);

	assert_int_equal(
	    ranges_load_path(&f->set, &f->regions, "/dev/null", f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "/dev/null: not a regular file or directory");
	assert_int_equal(ranges_load_path(&f->set, &f->regions, "", f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "empty ranges path");

	/* Sparse, so it takes no disk space; refused before any reading. */
	char huge[600];
	snprintf(huge, sizeof(huge), "%s/huge.json", dir);
	int fd = open(huge, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 300 * 1024 * 1024), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(ranges_load_path(&f->set, &f->regions, huge, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: too large (314572800 bytes, at most 268435456)", huge);
	assert_string_equal(f->err, want);
}

/* Files are read to EOF, not to st_size: procfs reports size 0 for files with
 * content, and a read error is reported, not taken for the end. */
static void test_read_to_eof_and_read_errors(void **state)
{
	struct fixture *f = *state;
	/* /proc/self/mountinfo: st_size 0, several KB of text that is not ranges. */
	assert_int_equal(
	    ranges_load_path(&f->set, &f->regions, "/proc/self/mountinfo", f->err, sizeof(f->err)),
	    -1);
	/* content was read (line 1), not taken for an empty file */
	assert_non_null(strstr(f->err, "/proc/self/mountinfo:1: not a known ranges format"));
	/* Reading /proc/self/mem at offset 0 (unmapped) fails with EIO. */
	assert_int_equal(
	    ranges_load_path(&f->set, &f->regions, "/proc/self/mem", f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "/proc/self/mem: read failed: Input/output error");
	assert_int_equal(f->set.count, 0);
}

/* The real provider files parse, in the format and cloud their name says. */
static void test_real_provider_files(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *file;
		const char *cloud;
		size_t min_v4, min_v6;
	} files[] = {
	    {SHARED_DATA "/aws-ip-ranges.json", "aws", 5000, 1000},
	    {SHARED_DATA "/gcp-cloud.json", "gcp", 500, 10},
	    {SHARED_DATA "/azure-service-tags.json", "azure", 5000, 1000},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		range_set_free(&f->set);
		int rc =
		    ranges_load_path(&f->set, &f->regions, files[i].file, f->err, sizeof(f->err));
		if (rc != 0)
			fail_msg("%s", f->err);
		assert_int_equal(f->set.warnings.total, 0); /* canonical CIDRs, no /0 */
		assert_int_equal(ranges_finish(&f->set), 0);
		struct ranges_cloud_count counts[4];
		assert_int_equal(ranges_count_by_cloud(&f->set, &f->regions, counts, 4), 1);
		assert_string_equal(counts[0].cloud, files[i].cloud);
		assert_true(counts[0].v4 >= files[i].min_v4);
		assert_true(counts[0].v6 >= files[i].min_v6);
	}
}

/* A default route puts every client in one region: refused unless the
 * operator text format asks for it on that line; never from a provider file. */
static void test_default_route(void **state)
{
	struct fixture *f = *state;
	assert_parse_error(
	    f, "ops.txt", "10.0.0.0/8 corp a\n0.0.0.0/0 corp all\n",
	    "ops.txt:2: CIDR \"0.0.0.0/0\" is a default route (every client would "
	    "be in one region); add a fourth field 'allow-default' if that is meant");
	assert_parse_error(f, "ops.txt", "10.0.0.0/8 corp a\n::/0 corp all # v6\n",
			   "ops.txt:2: CIDR \"::/0\" is a default route (every client would be in "
			   "one region); add a fourth field 'allow-default' if that is meant");
	/* An IPv4-mapped /96 is stored as IPv4 0.0.0.0/0: the same default route. */
	assert_parse_error(f, "ops.txt", "10.0.0.0/8 corp a\n::ffff:0.0.0.0/96 corp all\n",
			   "ops.txt:2: CIDR \"::ffff:0.0.0.0/96\" is a default route (every client "
			   "would be in one region); add a fourth field 'allow-default' if that is "
			   "meant");
	assert_parse_error(f, "ops.txt", "10.0.0.0/8 corp a\n10.0.0.0/8 corp all allow-default\n",
			   "ops.txt:2: 'allow-default' is only for a default route (0.0.0.0/0 or "
			   "::/0), not for \"10.0.0.0/8\"");
	assert_int_equal(f->set.count, 0);

	assert_int_equal(parse(f, "ops.txt",
			       "0.0.0.0/0 corp all allow-default\n"
			       "::/0\tcorp\tall\tallow-default # every v6 client too\r\n"),
			 0);
	assert_int_equal(f->set.count, 2);
	assert_entry(f, 0, "0.0.0.0/0", "corp", "all");
	assert_entry(f, 1, "::/0", "corp", "all");

	assert_parse_error(
	    f, "aws.json", "{\"prefixes\": [{\"ip_prefix\": \"0.0.0.0/0\", \"region\": \"r\"}]}",
	    "aws.json: prefixes[0].ip_prefix: CIDR \"0.0.0.0/0\" is a default route "
	    "(every client would be in one region), never taken from a provider file");
	assert_parse_error(
	    f, "gcp.json", "{\"prefixes\": [{\"ipv6Prefix\": \"::/0\", \"scope\": \"r\"}]}",
	    "gcp.json: prefixes[0].ipv6Prefix: CIDR \"::/0\" is a default route "
	    "(every client would be in one region), never taken from a provider file");
	assert_parse_error(
	    f, "az.json",
	    "{\"values\": [{\"name\": \"AzureCloud.x\", \"properties\": "
	    "{\"addressPrefixes\": [\"0.0.0.1/0\"]}}]}",
	    "az.json: values[0] (AzureCloud.x).properties.addressPrefixes[0]: CIDR "
	    "\"0.0.0.1/0\" is a default route (every client would be in one region), "
	    "never taken from a provider file");
	assert_int_equal(f->set.count, 2);
}

/* Provider files are cleared of host bits, as before, but no longer silently:
 * each one is a warning naming the file, the line and the JSON path. */
static void test_provider_host_bits_warn(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->set.warnings.total, 0);
	assert_int_equal(parse(f, "aws.json",
			       "{\"prefixes\": [\n"
			       "  {\"ip_prefix\": \"10.0.0.0/8\", \"region\": \"a\"},\n"
			       "  {\"ip_prefix\": \"10.1.2.3/16\", \"region\": \"b\"}],\n"
			       " \"ipv6_prefixes\": [\n"
			       "  {\"ipv6_prefix\": \"2001:db8::1/32\", \"region\": \"c\"}]}\n"),
			 0);
	assert_entry(f, 1, "10.1.0.0/16", "aws", "b");
	assert_entry(f, 2, "2001:db8::/32", "aws", "c");
	assert_int_equal(f->set.warnings.total, 2);
	assert_int_equal(ranges_warnings_kept(&f->set.warnings), 2);
	assert_string_equal(f->set.warnings.text[0],
			    "aws.json:3: prefixes[1].ip_prefix: CIDR \"10.1.2.3/16\" has host bits "
			    "set; using 10.1.0.0/16");
	assert_string_equal(f->set.warnings.text[1],
			    "aws.json:5: ipv6_prefixes[0].ipv6_prefix: CIDR \"2001:db8::1/32\" has "
			    "host bits set; using 2001:db8::/32");

	/* A file that fails adds no warning even when it had some before failing. */
	assert_parse_error(f, "gcp.json",
			   "{\"prefixes\": [{\"ipv4Prefix\": \"10.9.9.9/16\", \"scope\": \"r\"}, "
			   "{\"ipv4Prefix\": \"bad\", \"scope\": \"r\"}]}",
			   "gcp.json: prefixes[1].ipv4Prefix: bad CIDR \"bad\"");
	assert_int_equal(f->set.warnings.total, 2);

	/* Written with escapes the CIDR is not found in the text: no line then. */
	assert_int_equal(parse(f, "az.json",
			       "{\"values\": [{\"name\": \"AzureCloud.x\", \"properties\": "
			       "{\"addressPrefixes\": [\"10.2.0.\\u0031/16\"]}}]}"),
			 0);
	assert_int_equal(f->set.warnings.total, 3);
	assert_string_equal(f->set.warnings.text[2],
			    "az.json: values[0] (AzureCloud.x).properties.addressPrefixes[0]: CIDR "
			    "\"10.2.0.1/16\" has host bits set; using 10.2.0.0/16");
}

/* A hostile file cannot flood the log: the first RANGES_WARNINGS_KEPT are
 * kept, the rest counted for the caller's "and N more". */
static void test_warnings_are_bounded(void **state)
{
	struct fixture *f = *state;
	static char json[64 * 1024];
	size_t n = 0;
	n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"prefixes\": [\n");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      "%s{\"ipv4Prefix\": \"10.%d.%d.1/24\", \"scope\": \"r\"}\n",
				      i ? "," : "", i / 256, i % 256);
	snprintf(json + n, sizeof(json) - n, "]}\n");
	assert_int_equal(parse(f, "gcp.json", json), 0);
	assert_int_equal(f->set.count, 1000);
	assert_int_equal(f->set.warnings.total, 1000);
	assert_int_equal(ranges_warnings_kept(&f->set.warnings), RANGES_WARNINGS_KEPT);
	assert_string_equal(
	    f->set.warnings.text[RANGES_WARNINGS_KEPT - 1],
	    "gcp.json:9: prefixes[7].ipv4Prefix: CIDR \"10.0.7.1/24\" has host bits "
	    "set; using 10.0.7.0/24");
	/* range_set_free() starts over. */
	range_set_free(&f->set);
	assert_int_equal(f->set.warnings.total, 0);
}

/* The two spellings of a UTC time the providers stamp their files with. */
static void test_publication_time_parsing(void **state)
{
	(void)state;
	int64_t t = 0;
	assert_true(ranges_parse_utc("2026-07-29-08-27-05", '-', '-', '-', &t));
	assert_int_equal(t, 1785313625); /* date -u -d 2026-07-29T08:27:05 +%s */
	assert_true(ranges_parse_utc("2026-07-29T07:05:53.849365", '-', 'T', ':', &t));
	assert_int_equal(t, 1785308753);
	assert_true(ranges_parse_utc("2024-02-29T00:00:00", '-', 'T', ':', &t));
	assert_int_equal(t, 1709164800);
	static const char *const bad[] = {
	    "",
	    "2026-07-29",
	    "2026-07-29T07:05",
	    "2026-07-29 07:05:53",
	    "2026-07-29T07:05:53Z",
	    "2026-07-29T07:05:53.",
	    "2026-07-29T07:05:53.5x",
	    "2025-02-29T00:00:00", /* no such day */
	    "2026-13-01T00:00:00",
	    "2026-07-29T24:00:00",
	    "2026-7-29T07:05:53",
	    "+026-07-29T07:05:53",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ranges_parse_utc(bad[i], '-', 'T', ':', &t))
			fail_msg("\"%s\" parsed as a time", bad[i]);
	assert_false(ranges_parse_utc("2026-07-29T08:27:05", '-', '-', '-', &t));
}

/* Each file read is listed with its format, prefixes, mtime and the stamp
 * its format carries; the data's time is the newest stamp, else the newest
 * mtime. A malformed stamp is no error. */
static void test_file_stamps(void **state)
{
	struct fixture *f = *state;
	const char *dir = make_temp_dir(f);
	write_file(dir, "a-aws.json",
		   "{\"syncToken\": \"1\", \"createDate\": \"2026-07-29-08-27-05\", \"prefixes\": "
		   "[{\"ip_prefix\": \"3.5.140.0/22\", \"region\": \"ap-northeast-2\"}]}");
	write_file(dir, "b-gcp.json",
		   "{\"creationTime\": \"2026-07-29T07:05:53.849365\", \"prefixes\": "
		   "[{\"ipv4Prefix\": \"34.1.208.0/20\", \"scope\": \"africa-south1\"}, "
		   "{\"ipv6Prefix\": \"2600:1900:8000::/44\", \"scope\": \"africa-south1\"}]}");
	write_file(dir, "c-azure.json",
		   "{\"changeNumber\": 321, \"values\": [{\"name\": \"AzureCloud.westeurope\", "
		   "\"properties\": {\"region\": \"westeurope\", \"addressPrefixes\": "
		   "[\"13.69.0.0/17\"]}}]}");
	write_file(dir, "d-ops.txt", "10.0.0.0/8 onprem dc1\n");
	write_file(
	    dir, "e-aws-odd.json",
	    "{\"createDate\": \"yesterday\", \"prefixes\": [], \"ipv6_prefixes\": []}"); /* no
											    stamp,
											    no error
											  */
	char path[600];
	snprintf(path, sizeof(path), "%s/d-ops.txt", dir);
	struct timespec times[2] = {{.tv_sec = 1700000000}, {.tv_sec = 1700000000}};
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);

	if (ranges_load_path(&f->set, &f->regions, dir, f->err, sizeof(f->err)) != 0)
		fail_msg("%s", f->err);
	assert_int_equal(f->set.file_count, 5);
	const struct ranges_file *files = f->set.files;
	assert_string_equal(files[0].format, "aws");
	assert_int_equal(files[0].published, 1785313625);
	assert_int_equal(files[0].prefixes, 1);
	assert_int_equal(files[0].change_number, -1);
	assert_string_equal(files[1].format, "gcp");
	assert_int_equal(files[1].published, 1785308753);
	assert_int_equal(files[1].prefixes, 2);
	assert_string_equal(files[2].format, "azure");
	assert_int_equal(files[2].published, 0);
	assert_int_equal(files[2].change_number, 321);
	assert_string_equal(files[3].format, "text");
	assert_int_equal(files[3].published, 0);
	assert_int_equal(files[3].modified, 1700000000);
	assert_string_equal(files[3].path, path);
	assert_int_equal(files[4].published, 0);
	assert_int_equal(files[4].prefixes, 0);

	int64_t when = 0;
	bool published = false;
	assert_true(ranges_data_time(&f->set, &when, &published));
	assert_true(published);
	assert_int_equal(when, 1785313625);

	/* Without stamps: the newest mtime. */
	range_set_free(&f->set);
	assert_int_equal(ranges_load_path(&f->set, &f->regions, path, f->err, sizeof(f->err)), 0);
	assert_true(ranges_data_time(&f->set, &when, &published));
	assert_false(published);
	assert_int_equal(when, 1700000000);

	/* Nothing read, nothing to say; a failed directory lists nothing. */
	range_set_free(&f->set);
	assert_false(ranges_data_time(&f->set, &when, &published));
	write_file(dir, "f-bad.txt", "nonsense\n");
	assert_int_equal(ranges_load_path(&f->set, &f->regions, dir, f->err, sizeof(f->err)), -1);
	assert_int_equal(f->set.file_count, 0);
	assert_int_equal(f->set.count, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_aws),
	    T(test_gcp),
	    T(test_azure_regional_tags_only),
	    T(test_text),
	    T(test_text_only_comments_is_empty),
	    T(test_detect_unknown),
	    T(test_unknown_format_errors),
	    T(test_json_syntax_error_has_position),
	    T(test_aws_errors),
	    T(test_gcp_errors),
	    T(test_azure_errors),
	    T(test_text_errors),
	    T(test_error_keeps_earlier_entries),
	    T(test_long_token_is_truncated_in_error),
	    T(test_finish_sorts_and_last_wins),
	    T(test_count_by_cloud),
	    T(test_directory_loading),
	    T(test_publication_time_parsing),
	    T(test_file_stamps),
	    T(test_directory_empty_and_missing),
	    T(test_real_provider_files),
	    T(test_read_to_eof_and_read_errors),
	    T(test_default_route),
	    T(test_provider_host_bits_warn),
	    T(test_warnings_are_bounded),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
