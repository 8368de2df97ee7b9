/* Provider JSON files: AWS ip-ranges.json, GCP cloud.json and Azure service
 * tags, read from the token tape (json_tape.h). Errors name the JSON path of
 * the bad value. Provider CIDRs are parsed leniently: host bits are cleared,
 * with a warning that finds the value's line in the text. A default route
 * (/0) is refused: a provider never publishes one, and it would put every
 * client in one region. What is taken and every message match the jansson
 * reader this replaced (tests/unit/helpers/ranges_json_ref.c, which the
 * differential fuzzer fuzz_ranges_stream and test_ranges_stream compare). */
#include <stdio.h>
#include <string.h>

#include "cidr_fast.h"
#include "json_tape.h"
#include "ranges_internal.h"

#define PATH_MAX_TEXT 160
#define VALUE_TEXT_MAX 80
#define AZURE_TAG_PREFIX "AzureCloud."
#define AZURE_TAG_PREFIX_LEN (sizeof(AZURE_TAG_PREFIX) - 1)
/* Longer than any address text ip_prefix_parse() takes (it refuses those). */
#define CIDR_TEXT_MAX 128
#define REGION_CACHE_SLOTS 64

/* A string from the tape: not NUL-terminated, never holding a NUL. */
struct span {
	const char *s;
	size_t len;
};

/* Where the entries of one file go, and where its errors go. */
struct json_reader {
	struct range_set *set;
	struct region_table *regions;
	const struct ranges_source *source;
	const struct json_tape *tape;
	size_t search_from; /* where the last warned-about value was found */
	char *err;
	size_t errlen;
	/* Regions interned so far, by a cheap hash of the name: a file names a
	 * few dozen regions tens of thousands of times, and each skips
	 * region_table_intern()'s SipHash. One file is one cloud. */
	struct {
		char name[REGION_NAME_MAX];
		size_t len;
		uint32_t id;
	} seen[REGION_CACHE_SLOTS];
};

/* Where in the document a value sits, for error messages; the path text is
 * only made when a message needs it. */
struct json_where {
	const char *name;
	const char *list; /* "prefixes", "values"... */
	bool indexed;
	size_t index;
	const char *tag; /* an Azure tag's quoted name, or NULL */
	bool sub_indexed;
	size_t sub_index; /* in an Azure tag's properties.addressPrefixes */
};

typedef int (*item_reader)(struct json_reader *r, struct json_where *where, uint32_t item,
			   const void *arg);

static const char *where_path(const struct json_where *w, char *buf)
{
	int n = snprintf(buf, PATH_MAX_TEXT, "%s", w->list ? w->list : "");
	if (w->indexed && n >= 0 && n < PATH_MAX_TEXT)
		n += snprintf(buf + n, PATH_MAX_TEXT - (size_t)n, "[%zu]", w->index);
	if (w->tag && n >= 0 && n < PATH_MAX_TEXT)
		n += snprintf(buf + n, PATH_MAX_TEXT - (size_t)n, " (%s)", w->tag);
	if (w->sub_indexed && n >= 0 && n < PATH_MAX_TEXT)
		snprintf(buf + n, PATH_MAX_TEXT - (size_t)n, ".properties.addressPrefixes[%zu]",
			 w->sub_index);
	return buf;
}

static void where_error(struct json_reader *r, const struct json_where *where, const char *what)
{
	char path[PATH_MAX_TEXT];
	ranges_error(r->err, r->errlen, "%s: %s: %s", where->name, where_path(where, path), what);
}

static int missing_field(struct json_reader *r, const struct json_where *where, const char *field)
{
	char what[128];
	snprintf(what, sizeof(what), "missing string field \"%s\"", field);
	where_error(r, where, what);
	return -1;
}

static void bad_value(struct json_reader *r, const struct json_where *where, const char *field,
		      const char *kind, struct span value)
{
	char quoted[VALUE_TEXT_MAX];
	char path[PATH_MAX_TEXT];
	ranges_quote(quoted, sizeof(quoted), value.s, value.len);
	ranges_error(r->err, r->errlen, "%s: %s%s%s: bad %s \"%s\"", where->name,
		     where_path(where, path), field ? "." : "", field ? field : "", kind, quoted);
}

static bool string_field(const struct json_reader *r, uint32_t object, const char *field,
			 struct span *out)
{
	return json_tape_string(r->tape, json_tape_get(r->tape, object, field), &out->s, &out->len);
}

