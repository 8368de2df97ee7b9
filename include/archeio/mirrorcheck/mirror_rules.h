/* Mirror rules: which blob mirror serves a client's (cloud, region).
 * File format, one rule per line:  CLOUD[:REGION]  upstream|BASE_URL
 * '#' starts a comment; '*' matches every client that no other rule matches.
 * The most specific rule wins (cloud:region, then cloud, then '*'); with no
 * matching rule the client goes upstream. Pure logic. */
#ifndef ARCHEIO_MIRRORS_H
#define ARCHEIO_MIRRORS_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/bpf_shared.h"
#include "archeio/core/url_check.h"

/* Longest base URL a rule may name (after its trailing '/' is removed): a
 * blob redirect is BASE_URL "/containers/images/" DIGEST and must fit the
 * server's blob URL buffer with the longest digest a request may carry. */
#define MIRROR_BASE_URL_MAX 1024

struct mirror_rule {
	char cloud[REGION_CLOUD_MAX]; /* "*" for the default rule */
	char region[REGION_NAME_MAX]; /* "" when the rule is for a whole cloud */
	char *base_url;		      /* NULL means "upstream" */
};

struct mirror_rules {
	struct mirror_rule *rules;
	size_t count;
};

void mirror_rules_init(struct mirror_rules *rules);
void mirror_rules_free(struct mirror_rules *rules);
/* Returns 0, or -1 with err "NAME:LINE: message". Duplicate keys are an
 * error; CLOUD is [a-z0-9_-] (as the range files spell clouds) or '*';
 * BASE_URL must be an absolute http(s) URL without query, at most
 * MIRROR_BASE_URL_MAX characters once its trailing '/' are removed. On success the previous rules
 * are replaced; on error `rules` is left exactly as it was, so a bad reload keeps the last good
 * table. */
int mirror_rules_parse(struct mirror_rules *rules, const char *name, const char *buf, size_t len,
		       char *err, size_t errlen);
int mirror_rules_load_file(struct mirror_rules *rules, const char *path, char *err, size_t errlen);
/* Upstream rules (--upstream-rules): the same format and selection, but every
 * rule names a URL — the keyword 'upstream' is an error, since clients that no
 * rule matches already get --upstream. Every base_url is then non-NULL. */
int upstream_rules_parse(struct mirror_rules *rules, const char *name, const char *buf, size_t len,
			 char *err, size_t errlen);
int upstream_rules_load_file(struct mirror_rules *rules, const char *path, char *err,
			     size_t errlen);
/* The rules archeio uses without --mirrors: registry.k8s.io's table
 * (data/registry-k8s-io.mirrors, compiled in) — each AWS region with a bucket
 * to it, GCP upstream — with its '*' rule sent to default_mirror (an absolute
 * http(s) URL without query; trailing '/' removed). On error `rules` is left
 * as it was. */
int mirror_rules_default(struct mirror_rules *rules, const char *default_mirror, char *err,
			 size_t errlen);
/* The compiled-in table's text, as data/registry-k8s-io.mirrors was at build
 * time (for tests and diagnostics). */
const char *mirror_rules_builtin_text(size_t *len);
/* cloud/region NULL when the client is in no known range. Returns the rule
 * that applies, or NULL when none does (meaning upstream). */
const struct mirror_rule *mirror_rules_select(const struct mirror_rules *rules, const char *cloud,
					      const char *region);

#endif
