#include "archeio/mirrortool/cli.h"
#include "archeio/core/oci.h"
#include "digest.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONCURRENCY 256
#define MAX_RETRIES 20

const char *cli_usage(void)
{
	return "usage: archeio-mirror --from URL --repo NAME... --to DIR|s3://BUCKET[/PREFIX]\n"
	       "                      [--s3-endpoint URL] [--s3-region R] [--concurrency N]\n"
	       "                      [--rps N] [--retries N] [--dry-run] [--repos-file F]\n"
	       "                      [--ref REF...] [--catalog] [--state-dir DIR]\n"
	       "\n"
	       "Copies the config and layer blobs of images from an OCI registry into\n"
	       "<DIR>/containers/images/<digest> or "
	       "s3://BUCKET/PREFIX/containers/images/<digest>,\n"
	       "verifying every digest.\n"
	       "\n"
	       "  --from URL          source registry, http:// or https://\n"
	       "  --repo NAME         repository to copy (repeatable)\n"
	       "  --repos-file F      more repositories, one per line ('#' comments)\n"
	       "  --catalog           also copy every repository listed by /v2/_catalog\n"
	       "  --ref REF           copy only this tag or digest of each repository\n"
	       "                      (repeatable; default: every tag from tags/list)\n"
	       "  --to DEST           directory or s3://BUCKET[/PREFIX]\n"
	       "  --s3-endpoint URL   S3-compatible endpoint (path-style); default AWS\n"
	       "  --s3-region R       SigV4 region (default us-east-1)\n"
	       "  --concurrency N     parallel blob transfers (default 4, max 256)\n"
	       "  --rps N             requests per second toward the source (default 0 = no "
	       "limit)\n"
	       "  --retries N         retries on 429/5xx/transport errors (default 4, max 20)\n"
	       "  --state-dir DIR     where copied manifests are recorded\n"
	       "                      (default DIR/.archeio-mirror for directories)\n"
	       "  --dry-run           list what would be copied, write nothing\n"
	       "  --help              this text\n"
	       "\n"
	       "S3 credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.\n"
	       "Exit status: 0 all copied, 1 something failed (listed), 2 bad usage.\n";
}

bool cli_repo_name_valid(const char *name)
{
	return oci_name_valid(name, strlen(name));
}

bool cli_ref_valid(const char *ref)
{
	return strchr(ref, ':') ? digest_supported(ref) : oci_tag_valid(ref, strlen(ref));
}

static bool push(char ***list, size_t *count, const char *value)
{
	char **grown = realloc(*list, (*count + 1) * sizeof(**list));
	if (!grown)
		return false;
	*list = grown;
	grown[*count] = strdup(value);
	if (!grown[*count])
		return false;
	(*count)++;
	return true;
}

static bool replace(char **slot, const char *value)
{
	free(*slot);
	*slot = strdup(value);
	return *slot != NULL;
}

static bool parse_unsigned(const char *text, unsigned min, unsigned max, unsigned *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end != '\0' || text[0] == '-' || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_rate(const char *text, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end != '\0' || !(v >= 0) || v > 1e6)
		return false;
	*out = v;
	return true;
}

static bool http_url(const char *url)
{
	return (strncmp(url, "http://", 7) == 0 && url[7]) ||
	       (strncmp(url, "https://", 8) == 0 && url[8]);
}

static bool set_from(struct mirror_options *o, const char *url, char *err, size_t errlen)
{
	if (!http_url(url)) {
		snprintf(err, errlen, "--from: \"%s\" is not an http:// or https:// URL", url);
		return false;
	}
	if (!replace(&o->from, url)) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	size_t len = strlen(o->from);
	while (len > 0 && o->from[len - 1] == '/')
		o->from[--len] = '\0';
	return true;
}

