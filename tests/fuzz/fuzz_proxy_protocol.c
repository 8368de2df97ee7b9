/* The PROXY protocol header parser. Properties: a header parses within its
 * bound and never past the input; every prefix of a parsed header is
 * incomplete (a reader may wait for more), and an incomplete input is within
 * the bound; a parsed header written back out as v1 and as v2 parses to the
 * same addresses, ports and LOCAL-ness. */
#include <stdint.h>

#include "archeio/http/proxy_protocol.h"
#include "fuzz_check.h"

static bool same_header(const struct proxy_header *a, const struct proxy_header *b)
{
	if (a->local || b->local)
		return a->local == b->local;
	return memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0 && a->src_port == b->src_port &&
	       a->dst_port == b->dst_port;
}

static void check_prefixes(const uint8_t *data, size_t consumed)
{
	for (size_t cut = 0; cut < consumed; cut++) {
		struct proxy_header h;
		size_t used = 0;
		FUZZ_CHECK(proxy_protocol_parse(data, cut, &h, &used, NULL) ==
			   PROXY_PARSE_INCOMPLETE);
	}
}

static void check_round_trip(const struct proxy_header *h)
{
	for (uint8_t version = 1; version <= 2; version++) {
		uint8_t out[PROXY_HEADER_MAX];
		size_t n = proxy_protocol_write(h, version, out, sizeof(out));
		FUZZ_CHECK(n > 0);
		struct proxy_header again;
		size_t used = 0;
		FUZZ_CHECK(proxy_protocol_parse(out, n, &again, &used, NULL) == PROXY_PARSE_DONE);
		FUZZ_CHECK(used == n && again.version == version);
		FUZZ_CHECK(same_header(h, &again));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PROXY_HEADER_MAX * 2)
		return 0;
	/* A copy of exactly size bytes: ASan sees any read past the input. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	struct proxy_header h;
	size_t used = 0;
	const char *why = NULL;
	enum proxy_parse_result r = proxy_protocol_parse(buf, size, &h, &used, &why);
	if (r == PROXY_PARSE_BAD) {
		FUZZ_CHECK(why != NULL && used == 0);
	} else if (r == PROXY_PARSE_INCOMPLETE) {
		FUZZ_CHECK(size < PROXY_HEADER_MAX && used == 0);
	} else {
		FUZZ_CHECK(used > 0 && used <= size && used <= PROXY_HEADER_MAX);
		FUZZ_CHECK(h.version == 1 ? used <= PROXY_V1_MAX : h.version == 2);
		check_prefixes(buf, used);
		check_round_trip(&h);
	}
	free(buf);
	return 0;
}
