/* Differential: the token-tape reader of the provider JSON files
 * (user/geo/json_tape.c, ranges_json.c) against the jansson-based reader it
 * replaced (tests/unit/helpers/ranges_json_ref.c). Property: for any input
 * both refuse, or both accept with the same entries (prefix and region
 * names, in load order), the same warnings (count and text) and the same
 * stamps. When one refuses for a reason other than JSON syntax, the other
 * gives the very same message; syntax errors need only both be syntax
 * errors (the wording of positions may differ). One intended difference:
 * jansson drops a NUL byte right after a number or literal ("1\0}"), which
 * RFC 8259 does not allow; with a NUL in the input the tape may refuse with
 * a syntax error what jansson read past (and accepted, or refused for a
 * reason after the NUL), but never the reverse. The reference is linked in
 * by tests/fuzz/run.sh from this line:
 * fuzz-link: tests/unit/helpers/ranges_json_ref.c
 */
#include <stdint.h>
#include <string.h>

#include "../unit/helpers/ranges_json_ref.h"
#include "archeio/geo/ranges.h"
#include "fuzz_check.h"

struct side {
	struct range_set set;
	struct region_table regions;
	struct ranges_stamp stamp;
	char err[512];
	int rc;
};

static void side_init(struct side *s)
{
	range_set_init(&s->set);
	region_table_init(&s->regions);
	memset(&s->stamp, 0, sizeof(s->stamp));
	s->err[0] = '\0';
	/* One entry first, so "unchanged on failure" is compared too. */
	struct ip_prefix seed;
	ip_prefix_parse("198.18.0.0/15", true, &seed);
	range_set_add(&s->set, &seed, region_table_intern(&s->regions, "test", "seed"));
}

static void side_free(struct side *s)
{
	range_set_free(&s->set);
	region_table_free(&s->regions);
}

static bool syntax_error(const char *err)
{
	return strstr(err, ": invalid JSON at column ") != NULL;
}

static void same_entries(const struct side *a, const struct side *b)
{
	FUZZ_CHECK(a->set.count == b->set.count);
	for (size_t i = 0; i < a->set.count; i++) {
		const struct range_entry *x = &a->set.entries[i], *y = &b->set.entries[i];
		FUZZ_CHECK(memcmp(&x->prefix, &y->prefix, sizeof(x->prefix)) == 0);
		const struct region_name *nx = region_table_get(&a->regions, x->region_id);
		const struct region_name *ny = region_table_get(&b->regions, y->region_id);
		FUZZ_CHECK(nx != NULL && ny != NULL);
		FUZZ_CHECK(strcmp(nx->cloud, ny->cloud) == 0 &&
			   strcmp(nx->region, ny->region) == 0);
	}
	FUZZ_CHECK(a->set.warnings.total == b->set.warnings.total);
	for (size_t i = 0; i < ranges_warnings_kept(&a->set.warnings); i++)
		FUZZ_CHECK(strcmp(a->set.warnings.text[i], b->set.warnings.text[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	struct side tape, ref;
	side_init(&tape);
	side_init(&ref);
	const char *buf = (const char *)data;
	tape.rc = ranges_parse_buffer_stamped(&tape.set, &tape.regions, "f", buf, size, &tape.stamp,
					      tape.err, sizeof(tape.err));
	ref.rc = ranges_ref_parse_buffer(&ref.set, &ref.regions, "f", buf, size, &ref.stamp,
					 ref.err, sizeof(ref.err));
	if (tape.rc != ref.rc)
		fprintf(stderr, "tape rc %d (%s), jansson rc %d (%s)\n", tape.rc, tape.err, ref.rc,
			ref.err);
	/* jansson's NUL quirk: the tape refuses with a syntax error what jansson
	 * read on past the NUL (and then accepted, or refused for what it saw
	 * there). Never the reverse. */
	if (tape.rc != 0 && syntax_error(tape.err) && (ref.rc == 0 || !syntax_error(ref.err)) &&
	    memchr(data, '\0', size) != NULL) {
		FUZZ_CHECK(tape.set.count == 1 && tape.set.warnings.total == 0);
		side_free(&tape);
		side_free(&ref);
		return 0;
	}
	FUZZ_CHECK(tape.rc == ref.rc);
	same_entries(&tape, &ref);
	if (tape.rc == 0) {
		FUZZ_CHECK(tape.stamp.format == ref.stamp.format);
		FUZZ_CHECK(tape.stamp.published == ref.stamp.published);
		FUZZ_CHECK(tape.stamp.change_number == ref.stamp.change_number);
	} else {
		FUZZ_CHECK(syntax_error(tape.err) == syntax_error(ref.err));
		if (!syntax_error(ref.err) && strcmp(tape.err, ref.err) != 0)
			fprintf(stderr, "tape: %s\njansson: %s\n", tape.err, ref.err);
		FUZZ_CHECK(syntax_error(ref.err) || strcmp(tape.err, ref.err) == 0);
	}
	side_free(&tape);
	side_free(&ref);
	return 0;
}
