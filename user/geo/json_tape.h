/* A strict JSON reader (RFC 8259) for the provider range files: one pass over
 * the text into a flat array of tokens (a "tape") that points back into the
 * source, instead of jansson's tree of allocated values. A few MB of AWS JSON
 * took ~65% of start-up in json_loadb (an allocation, a copy and a key hash
 * per value); the tape costs one growing array, and strings are only copied
 * when they hold escapes. It accepts and refuses exactly what jansson's
 * json_loadb(buf, len, 0) does (top level an object or array, UTF-8 checked,
 * no \u0000, integers within int64, reals finite, nesting to 2048, nothing
 * after the value), which tests/fuzz/fuzz_ranges_stream.c checks against
 * jansson. Internal to geo. */
#ifndef ARCHEIO_JSON_TAPE_H
#define ARCHEIO_JSON_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* jansson's JSON_PARSER_MAX_DEPTH: a value may sit inside at most 2047
 * containers. */
#define JSON_TAPE_MAX_DEPTH 2048
/* Offsets are 32-bit; ranges files stop at 256 MB long before. */
#define JSON_TAPE_MAX_LEN (UINT32_MAX / 2)
#define JSON_TAPE_NONE UINT32_MAX

enum jt_type {
	JT_OBJECT = 1,
	JT_ARRAY,
	JT_STRING,
	JT_INTEGER,
	JT_REAL,
	JT_TRUE,
	JT_FALSE,
	JT_NULL,
};

/* A container is followed by its members (an object's as key, value, key,
 * value...); next skips past them, so a lookup walks siblings only. */
struct jt_token {
	uint32_t start;	 /* string: its text (in the arena when decoded); else source offset */
	uint32_t len;	 /* string: decoded bytes; number: source bytes */
	uint32_t next;	 /* index of the token after this value and its members */
	uint8_t type;	 /* enum jt_type */
	uint8_t decoded; /* string text is in the arena (it had escapes) */
};

struct json_tape {
	const char *src;
	struct jt_token *tokens;
	uint32_t count;
	uint32_t cap;
	char *arena; /* decoded strings, only those with escapes */
	size_t arena_len;
	size_t arena_cap;
};

/* Where and why a parse failed, worded like jansson's messages. */
struct jt_error {
	int line;
	int column; /* in characters (UTF-8 sequences), 1-based, like jansson */
	char text[160];
};

/* Parses buf; 0, or -1 with error filled (the tape is then empty). Token 0 is
 * the root. json_tape_free() after either. */
int json_tape_parse(struct json_tape *tape, const char *buf, size_t len, struct jt_error *error);
void json_tape_free(struct json_tape *tape);

/* The value of key in object obj (the last one when the key repeats, as
 * jansson keeps), or JSON_TAPE_NONE (also when obj is not an object). */
uint32_t json_tape_get(const struct json_tape *tape, uint32_t obj, const char *key);
/* The string at index: its bytes (never NUL-terminated, never holding a NUL).
 * False when it is not a string. */
bool json_tape_string(const struct json_tape *tape, uint32_t index, const char **text, size_t *len);
/* An integer token's value. False when it is not one. */
bool json_tape_integer(const struct json_tape *tape, uint32_t index, long long *value);

static inline uint8_t json_tape_type(const struct json_tape *tape, uint32_t index)
{
	return index < tape->count ? tape->tokens[index].type : 0;
}

/* Array iteration: the first element (JSON_TAPE_NONE when empty or not an
 * array), then the one after each. */
static inline uint32_t json_tape_first(const struct json_tape *tape, uint32_t array)
{
	if (json_tape_type(tape, array) != JT_ARRAY || tape->tokens[array].next == array + 1)
		return JSON_TAPE_NONE;
	return array + 1;
}

static inline uint32_t json_tape_after(const struct json_tape *tape, uint32_t array,
				       uint32_t element)
{
	uint32_t n = tape->tokens[element].next;
	return n < tape->tokens[array].next ? n : JSON_TAPE_NONE;
}

#endif
