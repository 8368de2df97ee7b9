/* The jansson-based reader of the provider JSON files that production used
 * before json_tape.c, kept verbatim as the reference the new reader is
 * compared with (tests/fuzz/fuzz_ranges_stream.c, tests/unit/test_ranges_stream.c):
 * for any input both must refuse, or both accept with the same entries,
 * warnings and stamps. Test-only; production no longer links it. */
#include "ranges_json_ref.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_TEXT 160
#define VALUE_TEXT_MAX 80
#define AZURE_TAG_PREFIX "AzureCloud."

/* Where the entries of one file go, and where its errors go. */
struct json_reader {
	struct range_set *set;
	struct region_table *regions;
	const struct ranges_source *source;
	size_t search_from; /* where the last warned-about value was found */
	char *err;
	size_t errlen;
};

/* Where in the document a value sits, for error messages. */
struct json_where {
	const char *name;
	char path[PATH_MAX_TEXT];
};

/* Reads one element of a list; arg is what the list's reader passed on. */
typedef int (*item_reader)(struct json_reader *r, struct json_where *where, const json_t *item,
			   const void *arg);

static void where_error(struct json_reader *r, const struct json_where *where, const char *what)
{
	ranges_error(r->err, r->errlen, "%s: %s: %s", where->name, where->path, what);
}

static int missing_field(struct json_reader *r, const struct json_where *where, const char *field)
{
	char what[128];
	snprintf(what, sizeof(what), "missing string field \"%s\"", field);
	where_error(r, where, what);
	return -1;
}

static void bad_value(struct json_reader *r, const struct json_where *where, const char *field,
		      const char *kind, const char *value)
{
	char quoted[VALUE_TEXT_MAX];
	ranges_quote(quoted, sizeof(quoted), value, strlen(value));
	ranges_error(r->err, r->errlen, "%s: %s%s%s: bad %s \"%s\"", where->name, where->path,
		     field ? "." : "", field ? field : "", kind, quoted);
}

static const char *string_field(const json_t *object, const char *field)
{
	return json_string_value(json_object_get(object, field));
}

/* Calls read_item on every element of array (on none when it is not an array),
 * with "<list>[i]" appended to where->path for its errors: the one loop
 * every provider's lists are read with. */
static int each_item(struct json_reader *r, struct json_where *where, const json_t *array,
		     const char *list, item_reader read_item, const void *arg)
{
	size_t base = strlen(where->path);
	size_t i;
	const json_t *item;
	json_array_foreach(array, i, item)
	{
		snprintf(where->path + base, sizeof(where->path) - base, "%s[%zu]", list, i);
		if (read_item(r, where, item, arg) != 0)
			return -1;
	}
	return 0;
}

/* The 1-based line of the string value `"value"` in the source, or 0 when it
 * is not there as written (escaped). Searches on from the last value found,
 * so repeated values get their own lines when the file lists them in the
 * order they are read. */
static size_t line_of_value(struct json_reader *r, const char *value)
{
	char needle[VALUE_TEXT_MAX + 2];
	int n = snprintf(needle, sizeof(needle), "\"%s\"", value);
	if (n < 0 || (size_t)n >= sizeof(needle))
		return 0;
	const char *buf = r->source->buf;
	size_t len = r->source->len;
	const char *at = NULL;
	if (r->search_from < len)
		at = memmem(buf + r->search_from, len - r->search_from, needle, (size_t)n);
	if (at == NULL)
		at = memmem(buf, len, needle, (size_t)n);
	if (at == NULL)
		return 0;
	r->search_from = (size_t)(at - buf) + (size_t)n;
	size_t line = 1;
	for (const char *p = buf; p < at; p++)
		line += *p == '\n';
	return line;
}

