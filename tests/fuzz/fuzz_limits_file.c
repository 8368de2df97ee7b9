/* The --limits-file parser. Properties: a refusal says where ("fuzz:LINE: "),
 * an accepted file has every number within its flag's bounds, and an
 * accepted file written back (limits_file_format()) parses to the same
 * values: what the server logs or a tool rewrites means what was read. The
 * xdp switch comes from the first byte, so both refusals of xdp-syn-limit
 * are reached. */
#include <stdint.h>

#include "fuzz_check.h"
#include "server/limits_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	bool xdp = data[0] & 1;
	struct limits_file f;
	char err[1024];
	if (limits_file_parse(&f, "fuzz", (const char *)data + 1, size - 1, xdp, err,
			      sizeof(err)) != 0) {
		FUZZ_CHECK(strncmp(err, "fuzz:", 5) == 0 && err[5] >= '1' && err[5] <= '9');
		FUZZ_CHECK(f.exempt_count == 0 && f.exempt == NULL);
		return 0;
	}
	FUZZ_CHECK(!f.has[LIMITS_RATE_BURST] || f.value[LIMITS_RATE_BURST] >= 1);
	FUZZ_CHECK(!f.has[LIMITS_V6_PREFIX] ||
		   (f.value[LIMITS_V6_PREFIX] >= 1 && f.value[LIMITS_V6_PREFIX] <= 64));
	FUZZ_CHECK(xdp || !f.has[LIMITS_SYN_LIMIT] || f.value[LIMITS_SYN_LIMIT] == 0);
	for (int k = 0; k < LIMITS_KEY_COUNT; k++)
		FUZZ_CHECK(f.value[k] <= 1000000);
	FUZZ_CHECK(f.exempt_count <= LIMITS_EXEMPT_MAX);
	struct buf text = {0};
	FUZZ_CHECK(limits_file_format(&f, &text));
	struct limits_file again;
	FUZZ_CHECK(limits_file_parse(&again, "again", text.data ? text.data : "", text.len, xdp,
				     err, sizeof(err)) == 0);
	FUZZ_CHECK(memcmp(again.has, f.has, sizeof(f.has)) == 0);
	for (int k = 0; k < LIMITS_KEY_COUNT; k++)
		FUZZ_CHECK(!f.has[k] || again.value[k] == f.value[k]);
	FUZZ_CHECK(again.exempt_count == f.exempt_count);
	for (size_t i = 0; i < f.exempt_count; i++)
		FUZZ_CHECK(strcmp(again.exempt[i], f.exempt[i]) == 0);
	limits_file_free(&again);
	limits_file_free(&f);
	buf_free(&text);
	return 0;
}
