/* A blob on its way into S3. Bytes collect in a buffer of one part; a blob
 * that fits in one part goes up as one PUT at commit, a larger one as a
 * multipart upload whose parts leave while the source still streams, at most
 * part_concurrency at once (each with its own sha256 checksum), and which is
 * completed only at commit, after the whole blob's digest was verified. On
 * any failure, a reset or an interrupt the upload is aborted, so no parts
 * are left behind. Memory: (part_concurrency + 1) buffers of one part. */
#include "archeio/mirrortool/cli.h"
#include "s3_internal.h"
#include "s3_multipart.h"
#include "url.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct s3_writer;

/* One part being uploaded by its own thread. */
struct part_slot {
	struct s3_writer *w;
	pthread_t thread;
	bool running;	 /* a result is still to be filed */
	bool threaded;	 /* by its own thread (else it already ran) */
	unsigned number; /* 1-based */
	unsigned char *data;
	size_t len;
	bool ok;
	struct s3_part result;
	char err[512];
};

struct s3_writer {
	struct dest_writer base;
	struct dest_s3 *s3;
	char *url; /* the object's */
	CURL *easy;
	uint64_t part_size;
	unsigned char *buf; /* the part being filled: len bytes of cap */
	size_t len, cap;
	char *upload_id; /* NULL until the blob outgrows one part */
	unsigned parts;	 /* parts handed to slots */
	struct part_slot *slots;
	struct s3_part *done; /* finished parts, by number - 1 */
	size_t done_cap;
	bool failed;
	char failure[512];
};

static void sha256_texts(const unsigned char *data, size_t len, char hex[65], char b64[48])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_EncodeBlock((unsigned char *)b64, md, SHA256_DIGEST_LENGTH);
}

/* url plus a query, e.g. "?uploadId=ID" (heap). */
static char *with_query(const char *url, const char *query)
{
	size_t len = strlen(url) + strlen(query) + 1;
	char *out = malloc(len);
	if (out)
		snprintf(out, len, "%s%s", url, query);
	return out;
}

/* One signed request with an in-memory body (may be empty). */
static bool s3_request(struct s3_writer *w, CURL *easy, const char *method, const char *url,
		       const unsigned char *body, size_t len, const struct sigv4_header *extra,
		       size_t extra_count, bool survives_interrupt, struct http_response *resp)
{
	char hex[65], b64[48];
	sha256_texts(body ? body : (const unsigned char *)"", len, hex, b64);
	struct curl_slist *headers = s3_signed_headers(w->s3, method, url, hex, extra, extra_count);
	FILE *upload = len ? fmemopen((void *)body, len, "rb") : NULL;
	bool ok = headers && (upload || !len);
	struct curl_slist *more =
	    ok && !len ? curl_slist_append(headers, "Content-Length: 0") : headers;
	memset(resp, 0, sizeof(*resp));
	if (!ok || !more) {
		snprintf(resp->error, sizeof(resp->error), "cannot prepare %s: %s", method,
			 headers ? strerror(errno) : "signing failed");
		ok = false;
	} else {
		struct http_request req = {.method = method,
					   .url = url,
					   .headers = more,
					   .upload = upload,
					   .upload_size = (int64_t)len,
					   .max_body = 64 * 1024,
					   .survives_interrupt = survives_interrupt};
		ok = http_perform(w->s3->http, easy, &req, resp) && resp->status >= 200 &&
		     resp->status <= 299;
	}
	if (upload)
		fclose(upload);
	curl_slist_free_all(more ? more : headers);
	return ok;
}

static void *upload_part(void *arg)
{
	struct part_slot *p = arg;
	char hex[65];
	sha256_texts(p->data, p->len, hex, p->result.checksum);
	const struct sigv4_header extra[] = {{"x-amz-checksum-sha256", p->result.checksum}};
	char query[1024];
	snprintf(query, sizeof(query), "?partNumber=%u&uploadId=%s", p->number, p->w->upload_id);
	char *url = with_query(p->w->url, query);
	CURL *easy = curl_easy_init();
	struct http_response resp = {0};
	p->ok = url && easy &&
		s3_request(p->w, easy, "PUT", url, p->data, p->len, extra, 1, false, &resp) &&
		resp.etag && (p->result.etag = strdup(resp.etag)) != NULL;
	if (!p->ok)
		s3_describe_status(&resp, "PUT part", url ? url : p->w->url, p->err,
				   sizeof(p->err));
	http_response_free(&resp);
	if (easy)
		curl_easy_cleanup(easy);
	free(url);
	return NULL;
}

static void fail(struct s3_writer *w, const char *msg)
{
	if (!w->failed)
		snprintf(w->failure, sizeof(w->failure), "%s", msg);
	w->failed = true;
}

