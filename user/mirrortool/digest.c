#include "digest.h"
#include "archeio/core/oci.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct digest_verifier {
	struct digest_ref expected;
	EVP_MD_CTX *main;
	EVP_MD_CTX *sha256; /* NULL when main already is sha256 */
};

bool digest_parse(const char *text, struct digest_ref *out)
{
	size_t len = strlen(text);
	struct oci_digest_parts parts;
	/* The grammar pins sha256/sha512 to exact lowercase hex, so a digest it
	 * accepts with either algorithm fits out->text. */
	if (!oci_digest_split(text, len, &parts) || parts.algorithm == OCI_DIGEST_OTHER)
		return false;
	out->algo = parts.algorithm == OCI_DIGEST_SHA512 ? DIGEST_SHA512 : DIGEST_SHA256;
	memcpy(out->text, text, len + 1);
	return true;
}

bool digest_supported(const char *text)
{
	struct digest_ref ignored;
	return digest_parse(text, &ignored);
}

void digest_hex_encode(const unsigned char *raw, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * len] = '\0';
}

void digest_sha256_text(const void *data, size_t len, char out[DIGEST_TEXT_MAX])
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int raw_len = 0;
	memcpy(out, "sha256:", 7);
	if (!EVP_Digest(data, len, raw, &raw_len, EVP_sha256(), NULL)) {
		out[0] = '\0';
		return;
	}
	digest_hex_encode(raw, raw_len, out + 7);
}

static const EVP_MD *algo_md(enum digest_algo algo)
{
	return algo == DIGEST_SHA512 ? EVP_sha512() : EVP_sha256();
}

bool digest_verifier_reset(struct digest_verifier *v)
{
	if (!EVP_DigestInit_ex(v->main, algo_md(v->expected.algo), NULL))
		return false;
	return !v->sha256 || EVP_DigestInit_ex(v->sha256, EVP_sha256(), NULL);
}

struct digest_verifier *digest_verifier_new(const struct digest_ref *expected)
{
	struct digest_verifier *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->expected = *expected;
	v->main = EVP_MD_CTX_new();
	if (expected->algo != DIGEST_SHA256)
		v->sha256 = EVP_MD_CTX_new();
	if (!v->main || (expected->algo != DIGEST_SHA256 && !v->sha256) ||
	    !digest_verifier_reset(v)) {
		digest_verifier_free(v);
		return NULL;
	}
	return v;
}

void digest_verifier_free(struct digest_verifier *v)
{
	if (!v)
		return;
	EVP_MD_CTX_free(v->main);
	EVP_MD_CTX_free(v->sha256);
	free(v);
}

bool digest_verifier_update(struct digest_verifier *v, const void *data, size_t len)
{
	if (!EVP_DigestUpdate(v->main, data, len))
		return false;
	return !v->sha256 || EVP_DigestUpdate(v->sha256, data, len);
}

bool digest_verifier_finish(struct digest_verifier *v, char actual[DIGEST_TEXT_MAX],
			    unsigned char sha256[DIGEST_SHA256_LEN])
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int raw_len = 0;
	actual[0] = '\0';
	if (!EVP_DigestFinal_ex(v->main, raw, &raw_len))
		return false;
	const char *prefix = v->expected.algo == DIGEST_SHA512 ? "sha512:" : "sha256:";
	memcpy(actual, prefix, 7);
	digest_hex_encode(raw, raw_len, actual + 7);
	if (sha256) {
		if (v->sha256) {
			unsigned int len256 = 0;
			if (!EVP_DigestFinal_ex(v->sha256, sha256, &len256))
				return false;
		} else {
			memcpy(sha256, raw, DIGEST_SHA256_LEN);
		}
	}
	return strcmp(actual, v->expected.text) == 0;
}
