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

/* Scans the parameters of one link-value, from just after '>' up to the ','
 * that ends it (outside quotes). Sets *next when rel holds "next". */
static const char *scan_params(const char *p, bool *next)
{
	*next = false;
	while (*p && *p != ',') {
		p = skip_space(p);
		if (*p != ';')
			return NULL;
		p = skip_space(p + 1);
		const char *key = p;
		while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
			p++;
		size_t key_len = (size_t)(p - key);
		p = skip_space(p);
		const char *value = p;
		size_t value_len = 0;
		if (*p == '=') {
			p = skip_space(p + 1);
			if (*p == '"') {
				value = ++p;
				while (*p && *p != '"')
					p++;
				if (*p != '"')
					return NULL;
				value_len = (size_t)(p - value);
				p++;
			} else {
				value = p;
				while (*p && *p != ';' && *p != ',' && *p != ' ')
					p++;
				value_len = (size_t)(p - value);
			}
		}
		if (key_len == 3 && strncasecmp(key, "rel", 3) == 0 &&
		    rel_has_next(value, value_len))
			*next = true;
		p = skip_space(p);
	}
	return p;
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
			return strndup(target, (size_t)(end - target));
		if (*p == ',')
			p++;
	}
	return NULL;
}
