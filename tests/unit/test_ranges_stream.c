/* The token-tape JSON reader (user/geo/json_tape.c, ranges_json.c) against
 * the jansson-based reader it replaced (helpers/ranges_json_ref.c): the same
 * entries, warnings and stamps from the real provider files, and the same
 * verdict on the corners of RFC 8259 (escapes, surrogates, UTF-8, numbers at
 * the int64 and double limits, nesting at jansson's 2048, trailing bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/geo/ranges.h"
#include "geo/json_tape.h"
#include "geo/ranges_internal.h"
#include "helpers/ranges_json_ref.h"

#define SHARED_DATA "../shared/data"

struct side {
	struct range_set set;
	struct region_table regions;
	struct ranges_stamp stamp;
	char err[512];
	int rc;
};

static void parse_both(const char *buf, size_t len, struct side *tape, struct side *ref)
{
	struct side *sides[2] = {tape, ref};
	for (int i = 0; i < 2; i++) {
		struct side *s = sides[i];
		memset(s, 0, sizeof(*s));
		range_set_init(&s->set);
		region_table_init(&s->regions);
		s->rc = i == 0 ? ranges_parse_buffer_stamped(&s->set, &s->regions, "t.json", buf,
							     len, &s->stamp, s->err, sizeof(s->err))
			       : ranges_ref_parse_buffer(&s->set, &s->regions, "t.json", buf, len,
							 &s->stamp, s->err, sizeof(s->err));
	}
}

static void free_side(struct side *s)
{
	range_set_free(&s->set);
	region_table_free(&s->regions);
}

static void assert_same(const struct side *a, const struct side *b)
{
	if (a->rc != b->rc)
		fail_msg("tape: %d %s; jansson: %d %s", a->rc, a->err, b->rc, b->err);
	assert_int_equal(a->set.count, b->set.count);
	for (size_t i = 0; i < a->set.count; i++) {
		const struct range_entry *x = &a->set.entries[i], *y = &b->set.entries[i];
		assert_memory_equal(&x->prefix, &y->prefix, sizeof(x->prefix));
		const struct region_name *nx = region_table_get(&a->regions, x->region_id);
		const struct region_name *ny = region_table_get(&b->regions, y->region_id);
		assert_non_null(nx);
		assert_non_null(ny);
		assert_string_equal(nx->cloud, ny->cloud);
		assert_string_equal(nx->region, ny->region);
	}
	assert_int_equal(a->set.warnings.total, b->set.warnings.total);
	for (size_t i = 0; i < ranges_warnings_kept(&a->set.warnings); i++)
		assert_string_equal(a->set.warnings.text[i], b->set.warnings.text[i]);
	if (a->rc == 0) {
		assert_int_equal(a->stamp.format, b->stamp.format);
		assert_int_equal(a->stamp.published, b->stamp.published);
		assert_int_equal(a->stamp.change_number, b->stamp.change_number);
	} else if (strstr(b->err, "invalid JSON") == NULL) {
		assert_string_equal(a->err, b->err); /* the same path-naming message */
	} else {
		assert_non_null(strstr(a->err, "t.json:"));
		assert_non_null(strstr(a->err, ": invalid JSON at column "));
	}
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void test_real_files_agree(void **state)
{
	(void)state;
	static const char *const files[] = {SHARED_DATA "/aws-ip-ranges.json",
					    SHARED_DATA "/gcp-cloud.json",
					    SHARED_DATA "/azure-service-tags.json"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *buf = read_all(files[i], &len);
		struct side tape, ref;
		parse_both(buf, len, &tape, &ref);
		if (tape.rc != 0)
			fail_msg("%s", tape.err);
		assert_true(tape.set.count > 500);
		assert_same(&tape, &ref);
		free_side(&tape);
		free_side(&ref);
		free(buf);
	}
}

/* An AWS document with VALUE as an extra member: it loads exactly when
 * VALUE is valid JSON. */
