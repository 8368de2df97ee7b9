/* Every flag of archeio-mirror, one row each (see core/options.h), and the
 * few values that need their own parsing. docs/mirroring.md lists the same
 * flags (tests/unit/test_option_tables.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/options.h"
#include "archeio/mirrortool/cli.h"

#define FIELD(member) OPTION_FIELD(struct mirror_options, member)
#define COUNT_OF(member) .count_offset = offsetof(struct mirror_options, member)

static bool http_url(const char *url)
{
	const char *rest = strncmp(url, "http://", 7) == 0    ? url + 7
			   : strncmp(url, "https://", 8) == 0 ? url + 8
							      : NULL;
	/* A host must follow the scheme: "http:///x" names none. */
	return rest && *rest && !strchr("/?#", *rest);
}

static bool set_from(void *target, const struct option_spec *spec, const char *url,
		     const char *source, char *err, size_t errlen)
{
	if (!http_url(url)) {
		snprintf(err, errlen, "%s: \"%s\" is not an http:// or https:// URL", source, url);
		return false;
	}
	char *copy = strdup(url);
	if (!copy)
		return false;
	size_t len = strlen(copy);
	while (len > 0 && copy[len - 1] == '/')
		copy[--len] = '\0';
	char **slot = option_field(target, spec);
	free(*slot);
	*slot = copy;
	return true;
}

static bool check_s3_endpoint(const char *url, const char *source, char *err, size_t errlen)
{
	if (http_url(url))
		return true;
	snprintf(err, errlen, "%s: \"%s\" is not an http(s) URL", source, url);
	return false;
}

static bool check_s3_region(const char *region, const char *source, char *err, size_t errlen)
{
	if (*region && !strchr(region, '/'))
		return true;
	snprintf(err, errlen, "%s: \"%s\" is not a region", source, region);
	return false;
}

static bool check_repo(const char *name, const char *source, char *err, size_t errlen)
{
	if (cli_repo_name_valid(name))
		return true;
	snprintf(err, errlen, "%s: \"%s\" is not a valid repository name", source, name);
	return false;
}

static bool check_ref(const char *ref, const char *source, char *err, size_t errlen)
{
	if (cli_ref_valid(ref))
		return true;
	snprintf(err, errlen, "%s: \"%s\" is neither a tag nor a digest", source, ref);
	return false;
}

static bool set_rate(void *target, const struct option_spec *spec, const char *text,
		     const char *source, char *err, size_t errlen)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end != '\0' || !(v >= 0) || v > 1e6) {
		snprintf(err, errlen, "%s: \"%s\" is not a rate in 0..1000000", source, text);
		return false;
	}
	*(double *)option_field(target, spec) = v;
	return true;
}

static void free_dest(struct mirror_dest *d)
{
	free(d->text);
	free(d->dir);
	free(d->bucket);
	free(d->prefix);
	free(d->endpoint);
	free(d->region);
	memset(d, 0, sizeof(*d));
}

static void clear_dests(void *target, const struct option_spec *spec)
{
	(void)spec;
	struct mirror_options *o = target;
	for (size_t i = 0; i < o->dest_count; i++)
		free_dest(&o->dests[i]);
	free(o->dests);
	o->dests = NULL;
	o->dest_count = 0;
}

static bool bucket_valid(const char *bucket, size_t len, const char *to, const char *source,
			 char *err, size_t errlen)
{
	if (len == 0 || len > 63) {
		snprintf(err, errlen, "%s: \"%s\" has no valid bucket name", source, to);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = bucket[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
			snprintf(err, errlen, "%s: bad character '%c' in bucket of \"%s\"", source,
				 c, to);
			return false;
		}
	}
	return true;
}

