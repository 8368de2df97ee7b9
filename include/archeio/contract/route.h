/* The request contract (README "Request handling"), as a pure function from
 * (method, request-target) to a decision. No sockets, no clock, no lookups:
 * blob requests come back as ROUTE_BLOB and the server finishes them with the
 * client's region and the mirror check. */
#ifndef ARCHEIO_ROUTE_H
#define ARCHEIO_ROUTE_H

#include <stddef.h>

/* Longest request-target accepted; longer ones get 414. Every Location the
 * router builds fits in ROUTE_LOCATION_MAX. */
#define ROUTE_TARGET_MAX 4096
#define ROUTE_LOCATION_MAX 8192
#define ROUTE_DIGEST_MAX 256

struct route_config {
	const char *upstream;		/* absolute URL, no trailing slash */
	const char *upstream_path;	/* "" or "a/b", no leading/trailing slash */
	const char *signature_upstream; /* NULL or "" when off */
	const char *info_url;
	const char *privacy_url;
};

enum route_kind {
	ROUTE_RESPOND,	/* status (+ OCI error body when oci_error is set) */
	ROUTE_REDIRECT, /* 307 to location */
	ROUTE_BLOB,	/* blob: location is the upstream blob URL; digest set */
};

/* Which numbered rule of the contract decided; for logs and tests. */
enum route_rule {
	RULE_METHOD = 1,
	RULE_OUTSIDE_V2 = 2,
	RULE_V2_BASE = 3,
	RULE_CATALOG = 4,
	RULE_INVALID = 5,
	RULE_SIGNATURE = 6,
	RULE_UPSTREAM = 7,
	RULE_BLOB = 8,
};

/* Which pull endpoint the request named, as far as it got: known once the
 * path parsed as one (an invalid name or digest keeps it), NONE for
 * anything outside /v2/<name>/... and for unknown endpoints. For metrics. */
enum route_endpoint {
	ROUTE_ENDPOINT_NONE,
	ROUTE_ENDPOINT_PING, /* /v2, /v2/ */
	ROUTE_ENDPOINT_MANIFEST,
	ROUTE_ENDPOINT_BLOB,
	ROUTE_ENDPOINT_TAGS,
	ROUTE_ENDPOINT_REFERRERS,
};

struct route_result {
	enum route_kind kind;
	enum route_rule rule;
	enum route_endpoint endpoint;
	int status;	       /* 200, 307, 400, 404, 405, 414 ... */
	const char *oci_error; /* "NAME_INVALID", ... or NULL */
	const char *message;   /* short human text for the body */
	char location[ROUTE_LOCATION_MAX];
	char digest[ROUTE_DIGEST_MAX];
};

/* method: the request method token; target: the raw request-target as
 * received (origin-form, percent-encoded, may carry "?query"); both are spans,
 * not NUL-terminated. config->upstream, info_url and privacy_url must be set;
 * upstream_path and signature_upstream may be NULL. The full decision table is
 * docs/request-handling.md; tests/unit/test_route.c checks every row. For
 * RULE_METHOD the server adds "Allow: GET, HEAD"; for RULE_V2_BASE it adds
 * "Docker-Distribution-Api-Version: registry/2.0". location is "" unless the
 * result is a 307. */
void route_request(const struct route_config *config, const char *method, size_t method_len,
		   const char *target, size_t target_len, struct route_result *out);

#endif
