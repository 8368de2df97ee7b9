#include "dest_internal.h"
#include "sigv4.h"
#include "url.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct dest_s3 {
	struct dest base;
	struct http_client *http;
	char *base_url; /* up to and including the bucket: ".../bucket" or "https://bucket.s3..." */
	char *prefix;	/* "" or "a/b/" (with trailing slash) */
	char *region;
	char *access_key;
	char *secret_key;
	char *session_token;
};

static char *object_url(const struct dest_s3 *s, const char *digest)
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
	char *url = object_url(s, digest);
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
static struct curl_slist *signed_headers(const struct dest_s3 *s, const char *method,
					 const char *url, const char *payload_hex,
					 const struct sigv4_header *extra, size_t extra_count)
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
	/* No 100-continue round trip; the body is small enough to just send. */
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

static void describe_status(const struct http_response *resp, const char *what, const char *url,
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

static bool s3_has_blob(struct dest *d, CURL *easy, const char *digest, bool *present, char *err,
			size_t errlen)
{
	struct dest_s3 *s = (struct dest_s3 *)d;
	char *url = object_url(s, digest);
	struct curl_slist *headers =
	    url ? signed_headers(s, "HEAD", url, SIGV4_EMPTY_SHA256, NULL, 0) : NULL;
	if (!headers) {
		snprintf(err, errlen, "cannot sign HEAD for %s", digest);
		free(url);
		return false;
	}
	struct http_request req = {.method = "HEAD", .url = url, .headers = headers};
	struct http_response resp;
	bool ok = http_perform(s->http, easy, &req, &resp);
	if (ok && (resp.status == 200 || resp.status == 404)) {
		*present = resp.status == 200;
	} else {
		describe_status(&resp, "HEAD", url, err, errlen);
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

/* Judges a 200 answer to HEAD with x-amz-checksum-mode: ENABLED. */
static enum dest_blob_state judge_head(const struct http_response *resp, const char *digest,
				       int64_t size, bool deep)
{
	char *end = NULL;
	long long length = resp->content_length ? strtoll(resp->content_length, &end, 10) : -1;
	if (size >= 0 && length != size)
		return DEST_BLOB_WRONG_SIZE;
	char want[64];
	if (!deep || !expected_checksum(digest, want))
		return DEST_BLOB_INTACT;
	bool same = resp->checksum_sha256 && strcmp(resp->checksum_sha256, want) == 0;
	return same ? DEST_BLOB_INTACT : DEST_BLOB_CORRUPT;
}

static bool s3_check(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		     enum dest_blob_state *state, char *err, size_t errlen)
{
	struct dest_s3 *s = (struct dest_s3 *)d;
	const struct sigv4_header mode[] = {{"x-amz-checksum-mode", "ENABLED"}};
	char *url = object_url(s, digest);
	struct curl_slist *headers =
	    url ? signed_headers(s, "HEAD", url, SIGV4_EMPTY_SHA256, mode, deep ? 1 : 0) : NULL;
	if (!headers) {
		snprintf(err, errlen, "cannot sign HEAD for %s", digest);
		free(url);
		return false;
	}
	struct http_request req = {.method = "HEAD", .url = url, .headers = headers};
	struct http_response resp;
	bool ok = http_perform(s->http, easy, &req, &resp);
	if (ok && resp.status == 404) {
		*state = DEST_BLOB_ABSENT;
	} else if (ok && resp.status == 200) {
		*state = judge_head(&resp, digest, size, deep);
	} else {
		describe_status(&resp, "HEAD", url, err, errlen);
		ok = false;
	}
	http_response_free(&resp);
	curl_slist_free_all(headers);
	free(url);
	return ok;
}

static bool s3_commit(struct dest *d, CURL *easy, const char *digest, int fd, const char *temp_path,
		      int64_t size, const unsigned char sha256[DIGEST_SHA256_LEN], char *err,
		      size_t errlen)
{
	struct dest_s3 *s = (struct dest_s3 *)d;
	char hex[2 * DIGEST_SHA256_LEN + 1];
	for (int i = 0; i < DIGEST_SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha256[i]);
	unsigned char b64[64];
	EVP_EncodeBlock(b64, sha256, DIGEST_SHA256_LEN);
	const struct sigv4_header extra[] = {{"x-amz-checksum-sha256", (const char *)b64}};
	char *url = object_url(s, digest);
	struct curl_slist *headers = url ? signed_headers(s, "PUT", url, hex, extra, 1) : NULL;
	struct curl_slist *with_type =
	    headers ? curl_slist_append(headers, "Content-Type: application/octet-stream") : NULL;
	int upload_fd = dup(fd);
	FILE *body = upload_fd >= 0 ? fdopen(upload_fd, "rb") : NULL;
	bool ok = false;
	if (!with_type || !body) {
		snprintf(err, errlen, "cannot prepare PUT for %s: %s", digest,
			 body ? "signing failed" : strerror(errno));
		if (upload_fd >= 0 && !body)
			close(upload_fd);
	} else {
		struct http_request req = {.method = "PUT",
					   .url = url,
					   .headers = with_type,
					   .upload = body,
					   .upload_size = size,
					   .max_body = 64 * 1024};
		struct http_response resp;
		ok = http_perform(s->http, easy, &req, &resp) && resp.status >= 200 &&
		     resp.status <= 299;
		if (!ok)
			describe_status(&resp, "PUT", url, err, errlen);
		http_response_free(&resp);
	}
	if (body)
		fclose(body);
	curl_slist_free_all(with_type ? with_type : headers);
	free(url);
	unlink(temp_path);
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
	free(d->staging_dir);
	free(s);
}

static const struct dest_ops s3_ops = {s3_describe, s3_has_blob, s3_commit, s3_free, s3_check};

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

struct dest *dest_s3_open(const struct s3_config *cfg, struct http_client *http,
			  const char *staging_dir, bool dry_run, char *err, size_t errlen)
{
	struct dest_s3 *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &s3_ops;
	s->http = http;
	size_t plen = strlen(cfg->prefix);
	s->prefix = malloc(plen + 2);
	if (s->prefix)
		snprintf(s->prefix, plen + 2, "%s%s", cfg->prefix, plen ? "/" : "");
	s->base_url = build_base_url(cfg);
	s->region = strdup(cfg->region);
	s->access_key = strdup(cfg->access_key);
	s->secret_key = strdup(cfg->secret_key);
	s->session_token = cfg->session_token ? strdup(cfg->session_token) : NULL;
	s->base.staging_dir = strdup(staging_dir);
	if (!s->prefix || !s->base_url || !s->region || !s->access_key || !s->secret_key ||
	    (cfg->session_token && !s->session_token) || !s->base.staging_dir) {
		s3_free(&s->base);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!dry_run) {
		if (!dest_mkdir_p(staging_dir, err, errlen)) {
			s3_free(&s->base);
			return NULL;
		}
		dest_clean_stale_temps(staging_dir);
	}
	return &s->base;
}