/* Calls read_item on every element of array (on none when it is not an
 * array), numbering them in where for its errors: the one loop every
 * provider's lists are read with. */
static int each_item(struct json_reader *r, struct json_where *where, uint32_t array,
		     item_reader read_item, const void *arg)
{
	size_t i = 0;
	for (uint32_t item = json_tape_first(r->tape, array); item != JSON_TAPE_NONE;
	     item = json_tape_after(r->tape, array, item), i++) {
		if (where->tag) {
			where->sub_indexed = true;
			where->sub_index = i;
		} else {
			where->indexed = true;
			where->index = i;
		}
		if (read_item(r, where, item, arg) != 0)
			return -1;
	}
	return 0;
}

/* The 1-based line of the string value `"value"` in the source, or 0 when it
 * is not there as written (escaped). Searches on from the last value found,
 * so repeated values get their own lines when the file lists them in the
 * order they are read. */
static size_t line_of_value(struct json_reader *r, struct span value)
{
	char needle[VALUE_TEXT_MAX + 2];
	if (value.len + 2 >= sizeof(needle))
		return 0;
	size_t n = value.len + 2;
	needle[0] = '"';
	memcpy(needle + 1, value.s, value.len);
	needle[n - 1] = '"';
	const char *buf = r->source->buf;
	size_t len = r->source->len;
	const char *at = NULL;
	if (r->search_from < len)
		at = memmem(buf + r->search_from, len - r->search_from, needle, n);
	if (at == NULL)
		at = memmem(buf, len, needle, n);
	if (at == NULL)
		return 0;
	r->search_from = (size_t)(at - buf) + n;
	size_t line = 1;
	for (const char *p = buf; (p = memchr(p, '\n', (size_t)(at - p))) != NULL; p++)
		line++;
	return line;
}

/* Host bits cleared: accepted, but the operator hears which value it was. */
static void warn_host_bits(struct json_reader *r, const struct json_where *where, const char *field,
			   struct span cidr, const struct ip_prefix *prefix)
{
	struct ranges_warnings *w = &r->set->warnings;
	if (!ranges_warning_kept_next(w)) {
		w->total++; /* only counted: skip finding the line */
		return;
	}
	char quoted[VALUE_TEXT_MAX];
	char net[64];
	char line[32] = "";
	char path[PATH_MAX_TEXT];
	ranges_quote(quoted, sizeof(quoted), cidr.s, cidr.len);
	ip_format(&prefix->addr, net, sizeof(net));
	size_t number = line_of_value(r, cidr);
	if (number > 0)
		snprintf(line, sizeof(line), ":%zu", number);
	ranges_warn(w, "%s%s: %s%s%s: CIDR \"%s\" has host bits set; using %s/%u", where->name,
		    line, where_path(where, path), field ? "." : "", field ? field : "", quoted,
		    net, (unsigned)prefix->len);
}

/* Parses a provider CIDR: 0, or -1 with the error set. Strictly first: a
 * canonical CIDR (nearly all) is parsed once, by cidr_fast_parse(); only
 * one with host bits set is parsed again leniently, to clear them and warn. */
static int parse_cidr(struct json_reader *r, const struct json_where *where, const char *field,
		      struct span cidr, struct ip_prefix *prefix)
{
	bool canonical = cidr_fast_parse(cidr.s, cidr.len, prefix);
	if (!canonical) {
		char text[CIDR_TEXT_MAX];
		bool fits = cidr.len < sizeof(text);
		if (fits) {
			memcpy(text, cidr.s, cidr.len);
			text[cidr.len] = '\0';
		}
		canonical = fits && ip_prefix_parse(text, true, prefix);
		if (!canonical && !(fits && ip_prefix_parse(text, false, prefix))) {
			bad_value(r, where, field, "CIDR", cidr);
			return -1;
		}
	}
	if (prefix->len == 0) {
		char quoted[VALUE_TEXT_MAX];
		char path[PATH_MAX_TEXT];
		ranges_quote(quoted, sizeof(quoted), cidr.s, cidr.len);
		ranges_error(r->err, r->errlen,
			     "%s: %s%s%s: CIDR \"%s\" is a default route (every client would be in "
			     "one region), never taken from a provider file",
			     where->name, where_path(where, path), field ? "." : "",
			     field ? field : "", quoted);
		return -1;
	}
	if (!canonical)
		warn_host_bits(r, where, field, cidr, prefix);
	return 0;
}