static bool set_dest(struct mirror_options *o, const char *to, char *err, size_t errlen)
{
	if (strncmp(to, "s3://", 5) != 0) {
		if (!*to) {
			snprintf(err, errlen, "--to: empty destination");
			return false;
		}
		o->dest_kind = MIRROR_DEST_DIR;
		return replace(&o->dest_dir, to) || (snprintf(err, errlen, "out of memory"), false);
	}
	const char *bucket = to + 5;
	size_t bucket_len = strcspn(bucket, "/");
	if (bucket_len == 0 || bucket_len > 63) {
		snprintf(err, errlen, "--to: \"%s\" has no valid bucket name", to);
		return false;
	}
	for (size_t i = 0; i < bucket_len; i++) {
		char c = bucket[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
			snprintf(err, errlen, "--to: bad character '%c' in bucket of \"%s\"", c,
				 to);
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
	if (!o->s3_bucket || !o->s3_prefix) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	size_t plen = strlen(o->s3_prefix);
	while (plen > 0 && o->s3_prefix[plen - 1] == '/')
		o->s3_prefix[--plen] = '\0';
	o->dest_kind = MIRROR_DEST_S3;
	return true;
}

enum {
	OPT_FROM = 1000,
	OPT_REPO,
	OPT_TO,
	OPT_S3_ENDPOINT,
	OPT_S3_REGION,
	OPT_CONCURRENCY,
	OPT_RPS,
	OPT_DRY_RUN,
	OPT_REPOS_FILE,
	OPT_REF,
	OPT_CATALOG,
	OPT_STATE_DIR,
	OPT_RETRIES,
	OPT_HELP,
};

static const struct option long_options[] = {
    {"from", required_argument, NULL, OPT_FROM},
    {"repo", required_argument, NULL, OPT_REPO},
    {"to", required_argument, NULL, OPT_TO},
    {"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
    {"s3-region", required_argument, NULL, OPT_S3_REGION},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"rps", required_argument, NULL, OPT_RPS},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"repos-file", required_argument, NULL, OPT_REPOS_FILE},
    {"ref", required_argument, NULL, OPT_REF},
    {"catalog", no_argument, NULL, OPT_CATALOG},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static bool apply(struct mirror_options *o, int opt, const char *arg, char *err, size_t errlen)
{
	switch (opt) {
	case OPT_FROM:
		return set_from(o, arg, err, errlen);
	case OPT_REPO:
		if (!cli_repo_name_valid(arg)) {
			snprintf(err, errlen, "--repo: \"%s\" is not a valid repository name", arg);
			return false;
		}
		return push(&o->repos, &o->repo_count, arg);
	case OPT_REF:
		if (!cli_ref_valid(arg)) {
			snprintf(err, errlen, "--ref: \"%s\" is neither a tag nor a digest", arg);
			return false;
		}
		return push(&o->refs, &o->ref_count, arg);
	case OPT_TO:
		return set_dest(o, arg, err, errlen);
	case OPT_S3_ENDPOINT:
		if (!http_url(arg)) {
			snprintf(err, errlen, "--s3-endpoint: \"%s\" is not an http(s) URL", arg);
			return false;
		}
		return replace(&o->s3_endpoint, arg);
	case OPT_S3_REGION:
		if (!*arg || strchr(arg, '/')) {
			snprintf(err, errlen, "--s3-region: \"%s\" is not a region", arg);
			return false;
		}
		return replace(&o->s3_region, arg);
	case OPT_CONCURRENCY:
		if (!parse_unsigned(arg, 1, MAX_CONCURRENCY, &o->concurrency)) {
			snprintf(err, errlen, "--concurrency: \"%s\" is not a number in 1..%d", arg,
				 MAX_CONCURRENCY);
			return false;
		}
		return true;
	case OPT_RPS:
		if (!parse_rate(arg, &o->rps)) {
			snprintf(err, errlen, "--rps: \"%s\" is not a rate in 0..1000000", arg);
			return false;
		}
		return true;
	case OPT_RETRIES:
		if (!parse_unsigned(arg, 0, MAX_RETRIES, &o->retries)) {
			snprintf(err, errlen, "--retries: \"%s\" is not a number in 0..%d", arg,
				 MAX_RETRIES);
			return false;
		}
		return true;
	case OPT_DRY_RUN:
		o->dry_run = true;
		return true;
	case OPT_CATALOG:
		o->catalog = true;
		return true;
	case OPT_REPOS_FILE:
		return replace(&o->repos_file, arg);
	case OPT_STATE_DIR:
		return replace(&o->state_dir, arg);
	default:
		return false;
	}
}

enum cli_result cli_parse(int argc, char **argv, struct mirror_options *out, char *err,
			  size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->concurrency = 4;
	out->retries = 4;
	err[0] = '\0';
	/* getopt keeps its position in globals; reset them so parsing is repeatable. */
	optind = 0;
	opterr = 0;
	for (;;) {
		int index = 0;
		int opt = getopt_long(argc, argv, "", long_options, &index);
		if (opt == -1)
			break;
		if (opt == OPT_HELP)
			return CLI_HELP;
		if (opt == '?' || opt == ':') {
			const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
			if (optopt)
				snprintf(err, errlen, "unknown or incomplete flag \"%s\"", bad);
			else
				snprintf(err, errlen, "unknown flag \"%s\" (see --help)", bad);
			return CLI_ERROR;
		}
		if (!apply(out, opt, optarg, err, errlen)) {
			if (!err[0])
				snprintf(err, errlen, "out of memory");
			return CLI_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", argv[optind]);
		return CLI_ERROR;
	}
	return CLI_OK;
}

bool cli_validate(const struct mirror_options *o, char *err, size_t errlen)
{
	if (!o->from) {
		snprintf(err, errlen, "--from URL is required");
		return false;
	}
	if (!o->dest_dir && !o->s3_bucket) {
		snprintf(err, errlen, "--to DIR|s3://BUCKET/PREFIX is required");
		return false;
	}
	if (o->repo_count == 0 && !o->catalog) {
		snprintf(err, errlen, "no repository: give --repo, --repos-file or --catalog");
		return false;
	}
	if (o->dest_kind == MIRROR_DEST_DIR && (o->s3_endpoint || o->s3_region)) {
		snprintf(err, errlen, "--s3-endpoint/--s3-region need an s3:// destination");
		return false;
	}
	return true;
}

bool cli_add_repos_text(struct mirror_options *o, const char *text, const char *origin, char *err,
			size_t errlen)
{
	unsigned line_no = 0;
	const char *p = text;
	while (*p) {
		line_no++;
		size_t len = strcspn(p, "\n");
		const char *next = p[len] ? p + len + 1 : p + len;
		size_t end = strcspn(p, "#\n");
		while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t' || p[end - 1] == '\r'))
			end--;
		size_t start = 0;
		while (start < end && (p[start] == ' ' || p[start] == '\t'))
			start++;
		if (end > start) {
			char *name = strndup(p + start, end - start);
			if (!name) {
				snprintf(err, errlen, "out of memory");
				return false;
			}
			bool ok = cli_repo_name_valid(name);
			if (!ok)
				snprintf(err, errlen,
					 "%s:%u: \"%s\" is not a valid repository name", origin,
					 line_no, name);
			else if (!push(&o->repos, &o->repo_count, name)) {
				snprintf(err, errlen, "out of memory");
				ok = false;
			}
			free(name);
			if (!ok)
				return false;
		}
		p = next;
	}
	return true;
}

static void free_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

void cli_options_free(struct mirror_options *o)
{
	free(o->from);
	free_list(o->repos, o->repo_count);
	free_list(o->refs, o->ref_count);
	free(o->dest_dir);
	free(o->s3_bucket);
	free(o->s3_prefix);
	free(o->s3_endpoint);
	free(o->s3_region);
	free(o->repos_file);
	free(o->state_dir);
	memset(o, 0, sizeof(*o));
}