/* One "name=value" of an s3:// destination's query: endpoint or region. */
static bool set_s3_param(struct mirror_dest *d, const char *param, size_t len, const char *to,
			 const char *source, char *err, size_t errlen)
{
	const char *eq = memchr(param, '=', len);
	char *value = eq ? strndup(eq + 1, len - (size_t)(eq + 1 - param)) : NULL;
	size_t name_len = eq ? (size_t)(eq - param) : len;
	char **slot = NULL;
	bool ok = false;
	if (name_len == 8 && strncmp(param, "endpoint", 8) == 0) {
		slot = &d->endpoint;
		ok = value && check_s3_endpoint(value, source, err, errlen);
	} else if (name_len == 6 && strncmp(param, "region", 6) == 0) {
		slot = &d->region;
		ok = value && check_s3_region(value, source, err, errlen);
	} else {
		snprintf(err, errlen, "%s: \"%s\": unknown setting \"%.*s\" (endpoint, region)",
			 source, to, (int)name_len, param);
	}
	if (slot && !value)
		snprintf(err, errlen, "%s: \"%s\": %.*s needs a value", source, to, (int)name_len,
			 param);
	if (ok && *slot) {
		snprintf(err, errlen, "%s: \"%s\": %.*s given twice", source, to, (int)name_len,
			 param);
		ok = false;
	}
	if (ok)
		*slot = value;
	else
		free(value);
	return ok;
}

/* s3://BUCKET[/PREFIX][?endpoint=URL&region=R]: a bucket of [a-z0-9.-], the
 * prefix without slashes at either end. */
static bool parse_s3_dest(struct mirror_dest *d, const char *to, const char *source, char *err,
			  size_t errlen)
{
	const char *bucket = to + 5;
	size_t bucket_len = strcspn(bucket, "/?");
	if (!bucket_valid(bucket, bucket_len, to, source, err, errlen))
		return false;
	const char *prefix = bucket + bucket_len;
	while (*prefix == '/')
		prefix++;
	size_t prefix_len = strcspn(prefix, "?");
	d->kind = MIRROR_DEST_S3;
	d->bucket = strndup(bucket, bucket_len);
	d->prefix = strndup(prefix, prefix_len);
	if (!d->bucket || !d->prefix)
		return false;
	while (prefix_len > 0 && d->prefix[prefix_len - 1] == '/')
		d->prefix[--prefix_len] = '\0';
	const char *query = strchr(prefix, '?');
	for (const char *p = query ? query + 1 : NULL; p && *p;) {
		size_t len = strcspn(p, "&");
		if (len && !set_s3_param(d, p, len, to, source, err, errlen))
			return false;
		p += len + (p[len] == '&');
	}
	return true;
}

/* Each --to adds a destination. */
static bool add_dest(void *target, const struct option_spec *spec, const char *to,
		     const char *source, char *err, size_t errlen)
{
	(void)spec;
	struct mirror_options *o = target;
	if (!*to) {
		snprintf(err, errlen, "%s: empty destination", source);
		return false;
	}
	struct mirror_dest d = {.kind = MIRROR_DEST_DIR, .text = strdup(to)};
	bool ok = d.text != NULL;
	if (ok && strncmp(to, "s3://", 5) == 0)
		ok = parse_s3_dest(&d, to, source, err, errlen);
	else if (ok)
		ok = (d.dir = strdup(to)) != NULL;
	struct mirror_dest *grown =
	    ok ? realloc(o->dests, (o->dest_count + 1) * sizeof(*o->dests)) : NULL;
	if (!grown) {
		if (ok)
			snprintf(err, errlen, "out of memory");
		free_dest(&d);
		return false;
	}
	o->dests = grown;
	o->dests[o->dest_count++] = d;
	return true;
}

static bool set_part_size(void *target, const struct option_spec *spec, const char *text,
			  const char *source, char *err, size_t errlen)
{
	unsigned long long v;
	if (!cli_parse_size(text, &v) || v < MIRROR_S3_MIN_PART_SIZE ||
	    v > MIRROR_S3_MAX_PART_SIZE) {
		snprintf(err, errlen, "%s: \"%s\" is not a size in 5MiB..5GiB", source, text);
		return false;
	}
	*(unsigned long long *)option_field(target, spec) = v;
	return true;
}

static const struct option_choice verify_choices[] = {
    {"off", MIRROR_VERIFY_OFF},
    {"size", MIRROR_VERIFY_SIZE},
    {"digest", MIRROR_VERIFY_DIGEST},
    {NULL, 0},
};