static int verdict(const char *value, size_t value_len)
{
	static const char head[] =
	    "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"r\"}], \"x\": ";
	size_t len = strlen(head) + value_len + 1;
	char *doc = malloc(len);
	assert_non_null(doc);
	memcpy(doc, head, strlen(head));
	memcpy(doc + strlen(head), value, value_len);
	doc[len - 1] = '}';
	struct side tape, ref;
	parse_both(doc, len, &tape, &ref);
	assert_same(&tape, &ref);
	int rc = tape.rc;
	free_side(&tape);
	free_side(&ref);
	free(doc);
	return rc;
}

static void test_values_agree(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		int rc;
	} cases[] = {
	    {"\"a\\u00e9\\/\\\"\\\\\\b\\f\\n\\r\\t\"", 0},
	    {"\"\\ud83d\\ude00\"", 0},
	    {"\"\\ud83d\"", -1},
	    {"\"\\ude00\"", -1},
	    {"\"\\ud83dx\"", -1},
	    {"\"\\ud83d\\u0041\"", -1},
	    {"\"\\u0000\"", -1},
	    {"\"\\x\"", -1},
	    {"\"\\u12G4\"", -1},
	    {"\"a\tb\"", -1},
	    {"\"a\nb\"", -1},
	    {"\"\x7f\"", 0},
	    {"\"\xc3\xa9\"", 0},
	    {"\"\xf0\x9f\x98\x80\"", 0},
	    {"\"\xc3\x28\"", -1},
	    {"\"\xc0\xaf\"", -1},
	    {"\"\xed\xa0\x80\"", -1},
	    {"\"\xf4\x90\x80\x80\"", -1},
	    {"\"\xe2\x82\"", -1},
	    {"\"abc", -1},
	    {"0", 0},
	    {"-0", 0},
	    {"01", -1},
	    {"1.", -1},
	    {".5", -1},
	    {"-", -1},
	    {"1e5", 0},
	    {"1E+5", 0},
	    {"-1.5e-3", 0},
	    {"1e", -1},
	    {"1e+", -1},
	    {"9223372036854775807", 0},
	    {"9223372036854775808", -1},
	    {"-9223372036854775808", 0},
	    {"-9223372036854775809", -1},
	    {"99999999999999999999.0", 0},
	    {"1e308", 0},
	    {"1e309", -1},
	    {"-1e309", -1},
	    {"1e-400", 0},
	    {"true", 0},
	    {"false", 0},
	    {"null", 0},
	    {"True", -1},
	    {"nul", -1},
	    {"truex", -1},
	    {"[1, 2]", 0},
	    {"[1, ]", -1},
	    {"[,]", -1},
	    {"{}", 0},
	    {"{,}", -1},
	    {"{\"a\" 1}", -1},
	    {"{\"a\": 1,}", -1},
	    {"{\"a\": 1} x", -1},
	    {"{\"a\\u0000\": 1}", -1},
	    {"{\"a\": [}", -1},
	    {"'a'", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = verdict(cases[i].value, strlen(cases[i].value));
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d", cases[i].value, rc, cases[i].rc);
	}
	/* A NUL byte inside a string, and where whitespace may be. */
	assert_int_equal(verdict("\"a\0b\"", 5), -1);
	assert_int_equal(verdict("[\0]", 3), -1);
}

/* The one intended difference: jansson's stream drops a NUL byte read
 * right after a number or a literal (it "ungets" the byte that ended the
 * token, and a NUL in its one-byte buffer reads as empty), so it accepts
 * "1\0}". RFC 8259 has no NUL outside strings: the tape refuses. */
static void test_nul_after_token_refused(void **state)
{
	(void)state;
	static const char doc[] = "{\"values\": [], \"n\": 1\0, \"t\": true\0}";
	struct side tape, ref;
	parse_both(doc, sizeof(doc) - 1, &tape, &ref);
	assert_int_equal(ref.rc, 0);
	assert_int_equal(tape.rc, -1);
	assert_string_equal(tape.err, "t.json:1: invalid JSON at column 22: '}' expected near ''");
	free_side(&tape);
	free_side(&ref);
}

/* jansson's JSON_PARSER_MAX_DEPTH: "x" sits at depth 2, so 2047 arrays
 * around 0 reach 2049 and are refused, 2046 are not. */
