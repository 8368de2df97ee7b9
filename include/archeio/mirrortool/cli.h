/* archeio-mirror's command line, parsed into options. Every flag is one row
 * of the table cli_option_table() returns (user/mirrortool/cli_table.c);
 * the generic parsing lives in core/options. Pure: no file is read here
 * (--repos-file text is parsed by cli_add_repos_text). */
#ifndef ARCHEIO_MIRROR_CLI_H
#define ARCHEIO_MIRROR_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum mirror_dest_kind { MIRROR_DEST_DIR, MIRROR_DEST_S3 };

/* One --to: a directory, or s3://BUCKET[/PREFIX][?endpoint=URL&region=R]
 * whose own endpoint and region win over --s3-endpoint and --s3-region. */
struct mirror_dest {
	enum mirror_dest_kind kind;
	char *text;	/* as given, for messages */
	char *dir;	/* MIRROR_DEST_DIR */
	char *bucket;	/* MIRROR_DEST_S3 */
	char *prefix;	/* without leading/trailing '/', may be "" */
	char *endpoint; /* NULL: --s3-endpoint */
	char *region;	/* NULL: --s3-region */
};

/* S3's multipart limits: parts of 5 MiB..5 GiB, at most 10,000 of them,
 * objects up to 5 TiB. */
#define MIRROR_S3_MIN_PART_SIZE (5ULL << 20)
#define MIRROR_S3_MAX_PART_SIZE (5ULL << 30)
#define MIRROR_S3_MAX_PARTS 10000ULL
#define MIRROR_S3_MAX_OBJECT_SIZE (5ULL << 40)

/* --verify: how blobs of recorded images are checked in the destination. */
enum mirror_verify {
	MIRROR_VERIFY_OFF,    /* recorded images are skipped unwalked */
	MIRROR_VERIFY_SIZE,   /* every blob present with the manifest's size */
	MIRROR_VERIFY_DIGEST, /* ... and its bytes (or S3's stored checksum) match */
};

struct mirror_options {
	char *from; /* source registry base URL, no trailing slash */
	char **repos;
	size_t repo_count;
	char **refs; /* tags or digests; empty = every tag from tags/list */
	size_t ref_count;
	struct mirror_dest *dests; /* every --to, in order (the exit status numbers them) */
	size_t dest_count;
	char *s3_endpoint; /* for S3 destinations without their own ?endpoint= */
	char *s3_region;   /* for S3 destinations without their own ?region= */
	char *repos_file;
	char *state_dir; /* NULL: <dir>/.archeio-mirror for directories, none for S3 */
	unsigned concurrency;
	double rps; /* 0 = unlimited */
	unsigned retries;
	bool dry_run;
	bool catalog;
	unsigned long long s3_part_size; /* bytes; larger S3 blobs go up in parts */
	unsigned s3_part_concurrency;	 /* parts of one blob in flight at once */
	enum mirror_verify verify;
	char *auth_file; /* NULL: REGISTRY_AUTH_FILE, else anonymous */
	char *ca_file;	 /* CA bundle for an https:// source; NULL: the system's */
};

enum cli_result { CLI_OK, CLI_HELP, CLI_ERROR };

/* Parses argv. On CLI_ERROR err holds one line naming the bad flag/value. */
enum cli_result cli_parse(int argc, char **argv, struct mirror_options *out, char *err,
			  size_t errlen);
/* Checks the parsed options are complete (after --repos-file was added). */
bool cli_validate(const struct mirror_options *o, char *err, size_t errlen);
/* Adds the repositories listed in text: one per line, '#' starts a comment,
 * blank lines ignored. origin names the file for messages. */
bool cli_add_repos_text(struct mirror_options *o, const char *text, const char *origin, char *err,
			size_t errlen);
/* Repository names as the distribution spec allows: lowercase path
 * components of [a-z0-9] joined by '.', '_', '__' or '-'s, separated by '/'. */
bool cli_repo_name_valid(const char *name);
bool cli_ref_valid(const char *ref);
/* "64MiB", "5242880", "1GiB": a size in bytes with an optional KiB/MiB/GiB
 * suffix. */
bool cli_parse_size(const char *text, unsigned long long *out);
void cli_options_free(struct mirror_options *o);
void cli_print_usage(FILE *out);

struct option_spec;
/* The option table of archeio-mirror (for tests that compare it with
 * docs/mirroring.md). */
const struct option_spec *cli_option_table(size_t *count);

#endif