static const struct option_spec cli_options[] = {
    {.flag = "from",
     .metavar = "URL",
     .kind = OPTION_STRING,
     FIELD(from),
     .set = set_from,
     .help = "source registry, http:// or https://"},
    {.flag = "repo",
     .metavar = "NAME",
     .kind = OPTION_STRING_LIST,
     FIELD(repos),
     COUNT_OF(repo_count),
     .check = check_repo,
     .help = "repository to copy"},
    {.flag = "repos-file",
     .metavar = "F",
     .kind = OPTION_STRING,
     FIELD(repos_file),
     .help = "more repositories, one per line ('#' comments)"},
    {.flag = "catalog",
     .kind = OPTION_SWITCH,
     FIELD(catalog),
     .help = "also copy every repository listed by /v2/_catalog"},
    {.flag = "ref",
     .metavar = "REF",
     .kind = OPTION_STRING_LIST,
     FIELD(refs),
     COUNT_OF(ref_count),
     .check = check_ref,
     .help = "copy only this tag or digest of each repository (default: every tag from "
	     "tags/list)"},
    {.flag = "to",
     .metavar = "DEST",
     .kind = OPTION_CUSTOM_LIST,
     FIELD(dests),
     COUNT_OF(dest_count),
     .set = add_dest,
     .clear = clear_dests,
     .help = "directory or s3://BUCKET[/PREFIX][?endpoint=URL&region=R]; repeat it to "
	     "copy into several destinations in one run"},
    {.flag = "s3-endpoint",
     .metavar = "URL",
     .kind = OPTION_STRING,
     FIELD(s3_endpoint),
     .check = check_s3_endpoint,
     .help = "S3-compatible endpoint (path-style); default AWS"},
    {.flag = "s3-region",
     .metavar = "R",
     .kind = OPTION_STRING,
     FIELD(s3_region),
     .check = check_s3_region,
     .help = "SigV4 region (default us-east-1)"},
    {.flag = "concurrency",
     .metavar = "N",
     .kind = OPTION_UINT,
     FIELD(concurrency),
     .min = 1,
     .max = 256,
     .default_value = "4",
     .help = "parallel blob transfers"},
    {.flag = "rps",
     .metavar = "N",
     .kind = OPTION_CUSTOM,
     FIELD(rps),
     .set = set_rate,
     .default_value = "0",
     .help = "requests per second toward the source, fractions allowed (0 = no limit)"},
    {.flag = "retries",
     .metavar = "N",
     .kind = OPTION_UINT,
     FIELD(retries),
     .min = 0,
     .max = 20,
     .default_value = "4",
     .help = "retries on 429/5xx/transport errors"},
    {.flag = "state-dir",
     .metavar = "DIR",
     .kind = OPTION_STRING,
     FIELD(state_dir),
     .help = "where copied manifests are recorded (default DIR/.archeio-mirror for "
	     "directories)"},
    {.flag = "dry-run",
     .kind = OPTION_SWITCH,
     FIELD(dry_run),
     .help = "list what would be copied, write nothing"},
    {.flag = "s3-part-size",
     .metavar = "SIZE",
     .kind = OPTION_CUSTOM,
     FIELD(s3_part_size),
     .set = set_part_size,
     .default_value = "64MiB",
     .help = "S3 blobs larger than this go up as a multipart upload in parts of this size "
	     "(5MiB..5GiB; grown when a blob would need more than 10000 parts)"},
    {.flag = "s3-part-concurrency",
     .metavar = "N",
     .kind = OPTION_UINT,
     FIELD(s3_part_concurrency),
     .min = 1,
     .max = 64,
     .default_value = "4",
     .help = "parts of one blob uploaded at once (memory: part size x this x "
	     "--concurrency)"},
    {.flag = "verify",
     .kind = OPTION_CHOICE,
     FIELD(verify),
     .choices = verify_choices,
     .what = "verify mode",
     .default_value = "off",
     .implied_value = "size",
     .help = "check every blob of recorded images in every destination (size, or digest: "
	     "re-hash / S3 checksum) and restore the missing or damaged there"},
    {.flag = "auth-file",
     .metavar = "F",
     .kind = OPTION_STRING,
     FIELD(auth_file),
     .help = "credentials for the source, containers auth.json / docker config.json format "
	     "(default: $REGISTRY_AUTH_FILE when set)"},
    {.flag = "ca-file",
     .metavar = "F",
     .kind = OPTION_STRING,
     FIELD(ca_file),
     .help = "CA certificates (PEM) that an https:// source is verified against"},
};

const struct option_spec *cli_option_table(size_t *count)
{
	*count = sizeof(cli_options) / sizeof(cli_options[0]);
	return cli_options;
}
