/* The operator text format: `CIDR CLOUD REGION` per line, '#' starts a
 * comment, blank lines are ignored. Operator CIDRs are parsed strictly (host
 * bits set is an error) because a typo here silently reroutes clients; for
 * the same reason a default route (/0) needs a fourth field, `allow-default`,
 * on its line. */
#include <stdio.h>
#include <string.h>

#include "ranges_internal.h"

#define TEXT_FIELDS 3
#define ALLOW_DEFAULT "allow-default"
#define TOKEN_TEXT_MAX 80
#define WANT_FORMAT "want 'CIDR CLOUD REGION'"

struct token {
	const char *text;
	size_t len;
};

struct text_line {
	const char *name;
	size_t number;
	bool first_data_line; /* an error here means "not a text ranges file" */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* Splits s[0..len) at blanks; returns the number of tokens seen (may exceed
 * max, only the first max are stored). */
static size_t split_tokens(const char *s, size_t len, struct token *tokens, size_t max)
{
	size_t count = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && !is_blank(s[i]))
			i++;
		if (count < max) {
			tokens[count].text = s + start;
			tokens[count].len = i - start;
		}
		count++;
	}
	return count;
}

static void line_error(const struct text_line *line, char *err, size_t errlen, const char *what)
{
	/* FILE:LINE: message, the form of every file error. */
	if (line->first_data_line)
		ranges_error(err, errlen,
			     "%s:%zu: not a known ranges format (AWS, GCP or Azure JSON, or text "
			     "lines 'CIDR CLOUD REGION'): %s",
			     line->name, line->number, what);
	else
		ranges_error(err, errlen, "%s:%zu: %s", line->name, line->number, what);
}

static int parse_cidr(const struct token *token, const struct text_line *line,
		      struct ip_prefix *out, char *err, size_t errlen)
{
	char quoted[TOKEN_TEXT_MAX];
	char what[2 * TOKEN_TEXT_MAX + 64];
	ranges_quote(quoted, sizeof(quoted), token->text, token->len);
	char cidr[TOKEN_TEXT_MAX];
	if (token->len < sizeof(cidr)) {
		memcpy(cidr, token->text, token->len);
		cidr[token->len] = '\0';
		if (ip_prefix_parse(cidr, true, out))
			return 0;
		struct ip_prefix lenient;
		if (ip_prefix_parse(cidr, false, &lenient)) {
			char net[64];
			ip_format(&lenient.addr, net, sizeof(net));
			snprintf(what, sizeof(what),
				 "CIDR \"%s\" has host bits set (the network is %s/%u)", quoted,
				 net, (unsigned)lenient.len);
			line_error(line, err, errlen, what);
			return -1;
		}
	}
	snprintf(what, sizeof(what), "bad CIDR \"%s\"", quoted);
	line_error(line, err, errlen, what);
	return -1;
}

/* A /0 only with `allow-default`, and `allow-default` only on a /0. */
static int check_default_route(const struct token *cidr, const struct ip_prefix *prefix,
			       bool allow_default, const struct text_line *line, char *err,
			       size_t errlen)
{
	if ((prefix->len == 0) == allow_default)
		return 0;
	char quoted[TOKEN_TEXT_MAX];
	char what[TOKEN_TEXT_MAX + 160];
	ranges_quote(quoted, sizeof(quoted), cidr->text, cidr->len);
	if (allow_default)
		snprintf(what, sizeof(what),
			 "'" ALLOW_DEFAULT "' is only for a default route (0.0.0.0/0 or ::/0), "
			 "not for \"%s\"",
			 quoted);
	else
		snprintf(what, sizeof(what),
			 "CIDR \"%s\" is a default route (every client would be in one region); "
			 "add a fourth field '" ALLOW_DEFAULT "' if that is meant",
			 quoted);
	line_error(line, err, errlen, what);
	return -1;
}

/* Length of the line's content: up to any comment, without a trailing CR. */
static size_t content_len(const char *s, size_t len)
{
	const char *comment = memchr(s, '#', len);
	if (comment != NULL)
		len = (size_t)(comment - s);
	if (len > 0 && s[len - 1] == '\r')
		len--;
	return len;
}

