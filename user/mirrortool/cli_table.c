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
	return (strncmp(url, "http://", 7) == 0 && url[7]) ||
	       (strncmp(url, "https://", 8) == 0 && url[8]);
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

static void clear_dest(void *target, const struct option_spec *spec)
{
	(void)spec;
	struct mirror_options *o = target;
	free(o->dest_dir);
	free(o->s3_bucket);
	free(o->s3_prefix);
	o->dest_dir = o->s3_bucket = o->s3_prefix = NULL;
}

/* s3://BUCKET[/PREFIX]: a bucket of [a-z0-9.-], the prefix without slashes
 * at either end. */
static bool set_s3_dest(struct mirror_options *o, const char *to, const char *source, char *err,
			size_t errlen)
{
	const char *bucket = to + 5;
	size_t bucket_len = strcspn(bucket, "/");
	if (bucket_len == 0 || bucket_len > 63) {
		snprintf(err, errlen, "%s: \"%s\" has no valid bucket name", source, to);
		return false;
	}
	for (size_t i = 0; i < bucket_len; i++) {
		char c = bucket[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
			snprintf(err, errlen, "%s: bad character '%c' in bucket of \"%s\"", source,
				 c, to);
			return false;
		}
	}
	const char *prefix = bucket + bucket_len;
	while (*prefix == '/')
		prefix++;
	free(o->s3_bucket);
	free(o->s3_prefix);
	o->s3_bucket = strndup(bucket, bucket_len);
	o->s3_prefix = strdup(prefix);
	if (!o->s3_bucket || !o->s3_prefix)
		return false;
	size_t plen = strlen(o->s3_prefix);
	while (plen > 0 && o->s3_prefix[plen - 1] == '/')
		o->s3_prefix[--plen] = '\0';
	o->dest_kind = MIRROR_DEST_S3;
	return true;
}

static bool set_dest(void *target, const struct option_spec *spec, const char *to,
		     const char *source, char *err, size_t errlen)
{
	(void)spec;
	struct mirror_options *o = target;
	if (strncmp(to, "s3://", 5) == 0)
		return set_s3_dest(o, to, source, err, errlen);
	if (!*to) {
		snprintf(err, errlen, "%s: empty destination", source);
		return false;
	}
	char *copy = strdup(to);
	if (!copy)
		return false;
	free(o->dest_dir);
	o->dest_dir = copy;
	o->dest_kind = MIRROR_DEST_DIR;
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
     .kind = OPTION_CUSTOM,
     FIELD(dest_dir),
     .set = set_dest,
     .clear = clear_dest,
     .help = "directory or s3://BUCKET[/PREFIX]"},
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
    {.flag = "verify",
     .kind = OPTION_CHOICE,
     FIELD(verify),
     .choices = verify_choices,
     .what = "verify mode",
     .default_value = "off",
     .implied_value = "size",
     .help = "check every blob of recorded images in the destination (size, or digest: "
	     "re-hash / S3 checksum) and restore the missing or damaged"},
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
