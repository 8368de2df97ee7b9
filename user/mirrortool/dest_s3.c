#include "s3_internal.h"
#include "url.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *s3_object_url(const struct dest_s3 *s, const char *digest)
{
	size_t klen = strlen(s->prefix) + strlen(digest) + sizeof("containers/images/");
	char *key = malloc(klen);
	if (!key)
		return NULL;
	snprintf(key, klen, "%scontainers/images/%s", s->prefix, digest);
	char *encoded = url_encode(key, true);
	free(key);
	if (!encoded)
		return NULL;
	size_t len = strlen(s->base_url) + strlen(encoded) + 2;
	char *url = malloc(len);
	if (url)
		snprintf(url, len, "%s/%s", s->base_url, encoded);
	free(encoded);
	return url;
}

static void s3_describe(const struct dest *d, const char *digest, char *out, size_t len)
{
	const struct dest_s3 *s = (const struct dest_s3 *)d;
	char *url = s3_object_url(s, digest);
	snprintf(out, len, "%s", url ? url : digest);
	free(url);
}

static bool add_header(struct curl_slist **list, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 3;
	char *line = malloc(len);
	if (!line)
		return false;
	snprintf(line, len, "%s: %s", name, value);
	struct curl_slist *grown = curl_slist_append(*list, line);
	free(line);
	if (!grown)
		return false;
	*list = grown;
	return true;
}