/* Host bits cleared: accepted, but the operator hears which value it was. */
static void warn_host_bits(struct json_reader *r, const struct json_where *where, const char *field,
			   const char *cidr, const struct ip_prefix *prefix)
{
	struct ranges_warnings *w = &r->set->warnings;
	if (!ranges_warning_kept_next(w)) {
		w->total++; /* only counted: skip finding the line */
		return;
	}
	char quoted[VALUE_TEXT_MAX];
	char net[64];
	char line[32] = "";
	ranges_quote(quoted, sizeof(quoted), cidr, strlen(cidr));
	ip_format(&prefix->addr, net, sizeof(net));
	size_t number = line_of_value(r, cidr);
	if (number > 0)
		snprintf(line, sizeof(line), ":%zu", number);
	ranges_warn(w, "%s%s: %s%s%s: CIDR \"%s\" has host bits set; using %s/%u", where->name,
		    line, where->path, field ? "." : "", field ? field : "", quoted, net,
		    (unsigned)prefix->len);
}

/* Parses a provider CIDR: 0, or -1 with the error set. */
static int parse_cidr(struct json_reader *r, const struct json_where *where, const char *field,
		      const char *cidr, struct ip_prefix *prefix)
{
	if (!ip_prefix_parse(cidr, false, prefix)) {
		bad_value(r, where, field, "CIDR", cidr);
		return -1;
	}
	if (prefix->len == 0) {
		char quoted[VALUE_TEXT_MAX];
		ranges_quote(quoted, sizeof(quoted), cidr, strlen(cidr));
		ranges_error(r->err, r->errlen,
			     "%s: %s%s%s: CIDR \"%s\" is a default route (every client would be in "
			     "one region), never taken from a provider file",
			     where->name, where->path, field ? "." : "", field ? field : "",
			     quoted);
		return -1;
	}
	struct ip_prefix strict;
	if (!ip_prefix_parse(cidr, true, &strict))
		warn_host_bits(r, where, field, cidr, prefix);
	return 0;
}

/* Adds one provider CIDR for (cloud, region). */
static int add_prefix(struct json_reader *r, const struct json_where *where, const char *field,
		      const char *cidr, const char *cloud, const char *region)
{
	struct ip_prefix prefix;
	if (parse_cidr(r, where, field, cidr, &prefix) != 0)
		return -1;
	if (!ranges_valid_region(region, strlen(region))) {
		bad_value(r, where, NULL, "region name", region);
		return -1;
	}
	uint32_t id = region_table_intern(r->regions, cloud, region);
	if (id == REGION_NONE || range_set_add(r->set, &prefix, id) != 0) {
		where_error(r, where, "out of memory");
		return -1;
	}
	return 0;
}

/* AWS item: {"<cidr_field>", "region"}. */
static int read_aws_item(struct json_reader *r, struct json_where *where, const json_t *item,
			 const void *cidr_field)
{
	const char *field = cidr_field;
	const char *cidr = string_field(item, field);
	const char *region = string_field(item, "region");
	if (cidr == NULL)
		return missing_field(r, where, field);
	if (region == NULL)
		return missing_field(r, where, "region");
	return add_prefix(r, where, field, cidr, RANGES_CLOUD_AWS, region);
}

/* AWS: {"prefixes": [{"ip_prefix", "region"}], "ipv6_prefixes": [{"ipv6_prefix", "region"}]} */
static int read_aws_list(struct json_reader *r, const char *name, const json_t *root,
			 const char *list, const char *cidr_field)
{
	const json_t *array = json_object_get(root, list);
	if (array == NULL)
		return 0;
	struct json_where where = {.name = name};
	if (!json_is_array(array)) {
		snprintf(where.path, sizeof(where.path), "%s", list);
		where_error(r, &where, "not an array");
		return -1;
	}
	return each_item(r, &where, array, list, read_aws_item, cidr_field);
}

