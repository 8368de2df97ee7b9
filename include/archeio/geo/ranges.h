/* Provider CIDR ranges: parsing AWS ip-ranges.json, GCP cloud.json, Azure
 * service tags and the operator text format into one list of prefixes with
 * region ids. Pure logic apart from ranges_load_path(), which reads files. */
#ifndef ARCHEIO_RANGES_H
#define ARCHEIO_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/ip.h"
#include "archeio/geo/region.h"

struct range_entry {
	struct ip_prefix prefix;
	uint32_t region_id; /* into the table passed when parsing */
};

/* What a load accepted only after fixing it (a provider CIDR with host bits
 * set), for the caller to log: parsing stays pure. The first
 * RANGES_WARNINGS_KEPT are kept whole, later ones only counted (the caller
 * logs "and N more"), so a hostile file floods neither memory nor the log. */
#define RANGES_WARNINGS_KEPT 8
#define RANGES_WARNING_MAX 256
struct ranges_warnings {
	char text[RANGES_WARNINGS_KEPT][RANGES_WARNING_MAX];
	size_t total; /* every warning, kept or only counted */
};

/* How many of w->text hold a warning: min(total, RANGES_WARNINGS_KEPT). */
size_t ranges_warnings_kept(const struct ranges_warnings *w);

/* What one file read by ranges_load_path() says about itself: how old the
 * data is matters to the operator (stale ranges send clients to the wrong
 * mirror), so the providers' own publication stamps are kept. */
struct ranges_file {
	char *path;
	char format[8];	   /* "aws", "gcp", "azure", "text" */
	size_t prefixes;   /* entries it added, before duplicates are removed */
	int64_t modified;  /* mtime, Unix seconds */
	int64_t published; /* AWS createDate, GCP creationTime (Unix seconds); 0: none */
	/* Azure's changeNumber (a version, not a time); -1: none. */
	long long change_number;
};

/* Entries in load order. When the same prefix appears more than once, the
 * entry loaded last wins (operator files listed after provider files
 * override them); ranges_finish() removes the earlier duplicates. files
 * lists the files ranges_load_path() read, in order (ranges_parse_buffer()
 * adds none). */
struct range_set {
	struct range_entry *entries;
	size_t count;
	size_t cap;
	struct ranges_warnings warnings; /* of every file loaded into the set */
	struct ranges_file *files;
	size_t file_count;
};

/* Per-cloud prefix counts, for the start-up and reload log line. */
struct ranges_cloud_count {
	char cloud[REGION_CLOUD_MAX];
	size_t v4;
	size_t v6;
};

/* Cloud: [a-z0-9_-], 1..REGION_CLOUD_MAX-1 bytes. Region: printable ASCII
 * without spaces, 1..REGION_NAME_MAX-1 bytes. Public because mirror rules
 * name clouds and regions as the range files spell them. */
bool ranges_valid_cloud(const char *s, size_t len);
bool ranges_valid_region(const char *s, size_t len);

void range_set_init(struct range_set *set);
void range_set_free(struct range_set *set);
/* Appends one entry; 0, or -1 when allocation failed. */
int range_set_add(struct range_set *set, const struct ip_prefix *prefix, uint32_t region_id);

/* Detects the format from content and appends its entries. Returns 0, or -1
 * with a message in err naming `name` (and the line for the text format, the
 * JSON position of a syntax error, or the JSON path of a bad value); on error
 * the set, its warnings included, is as it was before the call (the region
 * table may have grown). A default route (/0) is an error unless the text
 * format's line says `allow-default`; a provider CIDR with host bits set is
 * cleared and adds a warning. */
int ranges_parse_buffer(struct range_set *set, struct region_table *regions, const char *name,
			const char *buf, size_t len, char *err, size_t errlen);

/* A regular file, or a directory: every regular (symlinks followed),
 * non-hidden file in it, in byte-wise name order. Returns 0, or -1 with err
 * naming the failing file. */
int ranges_load_path(struct range_set *set, struct region_table *regions, const char *path,
		     char *err, size_t errlen);

/* Sorts (IPv4 before IPv6, then by address, then by length) and removes
 * duplicate prefixes, the entry loaded last winning. 0, or -1 when allocation
 * failed (the set is then unchanged). */
int ranges_finish(struct range_set *set);

/* When the loaded data was made: the newest publication time any file
 * states (*published true), else the newest modification time of the files
 * (*published false). False when no file was read. */
bool ranges_data_time(const struct range_set *set, int64_t *when, bool *published);

/* Fills counts (one per cloud, at most max) and returns how many clouds. */
size_t ranges_count_by_cloud(const struct range_set *set, const struct region_table *regions,
			     struct ranges_cloud_count *counts, size_t max);

#endif
