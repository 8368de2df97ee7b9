/* Provider JSON files: AWS ip-ranges.json, GCP cloud.json and Azure service
 * tags. Errors name the JSON path of the bad value (jansson keeps no source
 * positions for values, only for syntax errors). Provider CIDRs are parsed
 * leniently: host bits are cleared, the files are trusted to be canonical. */
#include <stdio.h>
#include <string.h>

#include "ranges_internal.h"

#define PATH_MAX_TEXT 160
#define VALUE_TEXT_MAX 80
#define AZURE_TAG_PREFIX "AzureCloud."

/* Where in the document a value sits, for error messages. */
struct json_where {
	const char *name;
	char path[PATH_MAX_TEXT];
};

static void where_error(const struct json_where *where, char *err, size_t errlen, const char *what)
{
	ranges_error(err, errlen, "%s: %s: %s", where->name, where->path, what);
}

static int missing_field(const struct json_where *where, const char *field, char *err,
			 size_t errlen)
{
	char what[128];
	snprintf(what, sizeof(what), "missing string field \"%s\"", field);
	where_error(where, err, errlen, what);
	return -1;
}

static void bad_value(const struct json_where *where, const char *field, const char *kind,
		      const char *value, char *err, size_t errlen)
{
	char quoted[VALUE_TEXT_MAX];
	ranges_quote(quoted, sizeof(quoted), value, strlen(value));
	ranges_error(err, errlen, "%s: %s%s%s: bad %s \"%s\"", where->name, where->path,
		     field ? "." : "", field ? field : "", kind, quoted);
}

static const char *string_field(const json_t *object, const char *field)
{
	return json_string_value(json_object_get(object, field));
}

