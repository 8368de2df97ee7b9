/* Allocation failure sweep along archeio-mirror's pure parts
 * (tests/unit/helpers/fail_alloc.h): SigV4 signing, manifests, registry auth
 * challenges and tokens, auth files, URLs, digests and the copy plan. For
 * N = 1, 2, ... the Nth allocation (archeio's, jansson's, libcurl's URL API
 * and OpenSSL's) fails; each run must either report the failure (NULL or
 * false, nothing half-filled) or give exactly the result of the run without
 * failures. Leaks: the sanitizer build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "archeio/mirrorcheck/mirror_health.h"
#include "archeio/mirrortool/cli.h"
#include "helpers/fail_alloc.h"
#include "mirrortool/auth.h"
#include "mirrortool/auth_file.h"
#include "mirrortool/dest.h"
#include "mirrortool/digest.h"
#include "mirrortool/failures.h"
#include "mirrortool/manifest.h"
#include "mirrortool/plan.h"
#include "mirrortool/progress.h"
#include "mirrortool/sigv4.h"
#include "mirrortool/state.h"
#include "mirrortool/url.h"

#define SUMMARY_MAX 2048

/* An operation run under the sweep: true with a summary of its result, or
 * false when it reported a failure. The summary is written with snprintf
 * only (no allocation of its own). */
typedef bool (*operation)(char *summary, size_t len);

static void sweep(const char *name, operation op)
{
	static char want[SUMMARY_MAX], got[SUMMARY_MAX];
	assert_true(op(want, sizeof(want)));
	for (long n = 1; n <= FAIL_ALLOC_MAX_STEPS; n++) {
		got[0] = '\0';
		fail_alloc_arm(n);
		bool ok = op(got, sizeof(got));
		bool injected = fail_alloc_disarm();
		if (ok && strcmp(got, want) != 0)
			fail_msg("%s, allocation %ld failed: got \"%s\", want \"%s\"", name, n, got,
				 want);
		if (!injected) {
			assert_true(ok);
			return;
		}
	}
	fail_msg("%s: more than %d allocations", name, FAIL_ALLOC_MAX_STEPS);
}

static bool sign(char *summary, size_t len)
{
	static const struct sigv4_header headers[] = {
	    {"Host", "bucket.s3.eu-west-1.amazonaws.com"},
	    {"X-Amz-Date", "20261130T080000Z"},
	    {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
	};
	const struct sigv4_request req = {"PUT",
					  "/containers/images/sha256%3Aab",
					  "uploads=&partNumber=2",
					  headers,
					  3,
					  "UNSIGNED-PAYLOAD"};
	const struct sigv4_key key = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				      "eu-west-1", "s3"};
	char *auth = sigv4_authorization(&req, &key, "20261130T080000Z");
	char *sts = auth ? sigv4_string_to_sign(&req, &key, "20261130T080000Z") : NULL;
	bool ok = auth && sts;
	if (ok)
		snprintf(summary, len, "%s|%s", auth, sts);
	free(auth);
	free(sts);
	return ok;
}

static bool parse_manifests(char *summary, size_t len)
{
	static const char image[] =
	    "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_OCI_MANIFEST "\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	    "\"digest\":\"sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"size\":7},\"layers\":[{\"mediaType\":\"application/"
	    "vnd.oci.image.layer.v1.tar+gzip\","
	    "\"digest\":\"sha256:"
	    "2222222222222222222222222222222222222222222222222222222222222222\","
	    "\"size\":42},{\"digest\":\"sha256:"
	    "3333333333333333333333333333333333333333333333333333333333333333\",\"size\":1,"
	    "\"urls\":[\"https://foreign.example/l\"]}]}";
	static const char index[] =
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\","
	    "\"digest\":\"sha256:"
	    "4444444444444444444444444444444444444444444444444444444444444444\","
	    "\"size\":500,\"platform\":{\"os\":\"linux\"}}]}";
	struct manifest m, i;
	char err[256];
	if (!manifest_parse(image, sizeof(image) - 1, NULL, &m, err, sizeof(err)))
		return false;
	if (!manifest_parse(index, sizeof(index) - 1, MEDIA_OCI_INDEX, &i, err, sizeof(err))) {
		manifest_free(&m);
		return false;
	}
	assert_int_equal(m.kind, MANIFEST_IMAGE);
	assert_int_equal(i.kind, MANIFEST_INDEX);
	snprintf(summary, len, "%zu %s %s %lld, %s %s %lld, skipped %zu | %zu %s %lld",
		 m.blob_count, m.blobs[0].digest, m.blobs[0].media_type, (long long)m.blobs[0].size,
		 m.blobs[1].digest, m.blobs[1].media_type, (long long)m.blobs[1].size,
		 m.skipped_foreign, i.child_count, i.children[0].digest,
		 (long long)i.children[0].size);
	manifest_free(&m);
	manifest_free(&i);
	return true;
}

