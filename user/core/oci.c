/* OCI distribution spec grammar for names, tags and digests, written as small
 * hand-rolled scanners instead of regexes: no allocation, no backtracking, and
 * every byte outside the grammar is simply "not valid". */
#include "archeio/core/oci.h"
#include "archeio/core/hex.h"

#include <string.h>

/* The spec asks clients to keep host + name under 256 characters; a longer
 * name cannot be pulled anyway, so refusing it early costs nothing. */
#define OCI_NAME_MAX 255
#define OCI_TAG_MAX 128
#define SHA256_HEX_LEN 64
#define SHA512_HEX_LEN 128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool name_component_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t run = 0;

		while (i < len && is_lower_alnum(s[i])) {
			i++;
			run++;
		}
		if (run == 0)
			return false; /* empty component, or separator not followed by alnum */
		if (i == len)
			return true;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < len && s[i] == '_')
				i++; /* "__" is one separator, "___" is not */
		} else if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == len)
			return false; /* trailing separator */
	}
	return false; /* len == 0 */
}

bool oci_name_valid(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0 || len > OCI_NAME_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			if (!name_component_valid(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

bool oci_tag_valid(const char *s, size_t len)
{
	if (len == 0 || len > OCI_TAG_MAX)
		return false;
	if (!is_alnum(s[0]) && s[0] != '_')
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	}
	return true;
}

/* algorithm: [a-z0-9]+([+._-][a-z0-9]+)* */
static bool algorithm_valid(const char *s, size_t len)
{
	bool want_alnum = true;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (is_lower_alnum(s[i])) {
			want_alnum = false;
		} else if (!want_alnum &&
			   (s[i] == '+' || s[i] == '.' || s[i] == '_' || s[i] == '-')) {
			want_alnum = true;
		} else {
			return false;
		}
	}
	return !want_alnum;
}

/* encoded: [a-zA-Z0-9=_-]+ */
static bool encoded_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_alnum(s[i]) && s[i] != '=' && s[i] != '_' && s[i] != '-')
			return false;
	}
	return true;
}

/* Every blob request checks 64 hex digits: core/hex.c does it a word at a
 * time. */
static bool lower_hex_valid(const char *s, size_t len, size_t want)
{
	return len == want && hex_lower_valid(s, len);
}

static bool span_equals(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static enum oci_digest_algorithm registered_algorithm(const char *s, size_t len)
{
	if (span_equals(s, len, "sha256"))
		return OCI_DIGEST_SHA256;
	if (span_equals(s, len, "sha512"))
		return OCI_DIGEST_SHA512;
	return OCI_DIGEST_OTHER;
}

/* The registered algorithms pin their encoding exactly; the generic grammar
 * applies only to the others. */
static bool encoded_valid_for(enum oci_digest_algorithm algorithm, const char *s, size_t len)
{
	switch (algorithm) {
	case OCI_DIGEST_SHA256:
		return lower_hex_valid(s, len, SHA256_HEX_LEN);
	case OCI_DIGEST_SHA512:
		return lower_hex_valid(s, len, SHA512_HEX_LEN);
	default:
		return encoded_valid(s, len);
	}
}

bool oci_digest_split(const char *s, size_t len, struct oci_digest_parts *out)
{
	struct oci_digest_parts parts;

	/* Almost every digest is sha256: its fixed shape is checked without
	 * the general algorithm grammar (~100 instructions a blob request). */
	if (len == 7 + SHA256_HEX_LEN && memcmp(s, "sha256:", 7) == 0) {
		if (!hex_lower_valid(s + 7, SHA256_HEX_LEN))
			return false;
		if (out != NULL)
			*out = (struct oci_digest_parts){.algorithm = OCI_DIGEST_SHA256,
							 .algorithm_name = s,
							 .algorithm_len = 6,
							 .encoded = s + 7,
							 .encoded_len = SHA256_HEX_LEN};
		return true;
	}
	const char *colon = memchr(s, ':', len);
	if (colon == NULL)
		return false;
	parts.algorithm_name = s;
	parts.algorithm_len = (size_t)(colon - s);
	parts.encoded = colon + 1;
	parts.encoded_len = len - parts.algorithm_len - 1;
	if (!algorithm_valid(s, parts.algorithm_len))
		return false;
	parts.algorithm = registered_algorithm(s, parts.algorithm_len);
	if (!encoded_valid_for(parts.algorithm, parts.encoded, parts.encoded_len))
		return false;
	if (out != NULL)
		*out = parts;
	return true;
}

bool oci_digest_valid(const char *s, size_t len)
{
	return oci_digest_split(s, len, NULL);
}

bool oci_is_cosign_tag(const char *s, size_t len)
{
	static const char prefix[] = "sha256-";
	const size_t prefix_len = sizeof(prefix) - 1;
	const size_t suffix_len = 4; /* ".sig" or ".att" */
	const char *suffix;

	if (len != prefix_len + SHA256_HEX_LEN + suffix_len)
		return false;
	if (memcmp(s, prefix, prefix_len) != 0)
		return false;
	if (!lower_hex_valid(s + prefix_len, SHA256_HEX_LEN, SHA256_HEX_LEN))
		return false;
	suffix = s + prefix_len + SHA256_HEX_LEN;
	return memcmp(suffix, ".sig", suffix_len) == 0 || memcmp(suffix, ".att", suffix_len) == 0;
}