/* Waits for the slot's part and files its result. */
static void join_slot(struct s3_writer *w, struct part_slot *p)
{
	if (!p->running)
		return;
	if (p->threaded)
		pthread_join(p->thread, NULL);
	p->running = false;
	if (!p->ok) {
		fail(w, p->err);
		free(p->result.etag);
	} else {
		w->done[p->number - 1] = p->result;
	}
	p->result.etag = NULL;
}

static void join_all(struct s3_writer *w)
{
	for (unsigned i = 0; i < w->s3->part_concurrency; i++)
		join_slot(w, &w->slots[i]);
}

static bool create_upload(struct s3_writer *w)
{
	const struct sigv4_header extra[] = {{"x-amz-checksum-algorithm", "SHA256"}};
	char *url = with_query(w->url, "?uploads");
	struct http_response resp;
	bool ok = url && s3_request(w, w->easy, "POST", url, NULL, 0, extra, 1, false, &resp);
	if (ok && !(w->upload_id = s3_parse_upload_id(resp.body ? resp.body : "", resp.body_len)))
		snprintf(resp.error, sizeof(resp.error), "no UploadId in the answer");
	if (!w->upload_id) {
		char msg[512];
		s3_describe_status(&resp, "CreateMultipartUpload", w->url, msg, sizeof(msg));
		fail(w, msg);
	}
	http_response_free(&resp);
	free(url);
	return w->upload_id != NULL;
}

/* Hands the full buffer to a slot (waiting for that slot's previous part);
 * the slot's old buffer becomes the one to fill. */
static bool submit_part(struct s3_writer *w)
{
	if (!w->upload_id && !create_upload(w))
		return false;
	if (w->parts >= MIRROR_S3_MAX_PARTS) {
		fail(w, "blob needs more than 10000 parts: raise --s3-part-size");
		return false;
	}
	struct part_slot *p = &w->slots[w->parts % w->s3->part_concurrency];
	join_slot(w, p);
	if (w->parts >= w->done_cap) {
		size_t cap = w->done_cap ? w->done_cap * 2 : 16;
		struct s3_part *grown = realloc(w->done, cap * sizeof(*grown));
		if (!grown) {
			fail(w, "out of memory");
			return false;
		}
		memset(grown + w->done_cap, 0, (cap - w->done_cap) * sizeof(*grown));
		w->done = grown;
		w->done_cap = cap;
	}
	unsigned char *spare = p->data;
	size_t spare_cap = spare ? w->part_size : 0;
	*p = (struct part_slot){.w = w, .number = ++w->parts, .data = w->buf, .len = w->len};
	w->buf = spare;
	w->cap = spare_cap;
	w->len = 0;
	p->running = true;
	p->threaded = pthread_create(&p->thread, NULL, upload_part, p) == 0;
	if (!p->threaded) /* no thread to be had: upload it here */
		upload_part(p);
	return true;
}

/* The id as a query value (S3's ids are URL-safe, but not by contract). */
static char *upload_query(const struct s3_writer *w)
{
	char *id = url_encode(w->upload_id, false);
	size_t len = (id ? strlen(id) : 0) + sizeof("?uploadId=");
	char *query = id ? malloc(len) : NULL;
	if (query)
		snprintf(query, len, "?uploadId=%s", id);
	free(id);
	return query;
}

/* AbortMultipartUpload: it runs even after SIGINT/SIGTERM, since leaving
 * the parts behind is what an interrupt must not do. */
static void abort_upload(struct s3_writer *w)
{
	join_all(w);
	if (!w->upload_id)
		return;
	char *query = upload_query(w);
	char *url = query ? with_query(w->url, query) : NULL;
	struct http_response resp;
	if (url)
		s3_request(w, w->easy, "DELETE", url, NULL, 0, NULL, 0, true, &resp);
	if (url)
		http_response_free(&resp);
	free(url);
	free(query);
	free(w->upload_id);
	w->upload_id = NULL;
	for (unsigned i = 0; i < w->parts && i < w->done_cap; i++) {
		free(w->done[i].etag);
		w->done[i].etag = NULL;
	}
	w->parts = 0;
}

static bool s3w_write(struct dest_writer *dw, const char *data, size_t len, char *err,
		      size_t errlen)
{
	struct s3_writer *w = (struct s3_writer *)dw;
	while (len > 0 && !w->failed) {
		/* A full part leaves only when more follows: a blob of exactly one
		 * part stays a single PUT. */
		if (w->len == w->part_size && !submit_part(w))
			break;
		size_t n = w->part_size - w->len < len ? (size_t)(w->part_size - w->len) : len;
		if (w->len + n > w->cap) {
			size_t cap = w->cap ? w->cap : 64 * 1024;
			while (cap < w->len + n)
				cap *= 2;
			if (cap > w->part_size)
				cap = (size_t)w->part_size;
			unsigned char *grown = realloc(w->buf, cap);
			if (!grown) {
				fail(w, "out of memory");
				break;
			}
			w->buf = grown;
			w->cap = cap;
		}
		memcpy(w->buf + w->len, data, n);
		w->len += n;
		data += n;
		len -= n;
	}
	if (w->failed)
		snprintf(err, errlen, "%s", w->failure);
	return !w->failed;
}

