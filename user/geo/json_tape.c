/* The strict JSON reader behind the range files (see json_tape.h): an
 * iterative parser (an explicit stack of open containers, so no input can
 * overflow the C stack) that writes one token per value and per object key. */
#include "json_tape.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	struct json_tape *t;
	const unsigned char *s;
	size_t len;
	size_t pos;
	struct jt_error *error;
	unsigned depth;
	uint32_t stack[JSON_TAPE_MAX_DEPTH]; /* the open containers' tokens */
};

/* Byte classes inside a string: what the fast loop stops at. */
enum { SC_PLAIN = 0, SC_QUOTE, SC_BACKSLASH, SC_CONTROL, SC_HIGH };
static const uint8_t string_class[256] = {
    [0 ... 0x1f] = SC_CONTROL, ['"'] = SC_QUOTE, ['\\'] = SC_BACKSLASH, [0x80 ... 0xff] = SC_HIGH};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Line and column (characters, not bytes) of the text's end, as jansson
 * counts them: only computed for an error. */
static void locate(const unsigned char *s, size_t end, int *line, int *column)
{
	int l = 1;
	size_t bol = 0;
	const unsigned char *nl;
	while (bol < end && (nl = memchr(s + bol, '\n', end - bol)) != NULL) {
		l++;
		bol = (size_t)(nl - s) + 1;
	}
	int c = 0;
	for (size_t i = bol; i < end; i++)
		c += (s[i] & 0xc0) != 0x80;
	*line = l;
	*column = c;
}

/* Fails at the token s[start, end): "MSG near 'TOKEN'" when the token is
 * short, "near end of file" when there is none, jansson's wording. */
static int fail(struct parser *p, size_t start, size_t end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct parser *p, size_t start, size_t end, const char *fmt, ...)
{
	char msg[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct jt_error *e = p->error;
	locate(p->s, end, &e->line, &e->column);
	if (start == end && end >= p->len)
		snprintf(e->text, sizeof(e->text), "%s near end of file", msg);
	else if (end - start <= 20)
		snprintf(e->text, sizeof(e->text), "%s near '%.*s'", msg, (int)(end - start),
			 (const char *)p->s + start);
	else
		snprintf(e->text, sizeof(e->text), "%s", msg);
	return -1;
}

/* How far the token at `at` reaches, for an error's context. */
static size_t token_end(const struct parser *p, size_t at)
{
	size_t i = at;
	if (i >= p->len)
		return i;
	unsigned char c = p->s[i];
	if (!(is_alpha(c) || is_digit(c) || c == '-'))
		return i + 1;
	while (i < p->len && (is_alpha(p->s[i]) || is_digit(p->s[i]) || p->s[i] == '-' ||
			      p->s[i] == '+' || p->s[i] == '.'))
		i++;
	return i;
}

/* Eight bytes at a time (SWAR, on little-endian machines; elsewhere the
 * byte loops do it all). The high bit of each byte that is '"', '\\', a
 * control byte or non-ASCII is set, and possibly of bytes after the first
 * such one (a borrow carries upwards only), so the lowest set bit is exact. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#else
#define SWAR 0
#endif

static uint64_t special_mask(uint64_t v)
{
	uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
	uint64_t quote = (q - ONES) & ~q, backslash = (b - ONES) & ~b;
	uint64_t control = (v - ONES * 0x20) & ~v;
	return (quote | backslash | control | v) & HIGHS;
}

/* From i, the first byte a string's scan must look at (or len). */
static size_t next_special(const unsigned char *s, size_t i, size_t len)
{
	for (; SWAR && i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, s + i, 8);
		uint64_t m = special_mask(v);
		if (m != 0)
			return i + ((size_t)__builtin_ctzll(m) >> 3);
	}
	while (i < len && string_class[s[i]] == SC_PLAIN)
		i++;
	return i;
}