/* region (checked with ranges_valid_region()) interned for cloud, behind
 * the reader's cache (the cloud is the same for the whole file): a name
 * found there was checked when it went in. REGION_NONE when the name is
 * not valid (*valid false) or memory ran out. */
static uint32_t intern(struct json_reader *r, const char *cloud, struct span region, bool *valid)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < region.len; i++)
		h = (h ^ (uint8_t)region.s[i]) * 16777619u;
	__typeof__(r->seen[0]) *slot = &r->seen[h % REGION_CACHE_SLOTS];
	*valid = true;
	if (slot->id != REGION_NONE && slot->len == region.len &&
	    memcmp(slot->name, region.s, region.len) == 0)
		return slot->id;
	*valid = ranges_valid_region(region.s, region.len);
	if (!*valid)
		return REGION_NONE;
	char name[REGION_NAME_MAX];
	memcpy(name, region.s, region.len); /* shorter: ranges_valid_region() passed */
	name[region.len] = '\0';
	uint32_t id = region_table_intern(r->regions, cloud, name);
	if (id != REGION_NONE) {
		memcpy(slot->name, name, region.len);
		slot->len = region.len;
		slot->id = id;
	}
	return id;
}

/* Adds one provider CIDR for (cloud, region). */
static int add_prefix(struct json_reader *r, const struct json_where *where, const char *field,
		      struct span cidr, const char *cloud, struct span region)
{
	struct ip_prefix prefix;
	if (parse_cidr(r, where, field, cidr, &prefix) != 0)
		return -1;
	bool valid;
	uint32_t id = intern(r, cloud, region, &valid);
	if (!valid) {
		bad_value(r, where, NULL, "region name", region);
		return -1;
	}
	if (id == REGION_NONE || range_set_add(r->set, &prefix, id) != 0) {
		where_error(r, where, "out of memory");
		return -1;
	}
	return 0;
}

/* AWS item: {"<cidr_field>", "region"}. */
static int read_aws_item(struct json_reader *r, struct json_where *where, uint32_t item,
			 const void *cidr_field)
{
	const char *field = cidr_field;
	struct span cidr, region;
	if (!string_field(r, item, field, &cidr))
		return missing_field(r, where, field);
	if (!string_field(r, item, "region", &region))
		return missing_field(r, where, "region");
	return add_prefix(r, where, field, cidr, RANGES_CLOUD_AWS, region);
}

/* AWS: {"prefixes": [{"ip_prefix", "region"}], "ipv6_prefixes": [{"ipv6_prefix", "region"}]} */
static int read_aws_list(struct json_reader *r, const char *name, const char *list,
			 const char *cidr_field)
{
	uint32_t array = json_tape_get(r->tape, 0, list);
	if (array == JSON_TAPE_NONE)
		return 0;
	struct json_where where = {.name = name, .list = list};
	if (json_tape_type(r->tape, array) != JT_ARRAY) {
		where_error(r, &where, "not an array");
		return -1;
	}
	return each_item(r, &where, array, read_aws_item, cidr_field);
}

/* GCP item: {"ipv4Prefix" | "ipv6Prefix", "scope"}. */
static int read_gcp_item(struct json_reader *r, struct json_where *where, uint32_t item,
			 const void *unused)
{
	(void)unused;
	const char *field = "ipv4Prefix";
	struct span cidr, scope;
	bool have_cidr = string_field(r, item, field, &cidr);
	if (!have_cidr) {
		field = "ipv6Prefix";
		have_cidr = string_field(r, item, field, &cidr);
	}
	if (!have_cidr)
		return missing_field(r, where, "ipv4Prefix\" or \"ipv6Prefix");
	if (!string_field(r, item, "scope", &scope))
		return missing_field(r, where, "scope");
	return add_prefix(r, where, field, cidr, RANGES_CLOUD_GCP, scope);
}

/* One of an Azure tag's properties.addressPrefixes, in the tag's region. */
static int read_azure_prefix(struct json_reader *r, struct json_where *where, uint32_t item,
			     const void *region)
{
	struct span cidr;
	if (!json_tape_string(r->tape, item, &cidr.s, &cidr.len)) {
		where_error(r, where, "not a string");
		return -1;
	}
	return add_prefix(r, where, NULL, cidr, RANGES_CLOUD_AZURE, *(const struct span *)region);
}

/* One "AzureCloud.<region>" tag: properties.addressPrefixes, region from
 * properties.region or, when that is empty, from the tag name. */
