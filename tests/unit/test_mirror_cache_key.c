/* mirror_cache keyed by (mirror id, digest): the key a digest makes (sha256
 * decoded, upper-case or malformed hex refused), the same digest under two
 * mirrors as two entries, and a keyed entry through the health probe's
 * paths (present per origin, forget one, forget an origin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/mirrorcheck/mirror_cache.h"
#include "helpers/mirror_cache_size.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX
#define URL_M1 "https://m1.example/bucket/containers/images/" DIGEST
#define URL_M2 "https://m1.example/other/containers/images/" DIGEST

static struct mirror_cache *new_cache(void)
{
	struct mirror_cache_options o = {.max_entries = 16};
	struct mirror_cache *c = mirror_cache_new(&o);
	assert_non_null(c);
	return c;
}

static struct mirror_cache_key key_of(uint32_t mirror_id, const char *digest)
{
	struct mirror_cache_key key;
	assert_true(mirror_cache_key_digest(&key, mirror_id, digest, strlen(digest)));
	return key;
}

static void answer(struct mirror_cache *c, const struct mirror_cache_key *key, const char *url,
		   bool present)
{
	assert_int_equal(mirror_cache_lookup_key(c, key, url, 0, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_complete_key(c, key, present, 0);
}

static void test_sha256_is_decoded(void **state)
{
	(void)state;
	struct mirror_cache_key key = key_of(7, DIGEST);
	static const uint8_t want[32] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	assert_int_equal(key.mirror_id, 7);
	assert_int_equal(key.kind, MIRROR_CACHE_KEY_SHA256);
	assert_int_equal(key.len, 32);
	assert_memory_equal(key.sha256, want, sizeof(want));
}

/* What the router refuses never becomes a key: upper case (not a digest's
 * spelling, though it decodes to the same bytes), short, long, non-hex. */
static void test_bad_hex_makes_no_key(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
	    "sha256:",
	    "sha512:" HEX,
	    "sha512:" HEX "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mirror_cache_key key;
		if (mirror_cache_key_digest(&key, 1, bad[i], strlen(bad[i])))
			fail_msg("made a key of %s", bad[i]);
	}
	/* sha512 and other algorithms are their own text. */
	struct mirror_cache_key key = key_of(1, "sha512:" HEX HEX);
	assert_int_equal(key.kind, MIRROR_CACHE_KEY_TEXT);
	assert_int_equal(key.len, strlen("sha512:" HEX HEX));
	key = key_of(1, "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8");
	assert_int_equal(key.kind, MIRROR_CACHE_KEY_TEXT);
}

/* Two mirror bases (here on one origin) with the same blob are two answers. */
static void test_same_digest_two_mirrors(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache();
	struct mirror_cache_key k1 = key_of(1, DIGEST), k2 = key_of(2, DIGEST);
	answer(c, &k1, URL_M1, true);
	assert_int_equal(mirror_cache_lookup_key(c, &k1, URL_M1, 1, NULL, NULL),
			 MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup_key(c, &k2, URL_M2, 1, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_complete_key(c, &k2, false, 1);
	assert_int_equal(mirror_cache_lookup_key(c, &k2, URL_M2, 2, NULL, NULL),
			 MIRROR_CACHE_ABSENT);
	assert_int_equal(mirror_cache_lookup_key(c, &k1, URL_M1, 2, NULL, NULL),
			 MIRROR_CACHE_PRESENT);
	/* The URL keyed by itself is yet another entry. */
	assert_int_equal(mirror_cache_lookup(c, URL_M1, 2, NULL, NULL), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_size(c), 3);
	mirror_cache_free(c);
}

/* The probe gets the keyed entry back with its key and URL; forgetting by
 * that key drops it; a failed origin voids it as it voids URL entries. */
static void test_probe_paths_with_keys(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache();
	struct mirror_cache_key k1 = key_of(1, DIGEST);
	struct mirror_cache_key text = key_of(3, "sha512:" HEX HEX);
	const char *text_url = "https://m3.example/containers/images/sha512:" HEX HEX;
	answer(c, &k1, URL_M1, true);
	answer(c, &text, text_url, true);

	struct mirror_cache_target targets[4];
	assert_int_equal(mirror_cache_present_per_origin(c, targets, 4), 2);
	assert_string_equal(targets[0].url, text_url);
	assert_int_equal(targets[0].key.kind, MIRROR_CACHE_KEY_TEXT);
	assert_int_equal(targets[0].key.mirror_id, 3);
	assert_memory_equal(targets[0].key.text, text.text, text.len);
	assert_string_equal(targets[1].url, URL_M1);
	assert_int_equal(targets[1].key.mirror_id, 1);
	assert_memory_equal(targets[1].key.sha256, k1.sha256, 32);

	struct mirror_cache_key forget = targets[0].key;
	mirror_cache_forget_key(c, &forget);
	assert_int_equal(mirror_cache_lookup_key(c, &text, text_url, 1, NULL, NULL),
			 MIRROR_CACHE_MISS);

	assert_true(mirror_cache_forget_origin(c, URL_M1));
	assert_int_equal(mirror_cache_lookup_key(c, &k1, URL_M1, 1, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_free(c);
}

/* A peek answers what is in force and changes nothing otherwise: no entry
 * for an unknown key, a pending entry stays pending (no waiter queued), an
 * expired answer is not served. */
static void test_peek_changes_nothing(void **state)
{
	(void)state;
	struct mirror_cache_options o = {.max_entries = 16, .present_ttl_ms = 10};
	struct mirror_cache *c = mirror_cache_new(&o);
	struct mirror_cache_key k1 = key_of(1, DIGEST), k2 = key_of(2, DIGEST);
	assert_int_equal(mirror_cache_peek_key(c, &k1, 0), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_size(c), 0);
	assert_int_equal(mirror_cache_lookup_key(c, &k1, URL_M1, 0, NULL, NULL), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_peek_key(c, &k1, 0), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup_key(c, &k1, URL_M1, 0, NULL, NULL),
			 MIRROR_CACHE_PENDING);
	mirror_cache_complete_key(c, &k1, true, 0);
	assert_int_equal(mirror_cache_peek_key(c, &k1, 9), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_peek_key(c, &k2, 9), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_peek_key(c, &k1, 10), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_size(c), 1);
	assert_int_equal(mirror_cache_peek_key(NULL, &k1, 0), MIRROR_CACHE_UNCACHED);
	mirror_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_is_decoded),
	    cmocka_unit_test(test_bad_hex_makes_no_key),
	    cmocka_unit_test(test_same_digest_two_mirrors),
	    cmocka_unit_test(test_probe_paths_with_keys),
	    cmocka_unit_test(test_peek_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