/* Adds one provider CIDR for (cloud, region). */
static int add_prefix(struct range_set *set, struct region_table *regions,
		      const struct json_where *where, const char *field, const char *cidr,
		      const char *cloud, const char *region, char *err, size_t errlen)
{
	struct ip_prefix prefix;
	if (!ip_prefix_parse(cidr, false, &prefix)) {
		bad_value(where, field, "CIDR", cidr, err, errlen);
		return -1;
	}
	if (!ranges_valid_region(region, strlen(region))) {
		bad_value(where, NULL, "region name", region, err, errlen);
		return -1;
	}
	uint32_t id = region_table_intern(regions, cloud, region);
	if (id == REGION_NONE || range_set_add(set, &prefix, id) != 0) {
		where_error(where, err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* AWS: {"prefixes": [{"ip_prefix", "region"}], "ipv6_prefixes": [{"ipv6_prefix", "region"}]} */
static int parse_aws_list(struct range_set *set, struct region_table *regions, const char *name,
			  const json_t *root, const char *list, const char *field, char *err,
			  size_t errlen)
{
	const json_t *array = json_object_get(root, list);
	if (array == NULL)
		return 0;
	struct json_where where = {.name = name};
	if (!json_is_array(array)) {
		snprintf(where.path, sizeof(where.path), "%s", list);
		where_error(&where, err, errlen, "not an array");
		return -1;
	}
	size_t i;
	const json_t *item;
	json_array_foreach(array, i, item)
	{
		snprintf(where.path, sizeof(where.path), "%s[%zu]", list, i);
		const char *cidr = string_field(item, field);
		const char *region = string_field(item, "region");
		if (cidr == NULL)
			return missing_field(&where, field, err, errlen);
		if (region == NULL)
			return missing_field(&where, "region", err, errlen);
		if (add_prefix(set, regions, &where, field, cidr, RANGES_CLOUD_AWS, region, err,
			       errlen) != 0)
			return -1;
	}
	return 0;
}

/* GCP: {"prefixes": [{"ipv4Prefix" | "ipv6Prefix", "scope"}]} */
static int parse_gcp(struct range_set *set, struct region_table *regions, const char *name,
		     const json_t *root, char *err, size_t errlen)
{
	struct json_where where = {.name = name};
	size_t i;
	const json_t *item;
	json_array_foreach(json_object_get(root, "prefixes"), i, item)
	{
		snprintf(where.path, sizeof(where.path), "prefixes[%zu]", i);
		const char *field = "ipv4Prefix";
		const char *cidr = string_field(item, field);
		if (cidr == NULL) {
			field = "ipv6Prefix";
			cidr = string_field(item, field);
		}
		const char *scope = string_field(item, "scope");
		if (cidr == NULL)
			return missing_field(&where, "ipv4Prefix\" or \"ipv6Prefix", err, errlen);
		if (scope == NULL)
			return missing_field(&where, "scope", err, errlen);
		if (add_prefix(set, regions, &where, field, cidr, RANGES_CLOUD_GCP, scope, err,
			       errlen) != 0)
			return -1;
	}
	return 0;
}

/* One "AzureCloud.<region>" tag: properties.addressPrefixes, region from
 * properties.region or, when that is empty, from the tag name. */
static int parse_azure_tag(struct range_set *set, struct region_table *regions,
			   struct json_where *where, const json_t *tag, const char *tag_name,
			   char *err, size_t errlen)
{
	const json_t *properties = json_object_get(tag, "properties");
	if (!json_is_object(properties)) {
		where_error(where, err, errlen, "missing object field \"properties\"");
		return -1;
	}
	const json_t *prefixes = json_object_get(properties, "addressPrefixes");
	if (!json_is_array(prefixes)) {
		where_error(where, err, errlen,
			    "missing array field \"properties.addressPrefixes\"");
		return -1;
	}
	const char *region = string_field(properties, "region");
	if (region == NULL || region[0] == '\0')
		region = tag_name + strlen(AZURE_TAG_PREFIX);

	size_t base = strlen(where->path);
	size_t i;
	const json_t *item;
	json_array_foreach(prefixes, i, item)
	{
		snprintf(where->path + base, sizeof(where->path) - base,
			 ".properties.addressPrefixes[%zu]", i);
		const char *cidr = json_string_value(item);
		if (cidr == NULL) {
			where_error(where, err, errlen, "not a string");
			return -1;
		}
		if (add_prefix(set, regions, where, NULL, cidr, RANGES_CLOUD_AZURE, region, err,
			       errlen) != 0)
			return -1;
	}
	return 0;
}

/* Azure: {"values": [{"name": "AzureCloud.<region>", "properties": {...}}]};
 * every other tag (services, the global "AzureCloud") is ignored. */
static int parse_azure(struct range_set *set, struct region_table *regions, const char *name,
		       const json_t *root, char *err, size_t errlen)
{
	struct json_where where = {.name = name};
	size_t i;
	const json_t *tag;
	json_array_foreach(json_object_get(root, "values"), i, tag)
	{
		snprintf(where.path, sizeof(where.path), "values[%zu]", i);
		const char *tag_name = string_field(tag, "name");
		if (tag_name == NULL)
			return missing_field(&where, "name", err, errlen);
		size_t prefix_len = strlen(AZURE_TAG_PREFIX);
		if (strncmp(tag_name, AZURE_TAG_PREFIX, prefix_len) != 0 ||
		    tag_name[prefix_len] == '\0')
			continue;
		char quoted[VALUE_TEXT_MAX];
		ranges_quote(quoted, sizeof(quoted), tag_name, strlen(tag_name));
		snprintf(where.path, sizeof(where.path), "values[%zu] (%s)", i, quoted);
		if (parse_azure_tag(set, regions, &where, tag, tag_name, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static bool has_key(const json_t *object, const char *key)
{
	return json_object_get(object, key) != NULL;
}

enum ranges_format ranges_json_format(const json_t *root)
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

int ranges_parse_json(struct range_set *set, struct region_table *regions, const char *name,
		      const json_t *root, enum ranges_format format, char *err, size_t errlen)
{
	switch (format) {
	case RANGES_FORMAT_AWS:
		if (parse_aws_list(set, regions, name, root, "prefixes", "ip_prefix", err,
				   errlen) != 0)
			return -1;
		return parse_aws_list(set, regions, name, root, "ipv6_prefixes", "ipv6_prefix", err,
				      errlen);
	case RANGES_FORMAT_GCP:
		return parse_gcp(set, regions, name, root, err, errlen);
	case RANGES_FORMAT_AZURE:
		return parse_azure(set, regions, name, root, err, errlen);
	default:
		ranges_error(err, errlen, "%s: not a JSON ranges format", name);
		return -1;
	}
}
