/* The mirroring tool's parsers of registry answers: WWW-Authenticate
 * challenges, token JSON and Link pagination headers. Properties: what they
 * return can go back into a request without splitting it (no control bytes
 * in a token, a token URL or a next link); a token URL starts with its realm.
 * First byte: which parser. */
#include <stdint.h>

#include "fuzz_check.h"
#include "mirrortool/auth.h"
#include "mirrortool/link.h"

static void challenge(const char *value)
{
	struct auth_challenge c;
	char err[256];
	if (!auth_challenge_parse(value, &c, err, sizeof(err)))
		return;
	FUZZ_CHECK(c.scheme && c.scheme[0] != '\0');
	if (auth_challenge_resolve_realm(&c, "https://registry.example/v2/x/tags/list")) {
		char *url = auth_token_url(&c, "repository:x:pull");
		if (url) {
			FUZZ_CHECK(strncmp(url, c.realm, strlen(c.realm)) == 0);
			FUZZ_CHECK(fuzz_header_safe(url) && !strchr(url, ' '));
			free(url);
		}
	}
	auth_challenge_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	char *s = fuzz_strndup(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		challenge(s);
		break;
	case 1: {
		char *token = auth_token_from_json(s, size - 1);
		if (token) {
			FUZZ_CHECK(token[0] != '\0' && fuzz_header_safe(token));
			free(token);
		}
		break;
	}
	default: {
		char *next = link_next_target(s);
		if (next) {
			FUZZ_CHECK(fuzz_header_safe(next));
			free(next);
		}
	}
	}
	free(s);
	return 0;
}
