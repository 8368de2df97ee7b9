#include "limits_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/strlist.h"
#include "rate_exempt.h"

/* A limits file is a few lines; anything this large is a wrong path. */
#define LIMITS_FILE_MAX (1024 * 1024)
#define LINE_MAX_LEN 1024

struct key_spec {
	const char *name;
	uint32_t min, max; /* the flag's bounds (config_table.c) */
};

static const struct key_spec keys[LIMITS_KEY_COUNT] = {
    [LIMITS_RATE_LIMIT] = {"rate-limit", 0, 1000000},
    [LIMITS_RATE_BURST] = {"rate-burst", 1, 1000000},
    [LIMITS_V6_PREFIX] = {"rate-limit-v6-prefix", 1, 64},
    [LIMITS_EXEMPT] = {"rate-limit-exempt", 0, 0},
    [LIMITS_SYN_LIMIT] = {"xdp-syn-limit", 0, 1000000},
    [LIMITS_SYN_BURST] = {"xdp-syn-burst", 1, 1000000},
};

const char *limits_key_name(enum limits_key key)
{
	return key < LIMITS_KEY_COUNT ? keys[key].name : "?";
}

void limits_file_free(struct limits_file *f)
{
	strlist_free(&f->exempt, &f->exempt_count);
	memset(f, 0, sizeof(*f));
}

static int line_error(char *err, size_t errlen, const char *name, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int line_error(char *err, size_t errlen, const char *name, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%zu: %s", name, line, msg);
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Splits a line (comment already cut) into at most 3 words, NUL-terminated
 * in place; returns the word count (3: too many). */
static size_t split_words(char *line, char *words[3])
{
	size_t n = 0;
	char *p = line;
	while (*p && n < 3) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		words[n++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* Decimal digits only: no sign, no spaces, no overflow past max. */
static bool parse_number(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (!*text)
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int find_key(const char *word)
{
	for (int k = 0; k < LIMITS_KEY_COUNT; k++)
		if (strcmp(word, keys[k].name) == 0)
			return k;
	return -1;
}

struct parse_ctx {
	struct limits_file *out;
	const char *name;
	bool xdp;
	size_t first_line[LIMITS_KEY_COUNT]; /* where each number key was given */
	char *err;
	size_t errlen;
};

static int take_exempt(struct parse_ctx *c, size_t line, char *entry)
{
	struct limits_file *f = c->out;
	char why[256];
	struct rate_exempt check;
	if (f->exempt_count >= LIMITS_EXEMPT_MAX)
		return line_error(c->err, c->errlen, c->name, line,
				  "more than %d rate-limit-exempt entries", LIMITS_EXEMPT_MAX);
	if (!rate_exempt_parse(&check, &entry, 1, why, sizeof(why)))
		return line_error(c->err, c->errlen, c->name, line, "%s", why);
	rate_exempt_free(&check);
	if (!strlist_append(&f->exempt, &f->exempt_count, entry))
		return line_error(c->err, c->errlen, c->name, line, "out of memory");
	f->has[LIMITS_EXEMPT] = true;
	return 0;
}

static int take_line(struct parse_ctx *c, size_t line, char *text)
{
	char *hash = strchr(text, '#');
	if (hash)
		*hash = '\0';
	char *words[3];
	size_t n = split_words(text, words);
	if (n == 0)
		return 0;
	int k = find_key(words[0]);
	if (k < 0)
		return line_error(c->err, c->errlen, c->name, line,
				  "unknown key '%.64s' (expected rate-limit, rate-burst, "
				  "rate-limit-v6-prefix, rate-limit-exempt, xdp-syn-limit or "
				  "xdp-syn-burst)",
				  words[0]);
	if (n != 2)
		return line_error(c->err, c->errlen, c->name, line, "%s takes %s value",
				  keys[k].name, n < 2 ? "a" : "one");
	if (k == LIMITS_EXEMPT)
		return take_exempt(c, line, words[1]);
	if (c->out->has[k])
		return line_error(c->err, c->errlen, c->name, line,
				  "%s given twice (first on line %zu)", keys[k].name,
				  c->first_line[k]);
	uint32_t v;
	if (!parse_number(words[1], keys[k].min, keys[k].max, &v))
		return line_error(c->err, c->errlen, c->name, line,
				  "%s: '%.64s' is not a whole number from %u to %u", keys[k].name,
				  words[1], (unsigned)keys[k].min, (unsigned)keys[k].max);
	if (k == LIMITS_SYN_LIMIT && v && !c->xdp)
		return line_error(c->err, c->errlen, c->name, line,
				  "xdp-syn-limit needs --xdp-iface (the SYN limit runs in the XDP "
				  "program)");
	c->out->has[k] = true;
	c->out->value[k] = v;
	c->first_line[k] = line;
	return 0;
}

int limits_file_parse(struct limits_file *out, const char *name, const char *text, size_t len,
		      bool xdp, char *err, size_t errlen)
{
	struct parse_ctx c = {.out = out, .name = name, .xdp = xdp, .err = err, .errlen = errlen};
	memset(out, 0, sizeof(*out));
	size_t line = 0;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;
		char buf[LINE_MAX_LEN + 1];
		line++;
		if (end - at > LINE_MAX_LEN || memchr(text + at, '\0', end - at)) {
			line_error(err, errlen, name, line, "%s",
				   end - at > LINE_MAX_LEN ? "line too long" : "NUL byte in line");
			limits_file_free(out);
			return -1;
		}
		memcpy(buf, text + at, end - at);
		buf[end - at] = '\0';
		if (take_line(&c, line, buf) != 0) {
			limits_file_free(out);
			return -1;
		}
		at = end + 1;
	}
	return 0;
}

int limits_file_load(struct limits_file *out, const char *path, bool xdp, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *text = malloc(LIMITS_FILE_MAX + 1);
	size_t len = text ? fread(text, 1, LIMITS_FILE_MAX + 1, fp) : 0;
	bool bad = !text || ferror(fp) || len > LIMITS_FILE_MAX;
	fclose(fp);
	int rc = -1;
	if (bad)
		snprintf(err, errlen, "%s: %s", path,
			 !text			 ? "out of memory"
			 : len > LIMITS_FILE_MAX ? "larger than 1 MiB, not a limits file"
						 : "read error");
	else
		rc = limits_file_parse(out, path, text, len, xdp, err, errlen);
	free(text);
	return rc;
}

static bool append_text(struct buf *out, const char *text)
{
	return buf_append(out, text, strlen(text), 0);
}

bool limits_file_format(const struct limits_file *f, struct buf *out)
{
	char line[LINE_MAX_LEN + 64];
	for (int k = 0; k < LIMITS_KEY_COUNT; k++) {
		if (!f->has[k] || k == LIMITS_EXEMPT)
			continue;
		snprintf(line, sizeof(line), "%s %u\n", keys[k].name, (unsigned)f->value[k]);
		if (!append_text(out, line))
			return false;
	}
	for (size_t i = 0; i < f->exempt_count; i++) {
		snprintf(line, sizeof(line), "%s %s\n", keys[LIMITS_EXEMPT].name, f->exempt[i]);
		if (!append_text(out, line))
			return false;
	}
	return true;
}