static bool s3w_reset(struct dest_writer *dw, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct s3_writer *w = (struct s3_writer *)dw;
	abort_upload(w);
	w->len = 0;
	w->failed = false;
	return true;
}

static void s3w_free(struct s3_writer *w)
{
	/* Also a writer whose slots could not be allocated (s3_open_writer). */
	for (unsigned i = 0; w->slots && i < w->s3->part_concurrency; i++)
		free(w->slots[i].data);
	for (size_t i = 0; i < w->done_cap; i++)
		free(w->done[i].etag);
	free(w->done);
	free(w->slots);
	free(w->buf);
	free(w->upload_id);
	free(w->url);
	if (w->easy)
		curl_easy_cleanup(w->easy);
	free(w);
}

static void s3w_abort(struct dest_writer *dw)
{
	struct s3_writer *w = (struct s3_writer *)dw;
	abort_upload(w);
	s3w_free(w);
}

static bool put_single(struct s3_writer *w, const unsigned char sha256[DIGEST_SHA256_LEN])
{
	char b64[48];
	EVP_EncodeBlock((unsigned char *)b64, sha256, DIGEST_SHA256_LEN);
	const struct sigv4_header extra[] = {{"x-amz-checksum-sha256", b64},
					     {"content-type", "application/octet-stream"}};
	struct http_response resp;
	bool ok = s3_request(w, w->easy, "PUT", w->url, w->buf, w->len, extra, 2, false, &resp);
	if (!ok) {
		char msg[512];
		s3_describe_status(&resp, "PUT", w->url, msg, sizeof(msg));
		fail(w, msg);
	}
	http_response_free(&resp);
	return ok;
}

/* CompleteMultipartUpload; S3 may answer 200 with an <Error> body. */
static bool complete_upload(struct s3_writer *w)
{
	char *body = s3_complete_body(w->done, w->parts);
	char *query = upload_query(w);
	char *url = query ? with_query(w->url, query) : NULL;
	const struct sigv4_header extra[] = {{"content-type", "application/xml"}};
	struct http_response resp = {0};
	bool ok = body && url &&
		  s3_request(w, w->easy, "POST", url, (const unsigned char *)body, strlen(body),
			     extra, 1, false, &resp) &&
		  !(resp.body && strstr(resp.body, "<Error>"));
	if (!ok) {
		char msg[512];
		s3_describe_status(&resp, "CompleteMultipartUpload", w->url, msg, sizeof(msg));
		fail(w, msg);
	}
	http_response_free(&resp);
	free(url);
	free(query);
	free(body);
	return ok;
}

static bool s3w_commit(struct dest_writer *dw, int64_t size,
		       const unsigned char sha256[DIGEST_SHA256_LEN], char *err, size_t errlen)
{
	(void)size;
	struct s3_writer *w = (struct s3_writer *)dw;
	bool ok = !w->failed;
	if (ok && !w->upload_id) {
		ok = put_single(w, sha256);
	} else if (ok) {
		ok = (w->len == 0 || submit_part(w));
		join_all(w);
		ok = ok && !w->failed && complete_upload(w);
	}
	if (!ok) {
		snprintf(err, errlen, "%s", w->failure);
		abort_upload(w);
	}
	s3w_free(w);
	return ok;
}

static const struct dest_writer_ops s3_writer_ops = {s3w_write, s3w_reset, s3w_commit, s3w_abort};

struct dest_writer *s3_open_writer(struct dest *d, const char *digest, int64_t expected_size,
				   char *err, size_t errlen)
{
	struct dest_s3 *s = (struct dest_s3 *)d;
	uint64_t part_size = s3_part_size_for(expected_size, s->part_size);
	if (part_size == 0) {
		snprintf(err, errlen, "%lld bytes is more than S3's 5 TiB object limit",
			 (long long)expected_size);
		return NULL;
	}
	struct s3_writer *w = calloc(1, sizeof(*w));
	if (w) {
		w->base.ops = &s3_writer_ops;
		w->s3 = s;
		w->part_size = part_size;
		w->url = s3_object_url(s, digest);
		w->easy = curl_easy_init();
		w->slots = calloc(s->part_concurrency, sizeof(*w->slots));
	}
	if (!w || !w->url || !w->easy || !w->slots) {
		snprintf(err, errlen, "out of memory");
		if (w)
			s3w_free(w);
		return NULL;
	}
	return &w->base;
}