static bool challenge_and_token(char *summary, size_t len)
{
	struct auth_challenge c;
	char err[256];
	if (!auth_challenge_parse("Basic realm=\"x\", Bearer realm=\"/token\","
				  "service=\"registry.example\",scope=\"repository:a/b:pull\","
				  "error=\"insufficient_scope\"",
				  &c, err, sizeof(err)))
		return false;
	bool ok = auth_challenge_resolve_realm(&c, "https://registry.example/v2/a/b/manifests/x");
	char *url = ok ? auth_token_url(&c, "repository:a/b:pull") : NULL;
	static const char body[] = "{\"token\":\"t0k\",\"access_token\":\"ignored\"}";
	char *token = url ? auth_token_from_json(body, sizeof(body) - 1) : NULL;
	ok = token != NULL;
	if (ok)
		snprintf(summary, len, "%s %s %s %s %s|%s|%s", c.scheme, c.realm, c.service,
			 c.scope, c.error, url, token);
	free(url);
	free(token);
	auth_challenge_free(&c);
	return ok;
}

static bool auth_file(char *summary, size_t len)
{
	static const char text[] =
	    "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"},"
	    "\"registry.example:5000\":{\"auth\":\"YWxpY2U6czNjcjN0\"},"
	    "\"other.example\":{\"identitytoken\":\"refresh\"}}}";
	struct registry_credentials a = {0}, b = {0};
	bool found_a = false, found_b = false;
	char err[256];
	if (!auth_file_lookup(text, sizeof(text) - 1, "registry.example:5000", &a, &found_a, err,
			      sizeof(err)))
		return false;
	if (!auth_file_lookup(text, sizeof(text) - 1, "other.example", &b, &found_b, err,
			      sizeof(err))) {
		registry_credentials_free(&a);
		return false;
	}
	char *key = auth_file_key_registry("https://registry.example:5000/v2/");
	bool ok = key != NULL;
	if (ok)
		snprintf(summary, len, "%d %s %s | %d %s | %s", found_a, a.username, a.password,
			 found_b, b.identity_token, key);
	free(key);
	registry_credentials_free(&a);
	registry_credentials_free(&b);
	return ok;
}

static bool urls(char *summary, size_t len)
{
	char *encoded = url_encode("a b/c:d", true);
	char *resolved = encoded ? url_resolve("https://r.example/v2/x/tags/list?n=2",
					       "/v2/x/tags/list?last=b&n=2")
				 : NULL;
	char *authority = NULL, *path = NULL;
	bool ok = resolved && url_split("https://r.example:5000/v2/x?y#frag", &authority, &path);
	if (ok)
		snprintf(summary, len, "%s %s %s %s", encoded, resolved, authority, path);
	free(encoded);
	free(resolved);
	free(authority);
	free(path);
	return ok;
}

static bool digests(char *summary, size_t len)
{
	struct digest_ref ref;
	assert_true(
	    digest_parse("sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d3"
			 "9a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
			 &ref));
	struct digest_verifier *v = digest_verifier_new(&ref);
	if (!v)
		return false;
	char actual[DIGEST_TEXT_MAX];
	unsigned char sha256[DIGEST_SHA256_LEN];
	bool ok = digest_verifier_update(v, "abc", 3);
	bool matches = ok && digest_verifier_finish(v, actual, sha256);
	digest_verifier_free(v);
	char text[DIGEST_TEXT_MAX];
	digest_sha256_text("abc", 3, text);
	ok = ok && text[0] != '\0';
	if (ok)
		snprintf(summary, len, "%d %s %02x%02x %s", matches, actual, sha256[0], sha256[31],
			 text);
	return ok;
}