/* GCP item: {"ipv4Prefix" | "ipv6Prefix", "scope"}. */
static int read_gcp_item(struct json_reader *r, struct json_where *where, const json_t *item,
			 const void *unused)
{
	(void)unused;
	const char *field = "ipv4Prefix";
	const char *cidr = string_field(item, field);
	if (cidr == NULL) {
		field = "ipv6Prefix";
		cidr = string_field(item, field);
	}
	const char *scope = string_field(item, "scope");
	if (cidr == NULL)
		return missing_field(r, where, "ipv4Prefix\" or \"ipv6Prefix");
	if (scope == NULL)
		return missing_field(r, where, "scope");
	return add_prefix(r, where, field, cidr, RANGES_CLOUD_GCP, scope);
}

/* One of an Azure tag's properties.addressPrefixes, in the tag's region. */
static int read_azure_prefix(struct json_reader *r, struct json_where *where, const json_t *item,
			     const void *region)
{
	const char *cidr = json_string_value(item);
	if (cidr == NULL) {
		where_error(r, where, "not a string");
		return -1;
	}
	return add_prefix(r, where, NULL, cidr, RANGES_CLOUD_AZURE, region);
}

/* One "AzureCloud.<region>" tag: properties.addressPrefixes, region from
 * properties.region or, when that is empty, from the tag name. */
static int read_azure_tag(struct json_reader *r, struct json_where *where, const json_t *tag,
			  const char *tag_name)
{
	const json_t *properties = json_object_get(tag, "properties");
	if (!json_is_object(properties)) {
		where_error(r, where, "missing object field \"properties\"");
		return -1;
	}
	const json_t *prefixes = json_object_get(properties, "addressPrefixes");
	if (!json_is_array(prefixes)) {
		where_error(r, where, "missing array field \"properties.addressPrefixes\"");
		return -1;
	}
	const char *region = string_field(properties, "region");
	if (region == NULL || region[0] == '\0')
		region = tag_name + strlen(AZURE_TAG_PREFIX);
	return each_item(r, where, prefixes, ".properties.addressPrefixes", read_azure_prefix,
			 region);
}

/* Azure value: {"name": "AzureCloud.<region>", "properties": {...}}; every
 * other tag (services, the global "AzureCloud") is ignored. */
static int read_azure_value(struct json_reader *r, struct json_where *where, const json_t *tag,
			    const void *unused)
{
	(void)unused;
	const char *tag_name = string_field(tag, "name");
	if (tag_name == NULL)
		return missing_field(r, where, "name");
	size_t prefix_len = strlen(AZURE_TAG_PREFIX);
	if (strncmp(tag_name, AZURE_TAG_PREFIX, prefix_len) != 0 || tag_name[prefix_len] == '\0')
		return 0;
	char quoted[VALUE_TEXT_MAX];
	ranges_quote(quoted, sizeof(quoted), tag_name, strlen(tag_name));
	size_t base = strlen(where->path);
	snprintf(where->path + base, sizeof(where->path) - base, " (%s)", quoted);
	return read_azure_tag(r, where, tag, tag_name);
}

static bool has_key(const json_t *object, const char *key)
{
	return json_object_get(object, key) != NULL;
}

static enum ranges_format ref_json_format(const json_t *root)
{
	if (!json_is_object(root))
		return RANGES_FORMAT_UNKNOWN;
	const json_t *prefixes = json_object_get(root, "prefixes");
	size_t i;
	const json_t *item;
	/* The first element naming a known key decides, so one malformed entry
	 * is reported as such rather than as an unknown format. */
	json_array_foreach(prefixes, i, item)
	{
		if (has_key(item, "ip_prefix") || has_key(item, "ipv6_prefix"))
			return RANGES_FORMAT_AWS;
		if (has_key(item, "ipv4Prefix") || has_key(item, "ipv6Prefix"))
			return RANGES_FORMAT_GCP;
	}
	if (json_is_array(json_object_get(root, "ipv6_prefixes")))
		return RANGES_FORMAT_AWS;
	if (json_is_array(json_object_get(root, "values")))
		return RANGES_FORMAT_AZURE;
	return RANGES_FORMAT_UNKNOWN;
}

