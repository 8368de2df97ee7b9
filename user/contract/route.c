/* The request contract (docs/request-handling.md) as a pure function. Rules
 * are checked in the contract's order; the first that applies decides. */
#include "archeio/contract/route.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "archeio/core/oci.h"
#include "archeio/contract/uri.h"

/* A request-target split at the first '?'. */
struct target {
	const char *path;
	size_t path_len;
	const char *query; /* NULL when the target has no '?' */
	size_t query_len;
};

/* A /v2/ request after decoding: the path below /v2/ and its pieces. */
struct v2_request {
	const char *rest; /* decoded path after "/v2/", what redirects append */
	size_t rest_len;
	enum route_endpoint endpoint;
	const char *name;
	size_t name_len;
	const char *ref; /* reference or digest; NULL for tags/list */
	size_t ref_len;
};

/* The last '/' in s[0..len), or NULL. memrchr (glibc and musl; the build
 * defines _GNU_SOURCE): a byte loop back over a blob's 71-byte digest was
 * ~470 instructions per request. */
static const char *last_slash_in(const char *s, size_t len)
{
	return len ? memrchr(s, '/', len) : NULL;
}

static bool span_is(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static bool span_starts(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0;
}

static void respond(struct route_result *out, enum route_rule rule, int status,
		    const char *oci_error, const char *message)
{
	out->kind = ROUTE_RESPOND;
	out->rule = rule;
	out->status = status;
	out->oci_error = oci_error;
	out->message = message;
}

static void redirect_to(struct route_result *out, enum route_rule rule, const char *url)
{
	out->kind = ROUTE_REDIRECT;
	out->rule = rule;
	out->status = 307;
	out->oci_error = NULL;
	out->message = "Temporary Redirect";
	if (url == NULL || url[0] == '\0') {
		respond(out, rule, 404, NULL, "404 page not found");
		return;
	}
	if ((size_t)snprintf(out->location, sizeof(out->location), "%s", url) >=
	    sizeof(out->location)) {
		out->location[0] = '\0';
		respond(out, rule, 500, NULL, "configured URL too long");
	}
}

static bool method_allowed(const char *method, size_t len)
{
	/* Methods are case-sensitive tokens (RFC 9110): "get" is not GET. */
	return span_is(method, len, "GET") || span_is(method, len, "HEAD");
}

static struct target split_target(const char *target, size_t len)
{
	struct target t = {target, len, NULL, 0};
	const char *q = memchr(target, '?', len);

	if (q != NULL) {
		t.path_len = (size_t)(q - target);
		t.query = q + 1;
		t.query_len = len - t.path_len - 1;
	}
	return t;
}

/* Splits "<name>/<keyword>/<last>" from the right: names may contain
 * components such as "manifests", references and digests never contain '/'.
 * Returns false for a shape that is no pull endpoint. */
static bool parse_endpoint(const char *d, size_t len, struct v2_request *req)
{
	const char *last_slash = last_slash_in(d, len);
	const char *kw, *last, *kw_slash;
	size_t kw_len, last_len;

	if (last_slash == NULL)
		return false;
	last = last_slash + 1;
	last_len = len - (size_t)(last - d);
	kw_slash = last_slash_in(d, (size_t)(last_slash - d));
	kw = kw_slash == NULL ? d : kw_slash + 1;
	kw_len = (size_t)(last_slash - kw);

	req->name = d;
	req->name_len = kw_slash == NULL ? 0 : (size_t)(kw_slash - d);
	req->ref = last;
	req->ref_len = last_len;
	if (span_is(kw, kw_len, "tags") && span_is(last, last_len, "list")) {
		req->endpoint = ROUTE_ENDPOINT_TAGS;
		req->ref = NULL;
		req->ref_len = 0;
	} else if (span_is(kw, kw_len, "manifests")) {
		req->endpoint = ROUTE_ENDPOINT_MANIFEST;
	} else if (span_is(kw, kw_len, "blobs")) {
		req->endpoint = ROUTE_ENDPOINT_BLOB;
	} else if (span_is(kw, kw_len, "referrers")) {
		req->endpoint = ROUTE_ENDPOINT_REFERRERS;
	} else {
		return false;
	}
	return true;
}

static bool digest_ok(const char *s, size_t len)
{
	return len < ROUTE_DIGEST_MAX && oci_digest_valid(s, len);
}

/* Checks name and reference against the grammar; on failure fills out. */
static bool v2_request_valid(const struct v2_request *req, struct route_result *out)
{
	if (!oci_name_valid(req->name, req->name_len)) {
		respond(out, RULE_INVALID, 400, "NAME_INVALID", "invalid repository name");
		return false;
	}
	switch (req->endpoint) {
	case ROUTE_ENDPOINT_TAGS:
		return true;
	case ROUTE_ENDPOINT_MANIFEST:
		/* Tags cannot contain ':', digests always do. */
		if (memchr(req->ref, ':', req->ref_len) == NULL) {
			if (oci_tag_valid(req->ref, req->ref_len))
				return true;
			respond(out, RULE_INVALID, 400, "MANIFEST_INVALID", "invalid tag");
			return false;
		}
		break;
	case ROUTE_ENDPOINT_BLOB:
	case ROUTE_ENDPOINT_REFERRERS:
	case ROUTE_ENDPOINT_NONE: /* parse_endpoint() gives neither */
	case ROUTE_ENDPOINT_PING:
		break;
	}
	if (digest_ok(req->ref, req->ref_len))
		return true;
	respond(out, RULE_INVALID, 400, "DIGEST_INVALID", "invalid digest");
	return false;
}

static bool goes_to_signature_upstream(const struct route_config *config,
				       const struct v2_request *req)
{
	if (config->signature_upstream == NULL || config->signature_upstream[0] == '\0')
		return false;
	if (req->endpoint == ROUTE_ENDPOINT_REFERRERS)
		return true;
	return req->endpoint == ROUTE_ENDPOINT_MANIFEST &&
	       oci_is_cosign_tag(req->ref, req->ref_len);
}

/* Appends s[0..len) at *at when it fits below end (room kept for the NUL). */
static bool append(char **at, const char *end, const char *s, size_t len)
{
	if ((size_t)(end - *at) <= len)
		return false;
	memcpy(*at, s, len);
	*at += len;
	return true;
}

/* <base>/v2/[<upstream-path>/]<rest>[?<query>]. Copied piece by piece: it is
 * built for every redirect, and snprintf's format parsing was ~10% of a
 * request's userspace instructions. */
static bool build_location(char *buf, size_t size, const char *base, const char *upstream_path,
			   const struct v2_request *req, const struct target *t)
{
	const char *up = upstream_path == NULL ? "" : upstream_path;
	size_t up_len = strlen(up);
	char *at = buf;
	const char *end = buf + size;
	bool fits = append(&at, end, base, strlen(base)) && append(&at, end, "/v2/", 4) &&
		    append(&at, end, up, up_len) && (up_len == 0 || append(&at, end, "/", 1)) &&
		    append(&at, end, req->rest, req->rest_len) &&
		    (t->query == NULL ||
		     (append(&at, end, "?", 1) && append(&at, end, t->query, t->query_len)));
	*at = '\0';
	return fits;
}

static void route_v2(const struct route_config *config, const struct target *t,
		     struct route_result *out)
{
	/* Decoding never grows, and the target is at most ROUTE_TARGET_MAX. */
	char decoded[ROUTE_TARGET_MAX];
	const size_t prefix_len = strlen("/v2/");
	struct v2_request req;
	long n = uri_percent_decode(t->path + prefix_len, t->path_len - prefix_len, decoded);
	const char *base;

	if (n < 0) {
		respond(out, RULE_INVALID, 400, "NAME_INVALID",
			"malformed percent-encoding in path");
		return;
	}
	req.rest = decoded;
	req.rest_len = (size_t)n;
	if (!parse_endpoint(decoded, req.rest_len, &req)) {
		respond(out, RULE_INVALID, 404, "UNSUPPORTED", "unsupported endpoint");
		return;
	}
	out->endpoint = req.endpoint;
	if (!v2_request_valid(&req, out))
		return;
	if (t->query != NULL && !uri_query_valid(t->query, t->query_len)) {
		respond(out, RULE_INVALID, 400, "UNSUPPORTED", "invalid query string");
		return;
	}

	if (goes_to_signature_upstream(config, &req)) {
		out->rule = RULE_SIGNATURE;
		base = config->signature_upstream;
	} else {
		out->rule = req.endpoint == ROUTE_ENDPOINT_BLOB ? RULE_BLOB : RULE_UPSTREAM;
		base = config->upstream;
	}
	if (!build_location(out->location, sizeof(out->location), base, config->upstream_path, &req,
			    t)) {
		out->location[0] = '\0';
		respond(out, RULE_INVALID, 414, NULL, "redirect target too long");
		return;
	}
	out->kind = req.endpoint == ROUTE_ENDPOINT_BLOB ? ROUTE_BLOB : ROUTE_REDIRECT;
	out->status = 307;
	out->oci_error = NULL;
	out->message = "Temporary Redirect";
	if (req.endpoint == ROUTE_ENDPOINT_BLOB) {
		memcpy(out->digest, req.ref, req.ref_len);
		out->digest[req.ref_len] = '\0';
	}
}

void route_request(const struct route_config *config, const char *method, size_t method_len,
		   const char *target, size_t target_len, struct route_result *out)
{
	struct target t;

	out->location[0] = '\0';
	out->digest[0] = '\0';
	out->endpoint = ROUTE_ENDPOINT_NONE;

	/* 1 */
	if (!method_allowed(method, method_len)) {
		respond(out, RULE_METHOD, 405, "UNSUPPORTED", "method not allowed (GET, HEAD)");
		return;
	}
	/* Malformed targets never reach the path rules. */
	if (target_len > ROUTE_TARGET_MAX) {
		respond(out, RULE_INVALID, 414, NULL, "request target too long");
		return;
	}
	if (target_len == 0 || target[0] != '/') {
		/* absolute-form ("http://...") and asterisk-form ("*") */
		respond(out, RULE_INVALID, 400, NULL, "request target must be a path");
		return;
	}
	t = split_target(target, target_len);

	/* 2: prefix tests run on the raw path, so "/%762/" is not "/v2/". */
	if (span_is(t.path, t.path_len, "/")) {
		redirect_to(out, RULE_OUTSIDE_V2, config->info_url);
		return;
	}
	if (span_starts(t.path, t.path_len, "/privacy")) {
		redirect_to(out, RULE_OUTSIDE_V2, config->privacy_url);
		return;
	}
	if (!span_is(t.path, t.path_len, "/v2") && !span_starts(t.path, t.path_len, "/v2/")) {
		respond(out, RULE_OUTSIDE_V2, 404, NULL, "404 page not found");
		return;
	}
	/* 3 */
	if (span_is(t.path, t.path_len, "/v2") || span_is(t.path, t.path_len, "/v2/")) {
		out->endpoint = ROUTE_ENDPOINT_PING;
		respond(out, RULE_V2_BASE, 200, NULL, "ok");
		return;
	}
	/* 4 */
	if (span_is(t.path, t.path_len, "/v2/_catalog")) {
		respond(out, RULE_CATALOG, 404, "UNSUPPORTED", "catalog listing is not supported");
		return;
	}
	/* 5-8 */
	route_v2(config, &t, out);
}