static bool planning(char *summary, size_t len)
{
	struct plan p, other;
	plan_init(&p);
	plan_init(&other);
	bool ok = false;
	struct plan_image *img = plan_add_image(&other, "a/b", "v1");
	if (img &&
	    plan_image_add_manifest(
		img, "sha256:" /* index */
		     "5555555555555555555555555555555555555555555555555555555555555555") &&
	    plan_image_add_blob(
		&other, img,
		"sha256:6666666666666666666666666666666666666666666666666666666666666666", 10,
		"a/b") &&
	    plan_image_add_blob(
		&other, img,
		"sha256:7777777777777777777777777777777777777777777777777777777777777777", 20,
		"a/b"))
		ok = plan_merge_image(&p, &other, img);
	if (ok)
		snprintf(summary, len, "%d %llu", plan_image_complete(&p, &p.images[0]),
			 (unsigned long long)plan_total_bytes(&p));
	plan_free(&p);
	plan_free(&other);
	return ok;
}

static void signing_survives(void **state)
{
	(void)state;
	sweep("sigv4", sign);
}

static void manifests_survive(void **state)
{
	(void)state;
	sweep("manifest", parse_manifests);
}

static void registry_auth_survives(void **state)
{
	(void)state;
	sweep("auth", challenge_and_token);
	sweep("auth file", auth_file);
}

static void urls_survive(void **state)
{
	(void)state;
	sweep("url", urls);
}

static void digests_survive(void **state)
{
	(void)state;
	sweep("digest", digests);
}

static void plans_survive(void **state)
{
	(void)state;
	sweep("plan", planning);
}

static bool repos_text(char *summary, size_t len)
{
	struct mirror_options o;
	char err[256];
	if (cli_parse(3, (char *[]){"archeio-mirror", "--from", "https://r.example", NULL}, &o, err,
		      sizeof(err)) != CLI_OK)
		return false;
	bool ok =
	    cli_add_repos_text(&o, "# images\na/b\n\n  c/d  \n", "repos.txt", err, sizeof(err));
	if (ok) {
		int n = snprintf(summary, len, "%zu:", o.repo_count);
		for (size_t i = 0; i < o.repo_count && n > 0 && (size_t)n < len; i++)
			n += snprintf(summary + n, len - (size_t)n, " %s", o.repos[i]);
	} else {
		assert_string_equal(err, "out of memory");
	}
	cli_options_free(&o);
	return ok;
}

static void repository_lists_survive(void **state)
{
	(void)state;
	sweep("repos text", repos_text);
}

/* A failure line that cannot be kept is still counted, and the list says
 * how many it lost. */
static void failures_lost_to_memory_are_counted(void **state)
{
	(void)state;
	struct failures f;
	failures_init(&f);
	failures_add(&f, FAILURE_BLOB, "blob %d", 1);
	fail_alloc_arm(1);
	failures_add(&f, FAILURE_IMAGE, "image %s", "a/b:v1");
	assert_true(fail_alloc_disarm());
	fail_alloc_arm(2);
	failures_add(&f, FAILURE_IMAGE, "image %s", "a/b:v2");
	fail_alloc_disarm();
	assert_int_equal(failures_count(&f), 3);
	size_t kinds[FAILURE_KINDS];
	failures_by_kind(&f, kinds);
	assert_int_equal(kinds[FAILURE_IMAGE], 2);
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	assert_non_null(out);
	failures_print(&f, out);
	fclose(out);
	assert_non_null(strstr(text, "  blob 1\n"));
	assert_non_null(strstr(text, "not kept: out of memory"));
	assert_null(strstr(text, "a/b:v1"));
	free(text);
	failures_destroy(&f);
}

/* Out of memory, every failed check says FAILING: too many warnings rather
 * than none; a checker without its health record is refused. */
static void mirror_health_without_memory_warns(void **state)
{
	(void)state;
	fail_alloc_arm(1);
	assert_null(mirror_health_new(1000));
	assert_true(fail_alloc_disarm());
	struct mirror_health *h = mirror_health_new(1000);
	assert_non_null(h);
	static const char origin[] = "https://m.example/";
	for (long n = 1; n <= 2; n++) {
		fail_alloc_arm(n);
		struct mirror_health_report r =
		    mirror_health_record(h, origin, sizeof(origin) - 1, true, 10);
		bool injected = fail_alloc_disarm();
		assert_true(injected);
		assert_int_equal(r.say, MIRROR_HEALTH_FAILING);
	}
	/* With memory: the first failure warns, the next within the interval not. */
	assert_int_equal(mirror_health_record(h, origin, sizeof(origin) - 1, true, 20).say,
			 MIRROR_HEALTH_FAILING);
	assert_int_equal(mirror_health_record(h, origin, sizeof(origin) - 1, true, 30).say,
			 MIRROR_HEALTH_QUIET);
	mirror_health_free(h);
}

