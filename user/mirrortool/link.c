#include "link.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* True when the rel value (space-separated relation types) holds "next". */
static bool rel_has_next(const char *value, size_t len)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && value[i] == ' ')
			i++;
		size_t start = i;
		while (i < len && value[i] != ' ')
			i++;
		if (i - start == 4 && strncasecmp(value + start, "next", 4) == 0)
			return true;
	}
	return false;
}

/* One link-param: `key` or `key=value`, value a token or a quoted-string
 * (quotes stripped). Spans point into the header. */
struct link_param {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

/* Reads a quoted-string's content, p just after the opening quote; returns
 * the position after the closing quote, NULL when there is none. */
static const char *read_quoted(const char *p, struct link_param *param)
{
	param->value = p;
	param->value_len = strcspn(p, "\"");
	p += param->value_len;
	return *p == '"' ? p + 1 : NULL;
}

/* Reads one `; key[=value]` at p; returns the position after it, NULL when
 * it does not start with ';' or its quoted value is unterminated. */
static const char *read_param(const char *p, struct link_param *param)
{
	p = skip_space(p);
	if (*p != ';')
		return NULL;
	p = skip_space(p + 1);
	param->key = p;
	param->key_len = strcspn(p, "=;, ");
	p = skip_space(p + param->key_len);
	param->value = p;
	param->value_len = 0;
	if (*p != '=')
		return p;
	p = skip_space(p + 1);
	if (*p == '"')
		return read_quoted(p + 1, param);
	param->value = p;
	param->value_len = strcspn(p, ";, ");
	return p + param->value_len;
}

static bool param_is_rel_next(const struct link_param *param)
{
	return param->key_len == 3 && strncasecmp(param->key, "rel", 3) == 0 &&
	       rel_has_next(param->value, param->value_len);
}

/* Scans the parameters of one link-value, from just after '>' up to the ','
 * that ends it (outside quotes). Sets *next when rel holds "next". */
static const char *scan_params(const char *p, bool *next)
{
	*next = false;
	while (*p && *p != ',') {
		struct link_param param;
		p = read_param(p, &param);
		if (!p)
			return NULL;
		*next = *next || param_is_rel_next(&param);
		p = skip_space(p);
	}
	return p;
}

/* A URI-reference has no spaces or control bytes (RFC 3986); one that does
 * would be sent back to the registry as part of a request line. */
static bool target_usable(const char *target, const char *end)
{
	for (const unsigned char *c = (const unsigned char *)target; c < (const unsigned char *)end;
	     c++)
		if (*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

char *link_next_target(const char *value)
{
	const char *p = value;
	/* Bounded: every round consumes one link-value or fails. */
	while (*(p = skip_space(p))) {
		if (*p != '<')
			return NULL;
		const char *target = p + 1;
		const char *end = strchr(target, '>');
		if (!end)
			return NULL;
		bool next = false;
		p = scan_params(end + 1, &next);
		if (!p)
			return NULL;
		if (next)
			return target_usable(target, end) ? strndup(target, (size_t)(end - target))
							  : NULL;
		if (*p == ',')
			p++;
	}
	return NULL;
}
