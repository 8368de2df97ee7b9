/* Mirror rules: parsing the rule file, and selection. The built-in default
 * table is mirror_rules_builtin.c. */
#include "archeio/mirrorcheck/mirror_rules.h"
#include "archeio/geo/ranges.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rule file is a few dozen lines; anything this large is a wrong path. */
#define MIRRORS_FILE_MAX (1024 * 1024)

void mirror_rules_init(struct mirror_rules *rules)
{
	rules->rules = NULL;
	rules->count = 0;
}

void mirror_rules_free(struct mirror_rules *rules)
{
	for (size_t i = 0; i < rules->count; i++)
		free(rules->rules[i].base_url);
	free(rules->rules);
	mirror_rules_init(rules);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Region names: printable ASCII without ':' (the separator). */
static bool key_part_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':')
			return false;
	}
	return len > 0;
}

/* Splits one line into at most three whitespace-separated tokens (a third
 * token is only reported, as an error). Returns the token count. */
static size_t tokenize(const char *line, size_t len, const char *tok[3], size_t tok_len[3])
{
	size_t count = 0, i = 0;

	while (i < len && count < 3) {
		while (i < len && is_space(line[i]))
			i++;
		if (i == len)
			break;
		tok[count] = line + i;
		while (i < len && !is_space(line[i]))
			i++;
		tok_len[count] = (size_t)(line + i - tok[count]);
		count++;
	}
	return count;
}

static bool rule_key_equal(const struct mirror_rule *a, const struct mirror_rule *b)
{
	return strcmp(a->cloud, b->cloud) == 0 && strcmp(a->region, b->region) == 0;
}

/* Parses "CLOUD[:REGION]" into rule; returns NULL or an error text. */
static const char *parse_key(const char *s, size_t len, struct mirror_rule *rule)
{
	const char *colon = memchr(s, ':', len);
	size_t cloud_len = colon == NULL ? len : (size_t)(colon - s);
	size_t region_len = colon == NULL ? 0 : len - cloud_len - 1;

	/* Spelled as the range files spell clouds, or no client could ever
	 * match the rule. */
	bool is_star = cloud_len == 1 && s[0] == '*';
	if (cloud_len >= sizeof(rule->cloud))
		return "cloud name too long";
	if (!is_star && !ranges_valid_cloud(s, cloud_len))
		return "invalid cloud name (want [a-z0-9_-] or '*')";
	if (colon != NULL && !key_part_valid(colon + 1, region_len))
		return "invalid region name";
	if (region_len >= sizeof(rule->region))
		return "region name too long";
	if (colon != NULL && is_star)
		return "'*' takes no region";
	memcpy(rule->cloud, s, cloud_len);
	rule->cloud[cloud_len] = '\0';
	memcpy(rule->region, colon == NULL ? "" : colon + 1, region_len);
	rule->region[region_len] = '\0';
	return NULL;
}

/* "upstream" -> NULL base (where allowed); otherwise a base URL without
 * trailing '/'. Returns NULL or an error text (in why_buf when it needs
 * numbers); *oom set on allocation failure. */
static const char *parse_target(const char *s, size_t len, bool allow_upstream,
				struct mirror_rule *rule, bool *oom, char *why_buf, size_t why_len)
{
	char *url;

	rule->base_url = NULL;
	if (len == strlen("upstream") && memcmp(s, "upstream", len) == 0)
		/* In upstream rules every rule names an upstream: the keyword would
		 * only hide which one (clients no rule matches get --upstream). */
		return allow_upstream ? NULL
				      : "'upstream' is not allowed here (name the upstream's URL)";
	url = strndup(s, len);
	if (url == NULL) {
		*oom = true;
		return "out of memory";
	}
	const char *problem = url_check_reason(url, URL_BASE);
	if (problem != NULL) {
		free(url);
		/* Neither keyword nor URL: say both were possible. */
		return strcmp(problem, URL_CHECK_NOT_HTTP) == 0
			   ? "not 'upstream' or an absolute http(s) URL"
			   : problem;
	}
	/* A fit base URL has "scheme://host", so this stops at the host. */
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	if (n > MIRROR_BASE_URL_MAX) {
		free(url);
		snprintf(why_buf, why_len, "base URL too long (%zu characters, at most %d)", n,
			 MIRROR_BASE_URL_MAX);
		return why_buf;
	}
	rule->base_url = url;
	return NULL;
}

/* Error messages quote a token, cut so that a huge one stays one short line. */
#define QUOTE_MAX 64

static void token_error(char *err, size_t errlen, const char *name, size_t lineno, const char *why,
			const char *tok, size_t tok_len)
{
	bool cut = tok_len > QUOTE_MAX;
	set_err(err, errlen, "%s:%zu: %s: '%.*s%s'", name, lineno, why,
		(int)(cut ? QUOTE_MAX - 3 : tok_len), tok, cut ? "..." : "");
}