static int read_azure_tag(struct json_reader *r, struct json_where *where, uint32_t tag,
			  struct span tag_name)
{
	uint32_t properties = json_tape_get(r->tape, tag, "properties");
	if (json_tape_type(r->tape, properties) != JT_OBJECT) {
		where_error(r, where, "missing object field \"properties\"");
		return -1;
	}
	uint32_t prefixes = json_tape_get(r->tape, properties, "addressPrefixes");
	if (json_tape_type(r->tape, prefixes) != JT_ARRAY) {
		where_error(r, where, "missing array field \"properties.addressPrefixes\"");
		return -1;
	}
	struct span region;
	if (!string_field(r, properties, "region", &region) || region.len == 0)
		region = (struct span){tag_name.s + AZURE_TAG_PREFIX_LEN,
				       tag_name.len - AZURE_TAG_PREFIX_LEN};
	return each_item(r, where, prefixes, read_azure_prefix, &region);
}

/* Azure value: {"name": "AzureCloud.<region>", "properties": {...}}; every
 * other tag (services, the global "AzureCloud") is ignored. */
static int read_azure_value(struct json_reader *r, struct json_where *where, uint32_t tag,
			    const void *unused)
{
	(void)unused;
	struct span tag_name;
	if (!string_field(r, tag, "name", &tag_name))
		return missing_field(r, where, "name");
	if (tag_name.len <= AZURE_TAG_PREFIX_LEN ||
	    memcmp(tag_name.s, AZURE_TAG_PREFIX, AZURE_TAG_PREFIX_LEN) != 0)
		return 0;
	char quoted[VALUE_TEXT_MAX];
	ranges_quote(quoted, sizeof(quoted), tag_name.s, tag_name.len);
	struct json_where inner = *where;
	inner.tag = quoted;
	return read_azure_tag(r, &inner, tag, tag_name);
}

static bool has_key(const struct json_tape *tape, uint32_t object, const char *key)
{
	return json_tape_get(tape, object, key) != JSON_TAPE_NONE;
}

enum ranges_format ranges_json_format(const struct json_tape *tape)
{
	if (json_tape_type(tape, 0) != JT_OBJECT)
		return RANGES_FORMAT_UNKNOWN;
	uint32_t prefixes = json_tape_get(tape, 0, "prefixes");
	/* The first element naming a known key decides, so one malformed entry
	 * is reported as such rather than as an unknown format. */
	for (uint32_t item = json_tape_first(tape, prefixes); item != JSON_TAPE_NONE;
	     item = json_tape_after(tape, prefixes, item)) {
		if (has_key(tape, item, "ip_prefix") || has_key(tape, item, "ipv6_prefix"))
			return RANGES_FORMAT_AWS;
		if (has_key(tape, item, "ipv4Prefix") || has_key(tape, item, "ipv6Prefix"))
			return RANGES_FORMAT_GCP;
	}
	if (json_tape_type(tape, json_tape_get(tape, 0, "ipv6_prefixes")) == JT_ARRAY)
		return RANGES_FORMAT_AWS;
	if (json_tape_type(tape, json_tape_get(tape, 0, "values")) == JT_ARRAY)
		return RANGES_FORMAT_AZURE;
	return RANGES_FORMAT_UNKNOWN;
}

int ranges_parse_json(struct range_set *set, struct region_table *regions,
		      const struct ranges_source *source, const struct json_tape *tape,
		      enum ranges_format format, char *err, size_t errlen)
{
	const char *name = source->name;
	struct json_reader r = {.set = set,
				.regions = regions,
				.source = source,
				.tape = tape,
				.err = err,
				.errlen = errlen};
	switch (format) {
	case RANGES_FORMAT_AWS:
		if (read_aws_list(&r, name, "prefixes", "ip_prefix") != 0)
			return -1;
		return read_aws_list(&r, name, "ipv6_prefixes", "ipv6_prefix");
	case RANGES_FORMAT_GCP:
		return each_item(&r, &(struct json_where){.name = name, .list = "prefixes"},
				 json_tape_get(tape, 0, "prefixes"), read_gcp_item, NULL);
	case RANGES_FORMAT_AZURE:
		return each_item(&r, &(struct json_where){.name = name, .list = "values"},
				 json_tape_get(tape, 0, "values"), read_azure_value, NULL);
	default:
		ranges_error(err, errlen, "%s: not a JSON ranges format", name);
		return -1;
	}
}
