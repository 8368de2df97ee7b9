#include "sigv4.h"

#include "digest.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct strbuf {
	char *data;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *grown = realloc(b->data, cap);
		if (!grown) {
			b->failed = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void sb_str(struct strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static char *sb_finish(struct strbuf *b)
{
	if (b->failed || !b->data) {
		free(b->data);
		return NULL;
	}
	return b->data;
}

static int compare_lower_names(const void *a, const void *b)
{
	const struct sigv4_header *x = a, *y = b;
	return strcasecmp(x->name, y->name);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_lower(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		char c = (char)tolower((unsigned char)*s);
		sb_add(b, &c, 1);
	}
}

/* Header value trimmed, inner runs of spaces collapsed to one. */
static void add_trimmed(struct strbuf *b, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	bool space = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			sb_add(b, " ", 1);
		space = false;
		sb_add(b, v, 1);
	}
}

static struct sigv4_header *sorted_headers(const struct sigv4_request *req)
{
	struct sigv4_header *h = malloc((req->header_count ? req->header_count : 1) * sizeof(*h));
	if (!h)
		return NULL;
	memcpy(h, req->headers, req->header_count * sizeof(*h));
	qsort(h, req->header_count, sizeof(*h), compare_lower_names);
	return h;
}

static void add_signed_headers(struct strbuf *b, const struct sigv4_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_add(b, ";", 1);
		add_lower(b, h[i].name);
	}
}

/* Query parameters sorted by their encoded text (name, then value). */
static void add_canonical_query(struct strbuf *b, const char *query)
{
	if (!query || !*query)
		return;
	char *copy = strdup(query);
	size_t count = 1;
	for (const char *p = query; *p; p++)
		count += *p == '&';
	char **parts = calloc(count, sizeof(*parts));
	if (!copy || !parts) {
		b->failed = true;
		free(copy);
		free(parts);
		return;
	}
	size_t n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, "&", &save); tok && n < count;
	     tok = strtok_r(NULL, "&", &save))
		parts[n++] = tok;
	qsort(parts, n, sizeof(*parts), compare_strings);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_add(b, "&", 1);
		sb_str(b, parts[i]);
		if (!strchr(parts[i], '='))
			sb_add(b, "=", 1);
	}
	free(parts);
	free(copy);
}

char *sigv4_canonical_request(const struct sigv4_request *req)
{
	struct sigv4_header *h = sorted_headers(req);
	if (!h)
		return NULL;
	struct strbuf b = {0};
	sb_str(&b, req->method);
	sb_add(&b, "\n", 1);
	sb_str(&b, req->path && *req->path ? req->path : "/");
	sb_add(&b, "\n", 1);
	add_canonical_query(&b, req->query);
	sb_add(&b, "\n", 1);
	for (size_t i = 0; i < req->header_count; i++) {
		add_lower(&b, h[i].name);
		sb_add(&b, ":", 1);
		add_trimmed(&b, h[i].value);
		sb_add(&b, "\n", 1);
	}
	sb_add(&b, "\n", 1);
	add_signed_headers(&b, h, req->header_count);
	sb_add(&b, "\n", 1);
	sb_str(&b, req->payload_sha256_hex);
	free(h);
	return sb_finish(&b);
}

static bool amz_date_valid(const char *d)
{
	if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)d[i]))
			return false;
	return true;
}

static void add_scope(struct strbuf *b, const struct sigv4_key *key, const char *amz_date)
{
	sb_add(b, amz_date, 8);
	sb_add(b, "/", 1);
	sb_str(b, key->region);
	sb_add(b, "/", 1);
	sb_str(b, key->service);
	sb_str(b, "/aws4_request");
}

char *sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_key *key,
			   const char *amz_date)
{
	if (!amz_date_valid(amz_date))
		return NULL;
	char *canonical = sigv4_canonical_request(req);
	if (!canonical)
		return NULL;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;
	bool hashed = EVP_Digest(canonical, strlen(canonical), hash, &hash_len, EVP_sha256(), NULL);
	free(canonical);
	if (!hashed)
		return NULL;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	digest_hex_encode(hash, hash_len, hex);
	struct strbuf b = {0};
	sb_str(&b, "AWS4-HMAC-SHA256\n");
	sb_str(&b, amz_date);
	sb_add(&b, "\n", 1);
	add_scope(&b, key, amz_date);
	sb_add(&b, "\n", 1);
	sb_str(&b, hex);
	return sb_finish(&b);
}

static bool hmac(const void *key, size_t key_len, const char *data, size_t data_len,
		 unsigned char out[32])
{
	unsigned int len = 0;
	return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, data_len, out,
		    &len) != NULL;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static bool signing_key(const struct sigv4_key *key, const char *amz_date, unsigned char out[32])
{
	size_t secret_len = strlen(key->secret_key);
	char *k0 = malloc(secret_len + 5);
	if (!k0)
		return false;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, key->secret_key, secret_len + 1);
	unsigned char k1[32], k2[32], k3[32];
	bool ok = hmac(k0, secret_len + 4, amz_date, 8, k1) &&
		  hmac(k1, 32, key->region, strlen(key->region), k2) &&
		  hmac(k2, 32, key->service, strlen(key->service), k3) &&
		  hmac(k3, 32, "aws4_request", 12, out);
	free(k0);
	return ok;
}

char *sigv4_authorization(const struct sigv4_request *req, const struct sigv4_key *key,
			  const char *amz_date)
{
	char *sts = sigv4_string_to_sign(req, key, amz_date);
	if (!sts)
		return NULL;
	unsigned char ksign[32], sig[32];
	bool ok = signing_key(key, amz_date, ksign) && hmac(ksign, 32, sts, strlen(sts), sig);
	free(sts);
	struct sigv4_header *h = ok ? sorted_headers(req) : NULL;
	if (!h)
		return NULL;
	char sig_hex[65];
	digest_hex_encode(sig, 32, sig_hex);
	struct strbuf b = {0};
	sb_str(&b, "AWS4-HMAC-SHA256 Credential=");
	sb_str(&b, key->access_key);
	sb_add(&b, "/", 1);
	add_scope(&b, key, amz_date);
	sb_str(&b, ", SignedHeaders=");
	add_signed_headers(&b, h, req->header_count);
	sb_str(&b, ", Signature=");
	sb_str(&b, sig_hex);
	free(h);
	return sb_finish(&b);
}

void sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