static char scratch[64];

/* A directory destination and a state directory, each run in a directory
 * of its own: a blob written, committed and re-hashed, a manifest recorded. */
static bool directory_destination(char *summary, size_t len)
{
	static long run;
	char root[128], state_dir[160], err[256] = "";
	snprintf(root, sizeof(root), "%s/%ld/mirror", scratch, ++run);
	snprintf(state_dir, sizeof(state_dir), "%s/%ld/state", scratch, run);
	static const char digest[] =
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	struct mirror_state st;
	if (!mirror_state_open(&st, state_dir, true, err, sizeof(err)))
		return false;
	struct dest *d = dest_dir_open(root, false, err, sizeof(err));
	struct dest_writer *w = d ? dest_writer_open(d, digest, 3, err, sizeof(err)) : NULL;
	static const unsigned char sha[DIGEST_SHA256_LEN] = {0};
	bool ok = w && dest_writer_write(w, "abc", 3, err, sizeof(err));
	if (w && !ok)
		dest_writer_abort(w);
	ok = ok && dest_writer_commit(w, 3, sha, err, sizeof(err));
	enum dest_blob_state state = DEST_BLOB_ABSENT;
	ok = ok && dest_check_blob(d, NULL, digest, 3, true, &state, err, sizeof(err)) &&
	     mirror_state_record(&st, digest, "a/b:v1", err, sizeof(err));
	if (ok)
		snprintf(summary, len, "%s %d", dest_blob_state_name(state),
			 mirror_state_has(&st, digest));
	else
		assert_true(err[0] != '\0');
	if (d)
		dest_free(d);
	mirror_state_close(&st);
	return ok;
}

static void directory_destinations_survive(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "/tmp/archeio-test-fault-dir.XXXXXX");
	assert_non_null(mkdtemp(scratch));
	sweep("directory destination", directory_destination);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	assert_int_equal(system(cmd), 0);
}

/* A download that restarts takes back the bytes it had counted; the count
 * never goes below zero (another blob's restart may take back more). */
static void progress_bytes_never_go_below_zero(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p, stderr, false);
	progress_add_bytes(&p, 10);
	progress_add_bytes(&p, -4);
	struct progress_counts c;
	progress_snapshot(&p, &c);
	assert_int_equal(c.bytes_done, 6);
	progress_add_bytes(&p, -20);
	progress_snapshot(&p, &c);
	assert_int_equal(c.bytes_done, 0);
	progress_destroy(&p);
	/* Drawn only on a terminal; there over the previous line, cleared to its end. */
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	assert_non_null(out);
	progress_init(&p, out, false);
	progress_draw(&p);
	fflush(out);
	assert_int_equal(text_len, 0);
	progress_destroy(&p);
	progress_init(&p, out, true);
	progress_draw(&p);
	fflush(out);
	assert_true(text_len > 4);
	assert_int_equal(text[0], '\r');
	assert_non_null(strstr(text, "\033[K"));
	progress_destroy(&p);
	fclose(out);
	free(text);
}

int main(void)
{
	/* OpenSSL first: libcurl's initialisation allocates through OpenSSL. */
	if (fail_alloc_count_openssl() != 0 || fail_alloc_count_curl() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(signing_survives),
	    cmocka_unit_test(manifests_survive),
	    cmocka_unit_test(registry_auth_survives),
	    cmocka_unit_test(urls_survive),
	    cmocka_unit_test(digests_survive),
	    cmocka_unit_test(plans_survive),
	    cmocka_unit_test(repository_lists_survive),
	    cmocka_unit_test(directory_destinations_survive),
	    cmocka_unit_test(progress_bytes_never_go_below_zero),
	    cmocka_unit_test(failures_lost_to_memory_are_counted),
	    cmocka_unit_test(mirror_health_without_memory_warns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