/* Builds the signed header list for method on url. extra are signed too. */
struct curl_slist *s3_signed_headers(const struct dest_s3 *s, const char *method, const char *url,
				     const char *payload_hex, const struct sigv4_header *extra,
				     size_t extra_count)
{
	char *authority = NULL, *path = NULL;
	if (!url_split(url, &authority, &path))
		return NULL;
	char amz_date[17];
	sigv4_amz_date(time(NULL), amz_date);
	struct sigv4_header h[8];
	size_t n = 0;
	h[n++] = (struct sigv4_header){"host", authority};
	h[n++] = (struct sigv4_header){"x-amz-date", amz_date};
	h[n++] = (struct sigv4_header){"x-amz-content-sha256", payload_hex};
	if (s->session_token)
		h[n++] = (struct sigv4_header){"x-amz-security-token", s->session_token};
	for (size_t i = 0; i < extra_count && n < 8; i++)
		h[n++] = extra[i];
	char *query = strchr(path, '?');
	if (query)
		*query++ = '\0';
	struct sigv4_request req = {method, path, query ? query : "", h, n, payload_hex};
	struct sigv4_key key = {s->access_key, s->secret_key, s->region, "s3"};
	char *auth = sigv4_authorization(&req, &key, amz_date);
	struct curl_slist *list = NULL;
	bool ok = auth != NULL;
	for (size_t i = 0; ok && i < n; i++)
		ok = add_header(&list, h[i].name, h[i].value);
	ok = ok && add_header(&list, "Authorization", auth);
	/* No 100-continue round trip: a part is at most what memory holds. */
	ok = ok && (list = curl_slist_append(list, "Expect:")) != NULL;
	free(auth);
	free(authority);
	free(path);
	if (!ok) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

void s3_describe_status(const struct http_response *resp, const char *what, const char *url,
			char *err, size_t errlen)
{
	if (resp->status == 0)
		snprintf(err, errlen, "%s %s: %s", what, url, resp->error);
	else
		snprintf(err, errlen, "%s %s: HTTP %ld%s%.200s", what, url, resp->status,
			 resp->body_len ? ": " : "", resp->body_len ? resp->body : "");
	for (char *p = err; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* The signed headers of a HEAD of the blob's object, and its URL in *url
 * (the caller frees both); NULL with err when it cannot be signed. */
static struct curl_slist *sign_head(struct dest_s3 *s, const char *digest,
				    const struct sigv4_header *extra, size_t extra_count,
				    char **url, char *err, size_t errlen)
{
	*url = s3_object_url(s, digest);
	struct curl_slist *headers =
	    *url ? s3_signed_headers(s, "HEAD", *url, SIGV4_EMPTY_SHA256, extra, extra_count)
		 : NULL;
	if (!headers) {
		snprintf(err, errlen, "cannot sign HEAD for %s", digest);
		free(*url);
		*url = NULL;
	}
	return headers;
}

static bool s3_has_blob(struct dest *d, CURL *easy, const char *digest, bool *present, char *err,
			size_t errlen)
{
	struct dest_s3 *s = (struct dest_s3 *)d;
	char *url;
	struct curl_slist *headers = sign_head(s, digest, NULL, 0, &url, err, errlen);
	if (!headers)
		return false;
	struct http_request req = {.method = "HEAD", .url = url, .headers = headers};
	struct http_response resp;
	bool ok = http_perform(s->http, easy, &req, &resp);
	if (ok && (resp.status == 200 || resp.status == 404)) {
		*present = resp.status == 200;
	} else {
		s3_describe_status(&resp, "HEAD", url, err, errlen);
		ok = false;
	}
	http_response_free(&resp);
	curl_slist_free_all(headers);
	free(url);
	return ok;
}

/* The base64 sha256 S3 would store for a "sha256:<hex>" digest; false for
 * other algorithms (S3's checksum is sha256 whatever the digest). */
static bool expected_checksum(const char *digest, char out[64])
{
	if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 2 * DIGEST_SHA256_LEN)
		return false;
	unsigned char raw[DIGEST_SHA256_LEN];
	for (int i = 0; i < DIGEST_SHA256_LEN; i++) {
		unsigned v;
		if (sscanf(digest + 7 + 2 * i, "%2x", &v) != 1)
			return false;
		raw[i] = (unsigned char)v;
	}
	EVP_EncodeBlock((unsigned char *)out, raw, DIGEST_SHA256_LEN);
	return true;
}

/* Judges a 200 answer to HEAD with x-amz-checksum-mode: ENABLED; *reread
 * when only the bytes can tell (no full-object sha256 checksum stored: an
 * object written without one, a multipart upload's composite "...-N", or
 * a sha512 digest). */
static enum dest_blob_state judge_head(const struct http_response *resp, const char *digest,
				       int64_t size, bool deep, bool *reread)
{
	*reread = false;
	char *end = NULL;
	long long length = resp->content_length ? strtoll(resp->content_length, &end, 10) : -1;
	if (size >= 0 && length != size)
		return DEST_BLOB_WRONG_SIZE;
	char want[64];
	if (!deep)
		return DEST_BLOB_INTACT;
	/* S3's checksum is sha256 whatever the digest: other digests are re-read. */
	if (!expected_checksum(digest, want) || !resp->checksum_sha256 ||
	    strchr(resp->checksum_sha256, '-')) {
		*reread = true;
		return DEST_BLOB_INTACT;
	}
	return strcmp(resp->checksum_sha256, want) == 0 ? DEST_BLOB_INTACT : DEST_BLOB_CORRUPT;
}

static bool hash_sink_write(void *ctx, const char *data, size_t len)
{
	return digest_verifier_update(ctx, data, len);
}

static bool hash_sink_reset(void *ctx)
{
	return digest_verifier_reset(ctx);
}

/* GETs the object and re-hashes its bytes: *state INTACT or CORRUPT. */
static bool reread_object(struct dest_s3 *s, CURL *easy, const char *digest, const char *url,
			  enum dest_blob_state *state, char *err, size_t errlen)
{
	struct digest_ref ref;
	struct digest_verifier *v = digest_parse(digest, &ref) ? digest_verifier_new(&ref) : NULL;
	struct curl_slist *headers =
	    v ? s3_signed_headers(s, "GET", url, SIGV4_EMPTY_SHA256, NULL, 0) : NULL;
	if (!headers) {
		snprintf(err, errlen, "cannot prepare GET for %s", digest);
		digest_verifier_free(v);
		return false;
	}
	struct http_sink sink = {hash_sink_write, hash_sink_reset, v};
	struct http_request req = {.method = "GET", .url = url, .headers = headers, .sink = &sink};
	struct http_response resp;
	bool ok = http_perform(s->http, easy, &req, &resp);
	if (ok && resp.status == 404) {
		*state = DEST_BLOB_ABSENT;
	} else if (ok && resp.status == 200) {
		char actual[DIGEST_TEXT_MAX];
		*state =
		    digest_verifier_finish(v, actual, NULL) ? DEST_BLOB_INTACT : DEST_BLOB_CORRUPT;
	} else {
		s3_describe_status(&resp, "GET", url, err, errlen);
		ok = false;
	}
	http_response_free(&resp);
	curl_slist_free_all(headers);
	digest_verifier_free(v);
	return ok;
}

static bool s3_check(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		     enum dest_blob_state *state, char *err, size_t errlen)
{
	struct dest_s3 *s = (struct dest_s3 *)d;
	const struct sigv4_header mode[] = {{"x-amz-checksum-mode", "ENABLED"}};
	char *url;
	struct curl_slist *headers = sign_head(s, digest, mode, deep ? 1 : 0, &url, err, errlen);
	if (!headers)
		return false;
	struct http_request req = {.method = "HEAD", .url = url, .headers = headers};
	struct http_response resp;
	bool ok = http_perform(s->http, easy, &req, &resp);
	if (ok && resp.status == 404) {
		*state = DEST_BLOB_ABSENT;
	} else if (ok && resp.status == 200) {
		bool reread;
		*state = judge_head(&resp, digest, size, deep, &reread);
		if (reread)
			ok = reread_object(s, easy, digest, url, state, err, errlen);
	} else {
		s3_describe_status(&resp, "HEAD", url, err, errlen);
		ok = false;
	}
	http_response_free(&resp);
	curl_slist_free_all(headers);
	free(url);
	return ok;
}

static void s3_free(struct dest *d)
{
	struct dest_s3 *s = (struct dest_s3 *)d;
	free(s->base_url);
	free(s->prefix);
	free(s->region);
	free(s->access_key);
	free(s->secret_key);
	free(s->session_token);
	free(s);
}

static const struct dest_ops s3_ops = {s3_describe, s3_has_blob, s3_open_writer, s3_free, s3_check};

static char *build_base_url(const struct s3_config *cfg)
{
	char buf[2048];
	if (cfg->endpoint) {
		size_t len = strlen(cfg->endpoint);
		while (len > 0 && cfg->endpoint[len - 1] == '/')
			len--;
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, cfg->endpoint, cfg->bucket);
	} else {
		snprintf(buf, sizeof(buf), "https://%s.s3.%s.amazonaws.com", cfg->bucket,
			 cfg->region);
	}
	return strdup(buf);
}

struct dest *dest_s3_open(const struct s3_config *cfg, struct http_client *http, char *err,
			  size_t errlen)
{
	struct dest_s3 *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &s3_ops;
	s->http = http;
	s->part_size = cfg->part_size;
	s->part_concurrency = cfg->part_concurrency ? cfg->part_concurrency : 1;
	size_t plen = strlen(cfg->prefix);
	s->prefix = malloc(plen + 2);
	if (s->prefix)
		snprintf(s->prefix, plen + 2, "%s%s", cfg->prefix, plen ? "/" : "");
	s->base_url = build_base_url(cfg);
	s->region = strdup(cfg->region);
	s->access_key = strdup(cfg->access_key);
	s->secret_key = strdup(cfg->secret_key);
	s->session_token = cfg->session_token ? strdup(cfg->session_token) : NULL;
	if (!s->prefix || !s->base_url || !s->region || !s->access_key || !s->secret_key ||
	    (cfg->session_token && !s->session_token)) {
		s3_free(&s->base);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return &s->base;
}
