/* archeio-mirror's command line: parsing its option table (cli_table.c),
 * the checks on the whole result, repository names and references. */
#include "archeio/mirrortool/cli.h"
#include "archeio/core/oci.h"
#include "digest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/options.h"
#include "archeio/core/strlist.h"

void cli_print_usage(FILE *out)
{
	fputs("usage: archeio-mirror --from URL --repo NAME... --to DIR|s3://BUCKET[/PREFIX] "
	      "[--to ...] [flags]\n"
	      "       archeio-mirror --version\n"
	      "\n"
	      "Copies the config and layer blobs of images from an OCI registry into\n"
	      "<DIR>/containers/images/<digest> or s3://BUCKET/PREFIX/containers/images/<digest>,\n"
	      "verifying every digest. Each blob is read once and written to every --to that\n"
	      "lacks it.\n"
	      "\n",
	      out);
	size_t count;
	const struct option_spec *table = cli_option_table(&count);
	options_print_usage(table, count, out);
	fputs("\n"
	      "S3 credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.\n"
	      "Exit status: 0 all copied, 1 something failed (listed), 2 bad usage,\n"
	      "64+M a destination failed (M: bit 0 the first --to .. bit 4 the fifth,\n"
	      "bit 5 the sixth or a later one), 130/143 interrupted by SIGINT/SIGTERM.\n",
	      out);
}

bool cli_repo_name_valid(const char *name)
{
	return oci_name_valid(name, strlen(name));
}

bool cli_ref_valid(const char *ref)
{
	return strchr(ref, ':') ? digest_supported(ref) : oci_tag_valid(ref, strlen(ref));
}

bool cli_parse_size(const char *text, unsigned long long *out)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {{"", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}};
	if (*text < '0' || *text > '9')
		return false;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > (ULLONG_MAX >> units[i].shift))
			return false;
		*out = v << units[i].shift;
		return true;
	}
	return false;
}

enum cli_result cli_parse(int argc, char **argv, struct mirror_options *out, char *err,
			  size_t errlen)
{
	memset(out, 0, sizeof(*out));
	size_t count;
	const struct option_spec *table = cli_option_table(&count);
	int first_arg;
	enum options_result parsed =
	    options_parse(table, count, out, argc, argv, NULL, &first_arg, err, errlen);
	if (parsed != OPTIONS_OK)
		return parsed == OPTIONS_HELP ? CLI_HELP : CLI_ERROR;
	if (first_arg < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", argv[first_arg]);
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
	if (o->dest_count == 0) {
		snprintf(err, errlen, "--to DIR|s3://BUCKET/PREFIX is required");
		return false;
	}
	if (o->repo_count == 0 && !o->catalog) {
		snprintf(err, errlen, "no repository: give --repo, --repos-file or --catalog");
		return false;
	}
	bool any_s3 = false;
	for (size_t i = 0; i < o->dest_count; i++)
		any_s3 = any_s3 || o->dests[i].kind == MIRROR_DEST_S3;
	if (!any_s3 && (o->s3_endpoint || o->s3_region)) {
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
			else if (!strlist_append(&o->repos, &o->repo_count, name)) {
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

void cli_options_free(struct mirror_options *o)
{
	size_t count;
	const struct option_spec *table = cli_option_table(&count);
	options_free(table, count, o);
	memset(o, 0, sizeof(*o));
}
