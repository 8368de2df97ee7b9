/* Lower-case hex, eight characters at a time: every blob request checks a
 * digest's 64 digits (the router) and decodes them (the mirror cache key), so
 * a loop of a table lookup and a branch per character (~7 instructions) was
 * ~450 instructions a request; one 64-bit word per eight characters is ~3.
 * Words are assembled little-endian (one load on x86 and arm64), so the byte
 * order inside a word is the text's order on every machine. */
#include "archeio/core/hex.h"

#include <string.h>

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

static uint64_t load_le64(const char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
#else
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)(unsigned char)p[i] << (8 * i);
	return v;
#endif
}

/* Bit 7 of each byte of the result: that byte of x is in [lo, hi]. Exact
 * for bytes below 0x80; a byte with bit 7 set may carry into its neighbour,
 * but such a word is refused anyway (word_bad()). */
static uint64_t bytes_between(uint64_t x, unsigned lo, unsigned hi)
{
	uint64_t at_least_lo = x + ONES * (0x80 - lo);
	uint64_t above_hi = x + ONES * (0x7f - hi);
	return at_least_lo & ~above_hi & HIGH;
}

/* Non-zero when some byte of x is not [0-9a-f]; no branch, so a digest's
 * words are checked straight through and the answer tested once. */
static uint64_t word_bad(uint64_t x)
{
	return (x & HIGH) | ((bytes_between(x, '0', '9') | bytes_between(x, 'a', 'f')) ^ HIGH);
}

/* Eight valid digits to four bytes: a digit's value is its low nibble, plus 9
 * for a letter (bit 6 set: 'a' = 0x61 -> 1 + 9). */
static uint32_t word_decode(uint64_t x)
{
	uint64_t v = (x & (ONES * 0x0f)) + ((x >> 6) & ONES) * 9;
	/* Each 16-bit lane: its first digit's value << 4 | its second's. */
	uint64_t t = ((v & 0x00ff00ff00ff00ffULL) << 4) | ((v >> 8) & 0x00ff00ff00ff00ffULL);
	t = (t | (t >> 8)) & 0x0000ffff0000ffffULL;
	return (uint32_t)(t | (t >> 16));
}

static void store_le32(uint8_t *out, uint32_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(out, &w, sizeof(w));
#else
	for (unsigned k = 0; k < 4; k++)
		out[k] = (uint8_t)(w >> (8 * k));
#endif
}

static bool char_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static uint8_t char_value(char c)
{
	return (uint8_t)(c <= '9' ? c - '0' : c - 'a' + 10);
}

bool hex_lower_valid(const char *s, size_t len)
{
	size_t i = 0;
	uint64_t bad = 0;
	for (; i + 8 <= len; i += 8)
		bad |= word_bad(load_le64(s + i));
	for (; i < len; i++)
		bad |= !char_is_hex(s[i]);
	return bad == 0;
}

bool hex_lower_decode(const char *s, size_t len, uint8_t *out)
{
	if (len % 2)
		return false;
	size_t i = 0;
	uint64_t bad = 0;
	/* Decoded whether valid or not (out is unspecified on failure): one
	 * test at the end instead of a branch per word. */
	for (; i + 8 <= len; i += 8) {
		uint64_t x = load_le64(s + i);
		bad |= word_bad(x);
		store_le32(out + i / 2, word_decode(x));
	}
	for (; i < len; i += 2) {
		bad |= !char_is_hex(s[i]) || !char_is_hex(s[i + 1]);
		out[i / 2] = (uint8_t)(char_value(s[i]) << 4 | char_value(s[i + 1]));
	}
	return bad == 0;
}
