/* SipHash-2-4 against the reference vectors from the SipHash paper
 * (key 00..0f, message 00..len-1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "archeio/core/siphash.h"

static const struct siphash_key reference_key = {
    .k0 = 0x0706050403020100ULL,
    .k1 = 0x0f0e0d0c0b0a0908ULL,
};

static uint64_t hash_of_prefix(size_t len)
{
	uint8_t msg[64];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	return siphash24(&reference_key, msg, len);
}

static void test_empty_message(void **state)
{
	(void)state;
	assert_int_equal(hash_of_prefix(0), 0x726fdb47dd0e0e31ULL);
}

static void test_paper_vector_15_bytes(void **state)
{
	(void)state;
	assert_int_equal(hash_of_prefix(15), 0xa129ca6149be45e5ULL);
}

static void test_full_block_and_tail(void **state)
{
	(void)state;
	assert_int_equal(hash_of_prefix(8), 0x93f5f5799a932462ULL);
	assert_int_equal(hash_of_prefix(63), 0x958a324ceb064572ULL);
}

static void test_key_changes_hash(void **state)
{
	(void)state;
	struct siphash_key other = reference_key;
	const char msg[] = "https://mirror.example/containers/images/sha256:00";

	other.k1 ^= 1;
	assert_true(siphash24(&reference_key, msg, sizeof(msg) - 1) !=
		    siphash24(&other, msg, sizeof(msg) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_message),
	    cmocka_unit_test(test_paper_vector_15_bytes),
	    cmocka_unit_test(test_full_block_and_tail),
	    cmocka_unit_test(test_key_changes_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