static inline bool is_ws(unsigned char c)
{
	const uint64_t ws = 1ull << ' ' | 1ull << '\n' | 1ull << '\r' | 1ull << '\t';
	return c <= ' ' && (ws >> c & 1);
}

/* Inline: most calls find no whitespace at all. */
static inline void skip_ws(struct parser *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos])) {
		p->pos++;
		/* Pretty-printed provider files indent with runs of spaces. */
		if (SWAR && p->pos + 8 <= p->len) {
			uint64_t v;
			memcpy(&v, p->s + p->pos, 8);
			uint64_t x = v ^ (ONES * ' ');
			p->pos += x ? (size_t)__builtin_ctzll(x) >> 3 : 8;
		}
	}
}

static __attribute__((noinline)) int grow_tape(struct parser *p)
{
	struct json_tape *t = p->t;
	uint32_t cap = t->cap ? t->cap * 2 : 64;
	struct jt_token *bigger = realloc(t->tokens, (size_t)cap * sizeof(*bigger));
	if (bigger == NULL)
		return fail(p, p->pos, p->pos, "out of memory");
	t->tokens = bigger;
	t->cap = cap;
	return 0;
}

static inline int push(struct parser *p, uint8_t type, size_t start, size_t len, uint32_t *index)
{
	struct json_tape *t = p->t;
	if (t->count == t->cap && grow_tape(p) != 0)
		return -1;
	struct jt_token *tok = &t->tokens[t->count];
	*tok = (struct jt_token){
	    .start = (uint32_t)start, .len = (uint32_t)len, .next = t->count + 1, .type = type};
	if (index)
		*index = t->count;
	t->count++;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (0: invalid), by the rules jansson
 * applies: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t min, v;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, v = c & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

/* Length of the escape at s[0] == '\\' (0: invalid). */
static size_t escape_length(const unsigned char *s, size_t avail)
{
	if (avail < 2)
		return 0;
	if (strchr("\"\\/bfnrt", s[1]) != NULL && s[1] != '\0')
		return 2;
	if (s[1] != 'u' || avail < 6)
		return 0;
	for (size_t i = 2; i < 6; i++)
		if (hex_value(s[i]) < 0)
			return 0;
	return 6;
}

static uint32_t hex4(const unsigned char *s)
{
	return (uint32_t)(hex_value(s[0]) << 12 | hex_value(s[1]) << 8 | hex_value(s[2]) << 4 |
			  hex_value(s[3]));
}

static size_t utf8_encode(uint32_t v, char *out)
{
	if (v < 0x80) {
		out[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		out[0] = (char)(0xc0 | v >> 6);
		out[1] = (char)(0x80 | (v & 0x3f));
		return 2;
	}
	if (v < 0x10000) {
		out[0] = (char)(0xe0 | v >> 12);
		out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
		out[2] = (char)(0x80 | (v & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | v >> 18);
	out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
	out[3] = (char)(0x80 | (v & 0x3f));
	return 4;
}

/* The code point of the \u escape at s[i] (a pair when it is a high
 * surrogate); *used is the source bytes taken. -1 for a lone surrogate. */
static long unicode_escape(const unsigned char *s, size_t i, size_t end, size_t *used)
{
	uint32_t v = hex4(s + i + 2);
	*used = 6;
	if (v >= 0xdc00 && v <= 0xdfff)
		return -1;
	if (v < 0xd800 || v > 0xdbff)
		return v;
	if (i + 12 > end || s[i + 6] != '\\' || s[i + 7] != 'u')
		return -1;
	uint32_t low = hex4(s + i + 8);
	if (low < 0xdc00 || low > 0xdfff)
		return -1;
	*used = 12;
	return 0x10000 + ((long)(v - 0xd800) << 10) + (low - 0xdc00);
}

static char escape_char(unsigned char c)
{
	switch (c) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return (char)c; /* '"', '\\', '/' */
	}
}

/* Decodes the string s[start, end) (escapes already checked) into the arena
 * and points token `index` at it; surrogates and \u0000 are refused here. */
static int decode_string(struct parser *p, uint32_t index, size_t start, size_t end)
{
	struct json_tape *t = p->t;
	if (t->arena_cap - t->arena_len < end - start) {
		size_t cap = (t->arena_cap + (end - start)) * 2;
		char *bigger = realloc(t->arena, cap);
		if (bigger == NULL)
			return fail(p, start, start, "out of memory");
		t->arena = bigger;
		t->arena_cap = cap;
	}
	char *out = t->arena + t->arena_len;
	size_t o = 0;
	for (size_t i = start; i < end;) {
		if (p->s[i] != '\\') {
			out[o++] = (char)p->s[i++];
			continue;
		}
		if (p->s[i + 1] != 'u') {
			out[o++] = escape_char(p->s[i + 1]);
			i += 2;
			continue;
		}
		size_t used;
		long v = unicode_escape(p->s, i, end, &used);
		if (v < 0)
			return fail(p, start - 1, end + 1, "invalid Unicode '\\u%.4s'",
				    p->s + i + 2);
		if (v == 0)
			return fail(p, start - 1, end + 1, "\\u0000 is not allowed");
		o += utf8_encode((uint32_t)v, out + o);
		i += used;
	}
	t->tokens[index].start = (uint32_t)t->arena_len;
	t->tokens[index].len = (uint32_t)o;
	t->tokens[index].decoded = 1;
	t->arena_len += o;
	return 0;
}

/* The string at p->pos (its opening quote). */
static int lex_string(struct parser *p)
{
	size_t open = p->pos, i = open + 1;
	bool escaped = false;
	for (;;) {
		i = next_special(p->s, i, p->len);
		if (i >= p->len)
			return fail(p, open, i, "premature end of input");
		unsigned char c = p->s[i];
		size_t n;
		switch (string_class[c]) {
		case SC_QUOTE:
			goto closed;
		case SC_CONTROL:
			return fail(p, open, i,
				    c == '\n' ? "unexpected newline" : "control character 0x%x", c);
		case SC_HIGH:
			n = utf8_length(p->s + i, p->len - i);
			if (n == 0) {
				locate(p->s, i, &p->error->line, &p->error->column);
				snprintf(p->error->text, sizeof(p->error->text),
					 "unable to decode byte 0x%x", c);
				return -1;
			}
			i += n;
			break;
		default:
			n = escape_length(p->s + i, p->len - i);
			if (n == 0)
				return fail(p, open, i + 1 < p->len ? i + 2 : i + 1,
					    "invalid escape");
			escaped = true;
			i += n;
		}
	}
closed:;
	uint32_t index;
	if (push(p, JT_STRING, open + 1, i - open - 1, &index) != 0)
		return -1;
	p->pos = i + 1;
	return escaped ? decode_string(p, index, open + 1, i) : 0;
}

/* jansson refuses integers outside int64 and reals that overflow a double. */
static bool number_fits(const unsigned char *s, size_t len, bool real)
{
	if (!real) {
		bool neg = s[0] == '-';
		size_t digits = len - neg;
		const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
		return digits < 19 || (digits == 19 && memcmp(s + neg, limit, 19) <= 0);
	}
	char small[64];
	char *text = len < sizeof(small) ? small : malloc(len + 1);
	if (text == NULL)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	double v = strtod(text, NULL);
	bool ok = !((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE);
	if (text != small)
		free(text);
	return ok;
}

/* Digits from i; the index after them. */
static size_t digits_from(const struct parser *p, size_t i)
{
	while (i < p->len && is_digit(p->s[i]))
		i++;
	return i;
}

/* The fraction and exponent after a number's integer part at i: the index
 * after them (0: malformed), *real set when there was either. */
static size_t number_tail(const struct parser *p, size_t i, bool *real)
{
	if (i < p->len && p->s[i] == '.') {
		if (i + 1 >= p->len || !is_digit(p->s[i + 1]))
			return 0;
		i = digits_from(p, i + 1);
		*real = true;
	}
	if (i < p->len && (p->s[i] | 0x20) == 'e') {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(p->s[i]))
			return 0;
		i = digits_from(p, i);
		*real = true;
	}
	return i;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at p->pos. */
static int lex_number(struct parser *p)
{
	size_t start = p->pos, i = start;
	bool real = false;
	if (p->s[i] == '-')
		i++;
	if (i < p->len && p->s[i] == '0')
		i++;
	else if (i < p->len && is_digit(p->s[i]))
		i = digits_from(p, i);
	else
		return fail(p, start, token_end(p, start), "invalid token");
	if (i < p->len && is_digit(p->s[i]))
		return fail(p, start, token_end(p, start), "invalid token");
	i = number_tail(p, i, &real);
	if (i == 0)
		return fail(p, start, token_end(p, start), "invalid token");
	if (!number_fits(p->s + start, i - start, real))
		return fail(p, start, i, real ? "real number overflow" : "too big integer");
	p->pos = i;
	return push(p, real ? JT_REAL : JT_INTEGER, start, i - start, NULL);
}

/* true, false or null: jansson reads the whole run of letters. */
static int lex_literal(struct parser *p)
{
	size_t start = p->pos, i = start;
	while (i < p->len && is_alpha(p->s[i]))
		i++;
	size_t n = i - start;
	const char *w = (const char *)p->s + start;
	uint8_t type = 0;
	if (n == 4 && memcmp(w, "true", 4) == 0)
		type = JT_TRUE;
	else if (n == 5 && memcmp(w, "false", 5) == 0)
		type = JT_FALSE;
	else if (n == 4 && memcmp(w, "null", 4) == 0)
		type = JT_NULL;
	else
		return fail(p, start, i, "invalid token");
	p->pos = i;
	return push(p, type, start, n, NULL);
}

static int open_container(struct parser *p, uint8_t type)
{
	uint32_t index;
	if (push(p, type, p->pos, 0, &index) != 0)
		return -1;
	p->stack[p->depth++] = index;
	p->pos++;
	skip_ws(p);
	return 0;
}

static void close_container(struct parser *p)
{
	uint32_t index = p->stack[--p->depth];
	p->t->tokens[index].next = p->t->count;
	p->pos++;
}

/* An object key and its ':'. */
static int read_key(struct parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return fail(p, p->pos, token_end(p, p->pos), "string or '}' expected");
	if (lex_string(p) != 0)
		return -1;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return fail(p, p->pos, token_end(p, p->pos), "':' expected");
	p->pos++;
	return 0;
}

/* Starts the value at p->pos: 0 when it is complete (a scalar, an empty
 * container), 1 when a container opened and wants its first member (an
 * object's key already read), -1 on error. */
static int begin_value(struct parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, p->pos, p->pos, "unexpected token");
	if (p->depth >= JSON_TAPE_MAX_DEPTH)
		return fail(p, p->pos, token_end(p, p->pos), "maximum parsing depth reached");
	unsigned char c = p->s[p->pos];
	if (c == '"')
		return lex_string(p);
	if (c == '-' || is_digit(c))
		return lex_number(p);
	if (is_alpha(c))
		return lex_literal(p);
	if (c == '{' || c == '[') {
		if (open_container(p, c == '{' ? JT_OBJECT : JT_ARRAY) != 0)
			return -1;
		if (p->pos < p->len && p->s[p->pos] == (c == '{' ? '}' : ']')) {
			close_container(p);
			return 0;
		}
		return c == '{' && read_key(p) != 0 ? -1 : 1;
	}
	bool punct = c == ',' || c == ':' || c == ']' || c == '}';
	return fail(p, p->pos, token_end(p, p->pos), punct ? "unexpected token" : "invalid token");
}

/* After a complete value: closes the containers it completes. 1 when another
 * member value is wanted (after ',', and an object's next key), 0 when the
 * top-level value is complete, -1 on error. */
static int end_values(struct parser *p)
{
	while (p->depth > 0) {
		skip_ws(p);
		uint8_t type = p->t->tokens[p->stack[p->depth - 1]].type;
		int c = p->pos < p->len ? p->s[p->pos] : -1;
		if (c == ',') {
			p->pos++;
			return type == JT_OBJECT && read_key(p) != 0 ? -1 : 1;
		}
		if (c != (type == JT_OBJECT ? '}' : ']'))
			return fail(p, p->pos, token_end(p, p->pos),
				    type == JT_OBJECT ? "'}' expected" : "']' expected");
		close_container(p);
	}
	return 0;
}

static int parse_document(struct parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len || (p->s[p->pos] != '{' && p->s[p->pos] != '['))
		return fail(p, p->pos, token_end(p, p->pos), "'[' or '{' expected");
	for (;;) {
		int r = begin_value(p);
		if (r == 0)
			r = end_values(p);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	skip_ws(p);
	if (p->pos < p->len)
		return fail(p, p->pos, token_end(p, p->pos), "end of file expected");
	return 0;
}

int json_tape_parse(struct json_tape *tape, const char *buf, size_t len, struct jt_error *error)
{
	*tape = (struct json_tape){.src = buf};
	*error = (struct jt_error){0};
	struct parser *p = malloc(sizeof(*p));
	if (p == NULL || len > JSON_TAPE_MAX_LEN) {
		free(p);
		snprintf(error->text, sizeof(error->text),
			 len > JSON_TAPE_MAX_LEN ? "too large" : "out of memory");
		return -1;
	}
	*p =
	    (struct parser){.t = tape, .s = (const unsigned char *)buf, .len = len, .error = error};
	/* About one token per 24 bytes of provider JSON: most files need no
	 * regrowth. */
	tape->cap = (uint32_t)(len / 24 + 64);
	tape->tokens = malloc((size_t)tape->cap * sizeof(*tape->tokens));
	int rc = tape->tokens ? parse_document(p) : fail(p, 0, 0, "out of memory");
	free(p);
	if (rc != 0) {
		json_tape_free(tape);
		tape->src = buf;
	}
	return rc;
}

void json_tape_free(struct json_tape *tape)
{
	free(tape->tokens);
	free(tape->arena);
	*tape = (struct json_tape){0};
}

static const char *token_text(const struct json_tape *tape, const struct jt_token *tok)
{
	return (tok->decoded ? tape->arena : tape->src) + tok->start;
}

uint32_t json_tape_get(const struct json_tape *tape, uint32_t obj, const char *key)
{
	if (json_tape_type(tape, obj) != JT_OBJECT)
		return JSON_TAPE_NONE;
	size_t klen = strlen(key);
	uint32_t found = JSON_TAPE_NONE;
	uint32_t end = tape->tokens[obj].next;
	for (uint32_t i = obj + 1; i < end; i = tape->tokens[i + 1].next) {
		const struct jt_token *k = &tape->tokens[i];
		if (k->len == klen && memcmp(token_text(tape, k), key, klen) == 0)
			found = i + 1;
	}
	return found;
}

bool json_tape_string(const struct json_tape *tape, uint32_t index, const char **text, size_t *len)
{
	if (json_tape_type(tape, index) != JT_STRING)
		return false;
	*text = token_text(tape, &tape->tokens[index]);
	*len = tape->tokens[index].len;
	return true;
}

bool json_tape_integer(const struct json_tape *tape, uint32_t index, long long *value)
{
	if (json_tape_type(tape, index) != JT_INTEGER)
		return false;
	const struct jt_token *tok = &tape->tokens[index];
	char text[24];
	if (tok->len >= sizeof(text))
		return false;
	memcpy(text, tape->src + tok->start, tok->len);
	text[tok->len] = '\0';
	*value = strtoll(text, NULL, 10);
	return true;
}