static int append_rule(struct mirror_rules *rules, size_t *cap, const struct mirror_rule *rule)
{
	if (rules->count == *cap) {
		size_t new_cap = *cap == 0 ? 16 : *cap * 2;
		struct mirror_rule *grown = realloc(rules->rules, new_cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		rules->rules = grown;
		*cap = new_cap;
	}
	rules->rules[rules->count++] = *rule;
	return 0;
}

/* Parses one line (comment already stripped) into parsed; returns 0, or -1
 * with err set. Blank lines add nothing. */
static int parse_line(struct mirror_rules *parsed, size_t *cap, bool allow_upstream,
		      const char *name, size_t lineno, const char *line, size_t len, char *err,
		      size_t errlen)
{
	const char *tok[3];
	size_t tok_len[3];
	size_t count = tokenize(line, len, tok, tok_len);
	struct mirror_rule rule;
	const char *why;
	bool oom = false;

	if (count == 0)
		return 0;
	if (count != 2) {
		set_err(err, errlen, "%s:%zu: expected 'CLOUD[:REGION] %s', got '%.*s'", name,
			lineno, allow_upstream ? "upstream|BASE_URL" : "URL", (int)len, line);
		return -1;
	}
	why = parse_key(tok[0], tok_len[0], &rule);
	if (why != NULL) {
		token_error(err, errlen, name, lineno, why, tok[0], tok_len[0]);
		return -1;
	}
	for (size_t i = 0; i < parsed->count; i++) {
		if (rule_key_equal(&parsed->rules[i], &rule)) {
			set_err(err, errlen, "%s:%zu: duplicate rule for '%.*s'", name, lineno,
				(int)tok_len[0], tok[0]);
			return -1;
		}
	}
	char why_buf[128];
	why =
	    parse_target(tok[1], tok_len[1], allow_upstream, &rule, &oom, why_buf, sizeof(why_buf));
	if (why != NULL) {
		token_error(err, errlen, name, lineno, why, tok[1], tok_len[1]);
		return -1;
	}
	if (append_rule(parsed, cap, &rule) != 0) {
		free(rule.base_url);
		set_err(err, errlen, "%s:%zu: out of memory", name, lineno);
		return -1;
	}
	return 0;
}

static int parse_rules(struct mirror_rules *rules, bool allow_upstream, const char *name,
		       const char *buf, size_t len, char *err, size_t errlen)
{
	struct mirror_rules parsed;
	size_t cap = 0, lineno = 0, pos = 0;

	mirror_rules_init(&parsed);
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl == NULL ? len - pos : (size_t)(nl - line);
		const char *hash = memchr(line, '#', line_len);

		pos += line_len + (nl != NULL);
		lineno++;
		if (memchr(line, '\0', line_len) != NULL) {
			set_err(err, errlen, "%s:%zu: NUL byte in line", name, lineno);
			mirror_rules_free(&parsed);
			return -1;
		}
		if (hash != NULL)
			line_len = (size_t)(hash - line);
		if (parse_line(&parsed, &cap, allow_upstream, name, lineno, line, line_len, err,
			       errlen) != 0) {
			mirror_rules_free(&parsed);
			return -1;
		}
	}
	mirror_rules_free(rules);
	*rules = parsed;
	return 0;
}

int mirror_rules_parse(struct mirror_rules *rules, const char *name, const char *buf, size_t len,
		       char *err, size_t errlen)
{
	return parse_rules(rules, true, name, buf, len, err, errlen);
}

int upstream_rules_parse(struct mirror_rules *rules, const char *name, const char *buf, size_t len,
			 char *err, size_t errlen)
{
	return parse_rules(rules, false, name, buf, len, err, errlen);
}

static int load_file(struct mirror_rules *rules, bool allow_upstream, const char *path, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	int rc;

	if (f == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(MIRRORS_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	len = fread(buf, 1, MIRRORS_FILE_MAX + 1, f);
	if (ferror(f)) {
		set_err(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	} else if (len > MIRRORS_FILE_MAX) {
		set_err(err, errlen, "%s: larger than %d bytes, not a mirror rule file", path,
			MIRRORS_FILE_MAX);
		rc = -1;
	} else {
		rc = parse_rules(rules, allow_upstream, path, buf, len, err, errlen);
	}
	free(buf);
	fclose(f);
	return rc;
}

int mirror_rules_load_file(struct mirror_rules *rules, const char *path, char *err, size_t errlen)
{
	return load_file(rules, true, path, err, errlen);
}

int upstream_rules_load_file(struct mirror_rules *rules, const char *path, char *err, size_t errlen)
{
	return load_file(rules, false, path, err, errlen);
}

static const struct mirror_rule *find_rule(const struct mirror_rules *rules, const char *cloud,
					   const char *region)
{
	for (size_t i = 0; i < rules->count; i++) {
		if (strcmp(rules->rules[i].cloud, cloud) == 0 &&
		    strcmp(rules->rules[i].region, region) == 0)
			return &rules->rules[i];
	}
	return NULL;
}

const struct mirror_rule *mirror_rules_select(const struct mirror_rules *rules, const char *cloud,
					      const char *region)
{
	const struct mirror_rule *rule = NULL;

	/* No fall-through past the first matching rule: a mirror lacking a
	 * blob sends the client upstream, not to a less specific mirror. */
	if (cloud != NULL) {
		if (region != NULL && region[0] != '\0')
			rule = find_rule(rules, cloud, region);
		if (rule == NULL)
			rule = find_rule(rules, cloud, "");
	}
	if (rule == NULL)
		rule = find_rule(rules, "*", "");
	return rule;
}