static int ref_parse_json(struct range_set *set, struct region_table *regions,
			  const struct ranges_source *source, const json_t *root,
			  enum ranges_format format, char *err, size_t errlen)
{
	const char *name = source->name;
	struct json_reader r = {
	    .set = set, .regions = regions, .source = source, .err = err, .errlen = errlen};
	struct json_where where = {.name = name};
	switch (format) {
	case RANGES_FORMAT_AWS:
		if (read_aws_list(&r, name, root, "prefixes", "ip_prefix") != 0)
			return -1;
		return read_aws_list(&r, name, root, "ipv6_prefixes", "ipv6_prefix");
	case RANGES_FORMAT_GCP:
		return each_item(&r, &where, json_object_get(root, "prefixes"), "prefixes",
				 read_gcp_item, NULL);
	case RANGES_FORMAT_AZURE:
		return each_item(&r, &where, json_object_get(root, "values"), "values",
				 read_azure_value, NULL);
	default:
		ranges_error(err, errlen, "%s: not a JSON ranges format", name);
		return -1;
	}
}

static void ref_json_stamp(const json_t *root, enum ranges_format format,
			   struct ranges_stamp *stamp)
{
	const char *text;
	int64_t t;
	switch (format) {
	case RANGES_FORMAT_AWS:
		text = json_string_value(json_object_get(root, "createDate"));
		if (text && ranges_parse_utc(text, '-', '-', '-', &t))
			stamp->published = t;
		break;
	case RANGES_FORMAT_GCP:
		text = json_string_value(json_object_get(root, "creationTime"));
		if (text && ranges_parse_utc(text, '-', 'T', ':', &t))
			stamp->published = t;
		break;
	case RANGES_FORMAT_AZURE: {
		const json_t *number = json_object_get(root, "changeNumber");
		if (json_is_integer(number) && json_integer_value(number) >= 0)
			stamp->change_number = (long long)json_integer_value(number);
		break;
	}
	default:
		break;
	}
}

static int ref_json_buffer(struct range_set *set, struct region_table *regions, const char *name,
			   const char *buf, size_t len, struct ranges_stamp *stamp, char *err,
			   size_t errlen)
{
	json_error_t error;
	json_t *root = json_loadb(buf, len, 0, &error);
	if (root == NULL) {
		ranges_error(err, errlen, "%s:%d: invalid JSON at column %d: %s", name, error.line,
			     error.column, error.text);
		return -1;
	}
	enum ranges_format format = ref_json_format(root);
	int rc = -1;
	if (format == RANGES_FORMAT_UNKNOWN)
		ranges_error(err, errlen,
			     "%s: JSON but not a known ranges format (want AWS ip-ranges.json, "
			     "GCP cloud.json or Azure service tags)",
			     name);
	else
		rc = ref_parse_json(set, regions,
				    &(struct ranges_source){.name = name, .buf = buf, .len = len},
				    root, format, err, errlen);
	if (rc == 0 && stamp) {
		stamp->format = format;
		ref_json_stamp(root, format, stamp);
	}
	json_decref(root);
	return rc;
}

int ranges_ref_parse_buffer(struct range_set *set, struct region_table *regions, const char *name,
			    const char *buf, size_t len, struct ranges_stamp *stamp, char *err,
			    size_t errlen)
{
	size_t before = set->count;
	size_t warnings_before = set->warnings.total;
	size_t off = ranges_skip_bom(buf, len);
	int rc;
	if (stamp)
		*stamp = (struct ranges_stamp){.format = RANGES_FORMAT_TEXT, .change_number = -1};
	if (ranges_looks_like_json(buf + off, len - off))
		rc = ref_json_buffer(set, regions, name, buf + off, len - off, stamp, err, errlen);
	else
		rc = ranges_parse_text(set, regions, name, buf + off, len - off, err, errlen);
	if (rc != 0) {
		set->count = before;
		set->warnings.total = warnings_before;
	}
	return rc;
}
