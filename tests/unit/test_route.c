/* THE ROUTING TABLE: every row is one request and the complete answer the
 * contract (docs/request-handling.md, numbered rules 1-8) demands for it.
 * Rows are grouped by rule; a newcomer can check each against the document.
 *
 * Columns: method, request-target, signature upstream (NULL = off, "" = set
 * but empty = off, SIG = on), upstream path, expected status, expected rule,
 * expected Location (NULL = must have none), expected OCI error code (NULL =
 * none). A 307 with RULE_BLOB must come back as ROUTE_BLOB carrying the
 * digest; every other 307 as ROUTE_REDIRECT; everything else as ROUTE_RESPOND
 * with an empty location. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/contract/route.h"

/* Local, never contacted: routing is pure. */
#define UP "http://127.0.0.1:5001"
#define SIG "http://127.0.0.1:5002"
#define INFO "http://127.0.0.1:5003/info"
#define PRIVACY "http://127.0.0.1:5003/privacy"
#define P "k8s-artifacts-prod/images" /* the default upstream path */

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX63 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define HEX64_UPPER "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
#define D256 "sha256:" HEX64
#define D512 "sha512:" HEX64 HEX64
#define COSIGN_SIG "sha256-" HEX64 ".sig"
#define COSIGN_ATT "sha256-" HEX64 ".att"

struct route_case {
	const char *method;
	const char *target;
	const char *sig; /* signature upstream */
	const char *upath;
	int status;
	enum route_rule rule;
	const char *location;
	const char *oci_error;
};

#define M RULE_METHOD
#define OUT RULE_OUTSIDE_V2
#define BASE RULE_V2_BASE
#define CAT RULE_CATALOG
#define INV RULE_INVALID
#define SIGR RULE_SIGNATURE
#define UPR RULE_UPSTREAM
#define BLOB RULE_BLOB