static void test_depth_limit_agrees(void **state)
{
	(void)state;
	for (int n = 2045; n <= 2048; n++) {
		char *value = malloc((size_t)n * 2 + 2);
		assert_non_null(value);
		memset(value, '[', (size_t)n);
		value[n] = '0';
		memset(value + n + 1, ']', (size_t)n);
		int rc = verdict(value, (size_t)n * 2 + 1);
		free(value);
		assert_int_equal(rc, n <= 2046 ? 0 : -1);
	}
}

static void test_document_edges_agree(void **state)
{
	(void)state;
	static const char *const docs[] = {
	    /* Trailing whitespace only, then bytes after the value. */
	    "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"r\"}]} \r\n\t",
	    "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"r\"}]} {}",
	    "{\"prefixes\": [{\"ip_prefix\": \"3.0.0.0/8\", \"region\": \"r\"}]",
	    /* Escaped keys match; a repeated key: the last one counts. */
	    "{\"prefixes\": [{\"ip\\u005fprefix\": \"3.0.0.0/8\", \"region\": \"r\"}]}",
	    "{\"prefixes\": [{\"ip_prefix\": \"1.0.0.0/8\", \"ip_prefix\": \"2.0.0.0/8\", "
	    "\"region\": \"r\"}], \"prefixes\": 5}",
	    "{\"prefixes\": [{\"ip_prefix\": \"1.0.0.0/8\", \"region\": \"r\"}], \"prefixes\": "
	    "[{\"ip_prefix\": \"2.0.0.0/8\", \"region\": \"s\"}]}",
	    /* Host bits: warned, with the line of the value as written. */
	    "{\"prefixes\": [\n{\"ip_prefix\": \"1.2.3.4/8\", \"region\": \"r\"},\n"
	    "{\"ip_prefix\": \"1.2.3.4\\/8\", \"region\": \"r\"}]}",
	    "[]",
	    "{}",
	    "\xef\xbb\xbf{\"values\": []}",
	    "{\"changeNumber\": 12, \"values\": [{\"name\": \"AzureCloud.x\", \"properties\": "
	    "{\"region\": \"\", \"addressPrefixes\": [\"10.0.0.0/8\"]}}]}",
	    "{\"changeNumber\": 1.0, \"values\": [{\"name\": \"AzureCloud.x\", \"properties\": "
	    "{\"region\": \"y\", \"addressPrefixes\": [\"10.0.0.0/8\"]}}]}",
	    "{\"creationTime\": \"2026-07-29T07:05:53.849365\", \"prefixes\": [{\"ipv6Prefix\": "
	    "\"2600::/16\", \"scope\": \"us\"}]}",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct side tape, ref;
		parse_both(docs[i], strlen(docs[i]), &tape, &ref);
		assert_same(&tape, &ref);
		free_side(&tape);
		free_side(&ref);
	}
}

/* Syntax errors give jansson's FILE:LINE, column (in characters) and
 * wording for the common mistakes. */
static void test_syntax_error_messages(void **state)
{
	(void)state;
	static const char *const docs[] = {
	    "{\"prefixes\": [\n  {\"ip_prefix\": \"1.0.0.0/8\",}\n]}",
	    "{\"a\": \"\xc3\xa9\xc3\xa9\", \"b\" 1}",
	    "{\"a\": [1, 2}",
	    "{\"a\": 1}\nx",
	    "{\"a\": tru}",
	    "{\"a\": 1",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct side tape, ref;
		parse_both(docs[i], strlen(docs[i]), &tape, &ref);
		assert_int_equal(tape.rc, -1);
		assert_string_equal(tape.err, ref.err);
		free_side(&tape);
		free_side(&ref);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_files_agree),
	    cmocka_unit_test(test_values_agree),
	    cmocka_unit_test(test_nul_after_token_refused),
	    cmocka_unit_test(test_depth_limit_agrees),
	    cmocka_unit_test(test_document_edges_agree),
	    cmocka_unit_test(test_syntax_error_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