/* The cloud and region fields, with a message saying what each allows. */
static int check_names(const struct token *cloud, const struct token *region,
		       const struct text_line *line, char *err, size_t errlen)
{
	char quoted[TOKEN_TEXT_MAX];
	char what[256];
	if (!ranges_valid_cloud(cloud->text, cloud->len)) {
		ranges_quote(quoted, sizeof(quoted), cloud->text, cloud->len);
		snprintf(what, sizeof(what),
			 "bad cloud name \"%s\" (want [a-z0-9_-], 1 to %d characters)", quoted,
			 REGION_CLOUD_MAX - 1);
		line_error(line, err, errlen, what);
		return -1;
	}
	if (!ranges_valid_region(region->text, region->len)) {
		ranges_quote(quoted, sizeof(quoted), region->text, region->len);
		snprintf(what, sizeof(what),
			 "bad region name \"%s\" (want printable characters without spaces, 1 "
			 "to %d characters)",
			 quoted, REGION_NAME_MAX - 1);
		line_error(line, err, errlen, what);
		return -1;
	}
	return 0;
}

/* Appends prefix for (cloud, region), both already checked to fit. */
static int add_range(struct range_set *set, struct region_table *regions,
		     const struct ip_prefix *prefix, const struct token *cloud_token,
		     const struct token *region_token, const struct text_line *line, char *err,
		     size_t errlen)
{
	char cloud[REGION_CLOUD_MAX];
	char region[REGION_NAME_MAX];
	memcpy(cloud, cloud_token->text, cloud_token->len);
	cloud[cloud_token->len] = '\0';
	memcpy(region, region_token->text, region_token->len);
	region[region_token->len] = '\0';
	uint32_t id = region_table_intern(regions, cloud, region);
	if (id == REGION_NONE || range_set_add(set, prefix, id) != 0) {
		line_error(line, err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Parses one line without its newline; blank and comment lines add nothing. */
static int parse_line(struct range_set *set, struct region_table *regions, const char *s,
		      size_t len, struct text_line *line, char *err, size_t errlen)
{
	if (memchr(s, '\0', len) != NULL) {
		line_error(line, err, errlen, "contains a NUL byte");
		return -1;
	}
	struct token tokens[TEXT_FIELDS + 1];
	size_t count = split_tokens(s, content_len(s, len), tokens, TEXT_FIELDS + 1);
	if (count == 0)
		return 0;
	bool allow_default =
	    count == TEXT_FIELDS + 1 && tokens[TEXT_FIELDS].len == strlen(ALLOW_DEFAULT) &&
	    memcmp(tokens[TEXT_FIELDS].text, ALLOW_DEFAULT, strlen(ALLOW_DEFAULT)) == 0;
	if (count != TEXT_FIELDS && !allow_default) {
		char what[64];
		snprintf(what, sizeof(what), "%zu field%s, " WANT_FORMAT, count,
			 count == 1 ? "" : "s");
		line_error(line, err, errlen, what);
		return -1;
	}
	struct ip_prefix prefix;
	if (parse_cidr(&tokens[0], line, &prefix, err, errlen) != 0 ||
	    check_default_route(&tokens[0], &prefix, allow_default, line, err, errlen) != 0 ||
	    check_names(&tokens[1], &tokens[2], line, err, errlen) != 0 ||
	    add_range(set, regions, &prefix, &tokens[1], &tokens[2], line, err, errlen) != 0)
		return -1;
	line->first_data_line = false;
	return 0;
}

int ranges_parse_text(struct range_set *set, struct region_table *regions, const char *name,
		      const char *buf, size_t len, char *err, size_t errlen)
{
	size_t before = set->count;
	struct text_line line = {.name = name, .number = 0, .first_data_line = true};
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		line.number++;
		if (parse_line(set, regions, buf + pos, end - pos, &line, err, errlen) != 0) {
			set->count = before;
			return -1;
		}
		pos = end + 1;
	}
	return 0;
}