static const struct route_case table[] = {
    /* --- 1. only GET and HEAD (case-sensitive); checked before anything else */
    {"POST", "/v2/", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"PUT", "/v2/pause/manifests/3.9", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"DELETE", "/v2/pause/blobs/" D256, NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"PATCH", "/v2/pause/blobs/uploads/x", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"OPTIONS", "/", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"OPTIONS", "*", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"CONNECT", "127.0.0.1:443", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"TRACE", "/", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"get", "/v2/", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"Head", "/v2/", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"GETX", "/v2/", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"GE", "/v2/", NULL, P, 405, M, NULL, "UNSUPPORTED"},
    {"", "/v2/", NULL, P, 405, M, NULL, "UNSUPPORTED"},

    /* --- malformed request-targets (before rule 2; reported as rule 5) */
    {"GET", "", NULL, P, 400, INV, NULL, NULL},
    {"GET", "*", NULL, P, 400, INV, NULL, NULL},
    {"GET", "http://127.0.0.1/v2/", NULL, P, 400, INV, NULL, NULL},
    {"GET", "v2/", NULL, P, 400, INV, NULL, NULL},

    /* --- 2. outside /v2; prefixes are matched on the raw, undecoded path */
    {"GET", "/", NULL, P, 307, OUT, INFO, NULL},
    {"HEAD", "/", NULL, P, 307, OUT, INFO, NULL},
    {"GET", "/?utm=x", NULL, P, 307, OUT, INFO, NULL},
    {"GET", "/privacy", NULL, P, 307, OUT, PRIVACY, NULL},
    {"GET", "/privacy-policy", NULL, P, 307, OUT, PRIVACY, NULL},
    {"GET", "/privacy/x?y=1", NULL, P, 307, OUT, PRIVACY, NULL},
    {"GET", "/priv", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/Privacy", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/index.html", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/favicon.ico", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/v1/", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/v2foo", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/V2/", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/%762/", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "//v2/", NULL, P, 404, OUT, NULL, NULL},
    {"GET", "/x\x01", NULL, P, 404, OUT, NULL, NULL},

    /* --- 3. the API base */
    {"GET", "/v2", NULL, P, 200, BASE, NULL, NULL},
    {"GET", "/v2/", NULL, P, 200, BASE, NULL, NULL},
    {"HEAD", "/v2/", NULL, P, 200, BASE, NULL, NULL},
    {"GET", "/v2/?x=1", NULL, P, 200, BASE, NULL, NULL},
    {"GET", "/v2?x=1", NULL, P, 200, BASE, NULL, NULL},

    /* --- 4. no catalog (the exact raw path; other spellings die in rule 5) */
    {"GET", "/v2/_catalog", NULL, P, 404, CAT, NULL, "UNSUPPORTED"},
    {"HEAD", "/v2/_catalog", NULL, P, 404, CAT, NULL, "UNSUPPORTED"},
    {"GET", "/v2/_catalog?n=1", NULL, P, 404, CAT, NULL, "UNSUPPORTED"},
    {"GET", "/v2/_catalog/", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/%5Fcatalog", NULL, P, 404, INV, NULL, "UNSUPPORTED"},

    /* --- 5. invalid: unknown endpoint shapes -> 404 UNSUPPORTED */
    {"GET", "/v2/pause", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/manifests", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list/", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/manifests/3.9/", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/blobs/uploads/", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/blobs/uploads/1b7f-uuid", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/uploads/", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/manifests/./3.9", NULL, P, 404, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/Manifests/3.9", NULL, P, 404, INV, NULL, "UNSUPPORTED"},

    /* --- 5. invalid names -> 400 NAME_INVALID (name is checked first) */
    {"GET", "/v2/Pause/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/Pause/blobs/sha256:bad", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/tags/list", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2//pause/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause//manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/a//b/tags/list", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/../manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/./pause/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause/../manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/x/../../etc/tags/list", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/%2e%2e/pause/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/%2E%2E/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/%252e%252e/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pa%2575se/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause%2F/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/-pause/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/a___b/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pa use/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pa%20use/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause\x01/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause%0a/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause%00/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/caf\xc3\xa9/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/caf%C3%A9/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pa%3Fuse/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    /* malformed percent-escapes anywhere in the path: NAME_INVALID */
    {"GET", "/v2/pa%zzuse/manifests/3.9", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause/manifests/%zz", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause/manifests/3.9%", NULL, P, 400, INV, NULL, "NAME_INVALID"},
    {"GET", "/v2/pause/manifests/3.9%4", NULL, P, 400, INV, NULL, "NAME_INVALID"},

    /* --- 5. invalid tags -> 400 MANIFEST_INVALID */
    {"GET", "/v2/pause/manifests/", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},
    {"GET", "/v2/pause/manifests/.hidden", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},
    {"GET", "/v2/pause/manifests/..", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},
    {"GET", "/v2/pause/manifests/%2e%2e", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},
    {"GET", "/v2/pause/manifests/-rc", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},
    {"GET", "/v2/pause/manifests/3.9%2500", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},
    {"GET", "/v2/pause/manifests/3.9%00", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},
    {"GET", "/v2/pause/manifests/3.9+x", NULL, P, 400, INV, NULL, "MANIFEST_INVALID"},

    /* --- 5. invalid digests -> 400 DIGEST_INVALID (a reference with ':' is a digest) */
    {"GET", "/v2/pause/blobs/sha256:" HEX63, NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/blobs/" D256 "0", NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/blobs/sha256:" HEX64_UPPER, NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/blobs/sha512:" HEX64, NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/blobs/SHA256:" HEX64, NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/blobs/latest", NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/blobs/", NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/blobs/uploads", NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/manifests/sha256:" HEX63, NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/manifests/sha256:" HEX64_UPPER, NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/manifests/x%0d%0aSet-Cookie:a", NULL, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/referrers/latest", SIG, P, 400, INV, NULL, "DIGEST_INVALID"},
    {"GET", "/v2/pause/referrers/sha256:" HEX63, SIG, P, 400, INV, NULL, "DIGEST_INVALID"},

    /* --- 5. a query string is copied verbatim, so it must be clean URI syntax */
    {"GET", "/v2/pause/tags/list?n=1 2", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?n=1\r\nX-A: b", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?n=1\t", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?n=1#frag", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?last=%zz", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?last=%4", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?last=\"x\"", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?last=<x>", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/tags/list?last=caf\xc3\xa9", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    {"GET", "/v2/pause/blobs/" D256 "?x=\x7f", NULL, P, 400, INV, NULL, "UNSUPPORTED"},
    /* the path is judged first */
    {"GET", "/v2/Pause/tags/list?n=1 2", NULL, P, 400, INV, NULL, "NAME_INVALID"},

    /* --- 6. signature upstream on: cosign .sig/.att tags and all referrers go there */
    {"GET", "/v2/pause/manifests/" COSIGN_SIG, SIG, P, 307, SIGR,
     SIG "/v2/" P "/pause/manifests/" COSIGN_SIG, NULL},
    {"HEAD", "/v2/pause/manifests/" COSIGN_ATT, SIG, P, 307, SIGR,
     SIG "/v2/" P "/pause/manifests/" COSIGN_ATT, NULL},
    {"GET", "/v2/pause/manifests/" COSIGN_SIG "?x=1", SIG, P, 307, SIGR,
     SIG "/v2/" P "/pause/manifests/" COSIGN_SIG "?x=1", NULL},
    {"GET", "/v2/pause/manifests/" COSIGN_SIG, SIG, "", 307, SIGR,
     SIG "/v2/pause/manifests/" COSIGN_SIG, NULL},
    {"GET", "/v2/pause/referrers/" D256, SIG, P, 307, SIGR, SIG "/v2/" P "/pause/referrers/" D256,
     NULL},
    {"GET", "/v2/pause/referrers/" D256 "?artifactType=application/vnd.dev.sigstore.bundle%2Bjson",
     SIG, P, 307, SIGR,
     SIG "/v2/" P "/pause/referrers/" D256
	 "?artifactType=application/vnd.dev.sigstore.bundle%2Bjson",
     NULL},
    {"HEAD", "/v2/pause/referrers/" D512, SIG, "", 307, SIGR, SIG "/v2/pause/referrers/" D512,
     NULL},
    /* ... and nothing else does */
    {"GET", "/v2/pause/manifests/3.9", SIG, P, 307, UPR, UP "/v2/" P "/pause/manifests/3.9", NULL},
    {"GET", "/v2/pause/manifests/" D256, SIG, P, 307, UPR, UP "/v2/" P "/pause/manifests/" D256,
     NULL},
    {"GET", "/v2/pause/manifests/sha256-" HEX64 ".sbom", SIG, P, 307, UPR,
     UP "/v2/" P "/pause/manifests/sha256-" HEX64 ".sbom", NULL},
    {"GET", "/v2/pause/manifests/sha256-" HEX64_UPPER ".sig", SIG, P, 307, UPR,
     UP "/v2/" P "/pause/manifests/sha256-" HEX64_UPPER ".sig", NULL},
    {"GET", "/v2/pause/tags/list", SIG, P, 307, UPR, UP "/v2/" P "/pause/tags/list", NULL},
    {"GET", "/v2/pause/blobs/" D256, SIG, P, 307, BLOB, UP "/v2/" P "/pause/blobs/" D256, NULL},
    /* signature upstream off (unset or empty): cosign tags and referrers go upstream */
    {"GET", "/v2/pause/manifests/" COSIGN_SIG, NULL, P, 307, UPR,
     UP "/v2/" P "/pause/manifests/" COSIGN_SIG, NULL},
    {"GET", "/v2/pause/manifests/" COSIGN_ATT, "", P, 307, UPR,
     UP "/v2/" P "/pause/manifests/" COSIGN_ATT, NULL},
    {"GET", "/v2/pause/referrers/" D256 "?artifactType=x", NULL, P, 307, UPR,
     UP "/v2/" P "/pause/referrers/" D256 "?artifactType=x", NULL},
    {"GET", "/v2/pause/referrers/" D256, "", P, 307, UPR, UP "/v2/" P "/pause/referrers/" D256,
     NULL},

    /* --- 7. every other valid non-blob endpoint -> upstream, query kept */
    {"GET", "/v2/pause/manifests/3.9", NULL, P, 307, UPR, UP "/v2/" P "/pause/manifests/3.9", NULL},
    {"HEAD", "/v2/pause/manifests/3.9", NULL, P, 307, UPR, UP "/v2/" P "/pause/manifests/3.9",
     NULL},
    {"GET", "/v2/pause/manifests/3.9", NULL, "", 307, UPR, UP "/v2/pause/manifests/3.9", NULL},
    {"GET", "/v2/pause/manifests/Latest_V1.0-rc", NULL, P, 307, UPR,
     UP "/v2/" P "/pause/manifests/Latest_V1.0-rc", NULL},
    {"GET", "/v2/pause/manifests/" D256, NULL, P, 307, UPR, UP "/v2/" P "/pause/manifests/" D256,
     NULL},
    {"GET", "/v2/pause/manifests/" D512, NULL, P, 307, UPR, UP "/v2/" P "/pause/manifests/" D512,
     NULL},
    {"GET", "/v2/pause/manifests/blake3:abc", NULL, P, 307, UPR,
     UP "/v2/" P "/pause/manifests/blake3:abc", NULL},
    {"GET", "/v2/sig-storage/csi-provisioner/manifests/v3.5.0", NULL, P, 307, UPR,
     UP "/v2/" P "/sig-storage/csi-provisioner/manifests/v3.5.0", NULL},
    {"GET", "/v2/a.b_c__d--e/manifests/1", NULL, P, 307, UPR,
     UP "/v2/" P "/a.b_c__d--e/manifests/1", NULL},
    {"GET", "/v2/pause/tags/list", NULL, P, 307, UPR, UP "/v2/" P "/pause/tags/list", NULL},
    {"GET", "/v2/pause/tags/list?n=10&last=3.8", NULL, P, 307, UPR,
     UP "/v2/" P "/pause/tags/list?n=10&last=3.8", NULL},
    {"GET", "/v2/pause/tags/list?n=10&last=3.8", NULL, "", 307, UPR,
     UP "/v2/pause/tags/list?n=10&last=3.8", NULL},
    {"GET", "/v2/pause/tags/list?", NULL, P, 307, UPR, UP "/v2/" P "/pause/tags/list?", NULL},
    {"GET", "/v2/pause/tags/list?last=a%2Fb&x=?:@!$'()*+,;=~", NULL, P, 307, UPR,
     UP "/v2/" P "/pause/tags/list?last=a%2Fb&x=?:@!$'()*+,;=~", NULL},
    /* names whose components spell endpoint words: split from the right */
    {"GET", "/v2/foo/manifests/tags/list", NULL, P, 307, UPR,
     UP "/v2/" P "/foo/manifests/tags/list", NULL},
    {"GET", "/v2/a/manifests/b/manifests/latest", NULL, P, 307, UPR,
     UP "/v2/" P "/a/manifests/b/manifests/latest", NULL},
    /* percent-encoding is decoded once and the redirect uses the decoded path */
    {"GET", "/v2/pa%75se/manifests/3%2E9", NULL, P, 307, UPR, UP "/v2/" P "/pause/manifests/3.9",
     NULL},
    {"GET", "/v2/sig-storage%2Fcsi-provisioner/manifests/v1", NULL, P, 307, UPR,
     UP "/v2/" P "/sig-storage/csi-provisioner/manifests/v1", NULL},
    {"GET", "/v2/sig-storage%2fcsi-provisioner/tags/list", NULL, P, 307, UPR,
     UP "/v2/" P "/sig-storage/csi-provisioner/tags/list", NULL},
    {"GET", "/v2/pause%2Fmanifests%2F3.9", NULL, P, 307, UPR, UP "/v2/" P "/pause/manifests/3.9",
     NULL},
    {"GET", "/v2/pause/manifests/sha256%3A" HEX64, NULL, P, 307, UPR,
     UP "/v2/" P "/pause/manifests/" D256, NULL},

    /* --- 8. blobs -> ROUTE_BLOB, location = the upstream blob URL */
    {"GET", "/v2/pause/blobs/" D256, NULL, P, 307, BLOB, UP "/v2/" P "/pause/blobs/" D256, NULL},
    {"HEAD", "/v2/pause/blobs/" D256, NULL, P, 307, BLOB, UP "/v2/" P "/pause/blobs/" D256, NULL},
    {"GET", "/v2/pause/blobs/" D256, NULL, "", 307, BLOB, UP "/v2/pause/blobs/" D256, NULL},
    {"GET", "/v2/pause/blobs/" D512, NULL, P, 307, BLOB, UP "/v2/" P "/pause/blobs/" D512, NULL},
    {"GET", "/v2/pause/blobs/blake3:abc_DEF=", NULL, P, 307, BLOB,
     UP "/v2/" P "/pause/blobs/blake3:abc_DEF=", NULL},
    {"GET", "/v2/pause/blobs/" D256 "?ns=registry.k8s.io", NULL, P, 307, BLOB,
     UP "/v2/" P "/pause/blobs/" D256 "?ns=registry.k8s.io", NULL},
    {"GET", "/v2/a/b/c/blobs/sha256%3a" HEX64, NULL, P, 307, BLOB, UP "/v2/" P "/a/b/c/blobs/" D256,
     NULL},
};

static void route(const char *method, const char *target, size_t target_len, const char *sig,
		  const char *upath, struct route_result *out)
{
	const struct route_config config = {
	    .upstream = UP,
	    .upstream_path = upath,
	    .signature_upstream = sig,
	    .info_url = INFO,
	    .privacy_url = PRIVACY,
	};

	/* Garbage first: the router must set every field it reports. */
	memset(out, 'X', sizeof(*out));
	route_request(&config, method, strlen(method), target, target_len, out);
}

static void check_kind(const struct route_result *got, int status, enum route_rule rule)
{
	if (status == 307)
		assert_int_equal(got->kind, rule == RULE_BLOB ? ROUTE_BLOB : ROUTE_REDIRECT);
	else
		assert_int_equal(got->kind, ROUTE_RESPOND);
}

static void test_routing_table(void **state)
{
	struct route_result *got = malloc(sizeof(*got));
	size_t failures = 0;

	(void)state;
	assert_non_null(got);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct route_case *c = &table[i];
		const char *want_loc = c->location == NULL ? "" : c->location;
		const char *want_err = c->oci_error == NULL ? "(none)" : c->oci_error;

		route(c->method, c->target, strlen(c->target), c->sig, c->upath, got);
		const char *got_err = got->oci_error == NULL ? "(none)" : got->oci_error;
		if (got->status != c->status || got->rule != c->rule ||
		    strcmp(got->location, want_loc) != 0 || strcmp(got_err, want_err) != 0 ||
		    got->message == NULL) {
			print_error("row %zu: %s %s (sig=%s, path=\"%s\")\n"
				    "  want %d rule %d error %s location \"%s\"\n",
				    i, c->method, c->target, c->sig == NULL ? "NULL" : c->sig,
				    c->upath, c->status, (int)c->rule, want_err, want_loc);
			print_error("  got  %d rule %d error %s location \"%s\"\n", got->status,
				    (int)got->rule, got_err, got->location);
			failures++;
			continue;
		}
		check_kind(got, c->status, c->rule);
		if (got->kind == ROUTE_BLOB) {
			const char *digest = strrchr(c->location, '/') + 1;
			size_t digest_len = strcspn(digest, "?");
			assert_int_equal(strlen(got->digest), digest_len);
			assert_memory_equal(got->digest, digest, digest_len);
		}
	}
	free(got);
	if (failures > 0)
		fail_msg("%zu of %zu routing rows wrong", failures,
			 sizeof(table) / sizeof(table[0]));
}

/* A target of the whole allowed length still routes; one byte more is 414. */
static void test_target_length_limit(void **state)
{
	static const char prefix[] = "/v2/pause/tags/list?last=";
	char *target = malloc(ROUTE_TARGET_MAX + 2);
	struct route_result *got = malloc(sizeof(*got));

	(void)state;
	assert_non_null(target);
	assert_non_null(got);
	memcpy(target, prefix, strlen(prefix));
	memset(target + strlen(prefix), 'a', ROUTE_TARGET_MAX + 1 - strlen(prefix));
	target[ROUTE_TARGET_MAX + 1] = '\0';

	route("GET", target, ROUTE_TARGET_MAX, NULL, P, got);
	assert_int_equal(got->status, 307);
	assert_int_equal(got->rule, RULE_UPSTREAM);
	assert_int_equal(strlen(got->location),
			 strlen(UP "/v2/" P "/") + ROUTE_TARGET_MAX - strlen("/v2/"));

	route("GET", target, ROUTE_TARGET_MAX + 1, NULL, P, got);
	assert_int_equal(got->status, 414);
	assert_int_equal(got->rule, RULE_INVALID);
	assert_string_equal(got->location, "");

	/* the method is still judged first */
	route("POST", target, ROUTE_TARGET_MAX + 1, NULL, P, got);
	assert_int_equal(got->status, 405);
	free(target);
	free(got);
}

static void test_name_and_reference_lengths(void **state)
{
	char target[1024];
	char name[257];
	char long_tag[130];
	char long_digest[300];
	struct route_result *got = malloc(sizeof(*got));

	(void)state;
	assert_non_null(got);
	memset(name, 'a', sizeof(name));

	/* names: 255 characters fine, 256 not */
	snprintf(target, sizeof(target), "/v2/%.*s/tags/list", 255, name);
	route("GET", target, strlen(target), NULL, P, got);
	assert_int_equal(got->status, 307);
	snprintf(target, sizeof(target), "/v2/%.*s/tags/list", 256, name);
	route("GET", target, strlen(target), NULL, P, got);
	assert_int_equal(got->status, 400);
	assert_string_equal(got->oci_error, "NAME_INVALID");

	/* tags: 128 characters fine, 129 not */
	memset(long_tag, 'T', sizeof(long_tag));
	snprintf(target, sizeof(target), "/v2/pause/manifests/%.*s", 128, long_tag);
	route("GET", target, strlen(target), NULL, P, got);
	assert_int_equal(got->status, 307);
	snprintf(target, sizeof(target), "/v2/pause/manifests/%.*s", 129, long_tag);
	route("GET", target, strlen(target), NULL, P, got);
	assert_int_equal(got->status, 400);
	assert_string_equal(got->oci_error, "MANIFEST_INVALID");

	/* generic digests must fit the result's digest buffer */
	memcpy(long_digest, "x:", 2);
	memset(long_digest + 2, 'a', sizeof(long_digest) - 2);
	snprintf(target, sizeof(target), "/v2/pause/blobs/%.*s", ROUTE_DIGEST_MAX - 1, long_digest);
	route("GET", target, strlen(target), NULL, P, got);
	assert_int_equal(got->status, 307);
	assert_int_equal(got->kind, ROUTE_BLOB);
	assert_int_equal(strlen(got->digest), ROUTE_DIGEST_MAX - 1);
	snprintf(target, sizeof(target), "/v2/pause/blobs/%.*s", ROUTE_DIGEST_MAX, long_digest);
	route("GET", target, strlen(target), NULL, P, got);
	assert_int_equal(got->status, 400);
	assert_string_equal(got->oci_error, "DIGEST_INVALID");
	assert_string_equal(got->digest, "");
	free(got);
}

/* Configuration the lead validates at start, but the router must not
 * overflow or dereference NULL on it either. */
static void test_config_edges(void **state)
{
	size_t long_len = ROUTE_LOCATION_MAX + 10;
	char *long_url = malloc(long_len + 1);
	struct route_result *got = malloc(sizeof(*got));
	struct route_config config = {UP, P, NULL, INFO, PRIVACY};

	(void)state;
	assert_non_null(long_url);
	assert_non_null(got);
	memcpy(long_url, "http://127.0.0.1/", 17);
	memset(long_url + 17, 'a', long_len - 17);
	long_url[long_len] = '\0';

	/* a Location that cannot fit: 414 and no Location */
	config.upstream = long_url;
	route_request(&config, "GET", 3, "/v2/pause/manifests/3.9", 23, got);
	assert_int_equal(got->status, 414);
	assert_string_equal(got->location, "");
	config.upstream = UP;

	config.info_url = long_url;
	route_request(&config, "GET", 3, "/", 1, got);
	assert_int_equal(got->status, 500);
	assert_string_equal(got->location, "");

	config.info_url = NULL;
	route_request(&config, "GET", 3, "/", 1, got);
	assert_int_equal(got->status, 404);
	assert_string_equal(got->location, "");

	/* a NULL upstream path means the same as "" */
	config.upstream_path = NULL;
	route_request(&config, "GET", 3, "/v2/pause/tags/list", 19, got);
	assert_string_equal(got->location, UP "/v2/pause/tags/list");
	free(long_url);
	free(got);
}

/* The target is a span: bytes after target_len are not part of it. */
static void test_target_is_a_span(void **state)
{
	struct route_result *got = malloc(sizeof(*got));

	(void)state;
	assert_non_null(got);
	route("GET", "/v2/pause/tags/listGARBAGE", strlen("/v2/pause/tags/list"), NULL, P, got);
	assert_int_equal(got->status, 307);
	assert_string_equal(got->location, UP "/v2/" P "/pause/tags/list");
	/* an embedded NUL is an invalid byte, not an end of string */
	route("GET", "/v2/pa\0use/tags/list", 20, NULL, P, got);
	assert_int_equal(got->status, 400);
	assert_string_equal(got->oci_error, "NAME_INVALID");
	free(got);
}

/* Rule 2 answers the configured info and privacy URLs byte for byte: a
 * trailing slash or a query is the operator's and is kept. */
static void test_page_urls_byte_for_byte(void **state)
{
	struct route_result *got = malloc(sizeof(*got));
	struct route_config config = {UP, P, NULL, "https://example.org/",
				      "https://example.org/privacy/?lang=en"};

	(void)state;
	assert_non_null(got);
	route_request(&config, "GET", 3, "/", 1, got);
	assert_int_equal(got->status, 307);
	assert_string_equal(got->location, "https://example.org/");
	route_request(&config, "HEAD", 4, "/privacy/x?y=1", 14, got);
	assert_int_equal(got->status, 307);
	assert_string_equal(got->location, "https://example.org/privacy/?lang=en");
	free(got);
}

/* The endpoint a request named, for the metrics' route label: set as soon
 * as the path parses as one, kept when its name or digest is then refused. */
static void test_endpoint_for_metrics(void **state)
{
	static const struct {
		const char *method, *target;
		enum route_endpoint endpoint;
	} rows[] = {
	    {"GET", "/v2/", ROUTE_ENDPOINT_PING},
	    {"HEAD", "/v2", ROUTE_ENDPOINT_PING},
	    {"GET", "/v2/pause/manifests/3.9", ROUTE_ENDPOINT_MANIFEST},
	    {"GET", "/v2/pause/manifests/" COSIGN_SIG, ROUTE_ENDPOINT_MANIFEST},
	    {"GET", "/v2/pause/blobs/" D256, ROUTE_ENDPOINT_BLOB},
	    {"GET", "/v2/pause/tags/list", ROUTE_ENDPOINT_TAGS},
	    {"GET", "/v2/pause/referrers/" D256, ROUTE_ENDPOINT_REFERRERS},
	    {"GET", "/v2/A/manifests/x", ROUTE_ENDPOINT_MANIFEST},  /* 400 NAME_INVALID */
	    {"GET", "/v2/a/blobs/sha256:abc", ROUTE_ENDPOINT_BLOB}, /* 400 DIGEST_INVALID */
	    {"GET", "/v2/a/uploads/x", ROUTE_ENDPOINT_NONE},	    /* 404 unsupported */
	    {"GET", "/v2/_catalog", ROUTE_ENDPOINT_NONE},
	    {"GET", "/", ROUTE_ENDPOINT_NONE},
	    {"GET", "/favicon.ico", ROUTE_ENDPOINT_NONE},
	    {"POST", "/v2/pause/manifests/3.9", ROUTE_ENDPOINT_NONE}, /* 405 first */
	};
	struct route_result *got = malloc(sizeof(*got));

	(void)state;
	assert_non_null(got);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		route(rows[i].method, rows[i].target, strlen(rows[i].target), SIG, P, got);
		if (got->endpoint != rows[i].endpoint)
			fail_msg("%s %s: endpoint %d, want %d", rows[i].method, rows[i].target,
				 (int)got->endpoint, (int)rows[i].endpoint);
	}
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routing_table),
	    cmocka_unit_test(test_endpoint_for_metrics),
	    cmocka_unit_test(test_target_length_limit),
	    cmocka_unit_test(test_name_and_reference_lengths),
	    cmocka_unit_test(test_config_edges),
	    cmocka_unit_test(test_target_is_a_span),
	    cmocka_unit_test(test_page_urls_byte_for_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
