/* route_request() with the OCI grammar and percent-decoding. Property: a
 * redirect never goes anywhere that was not configured: its Location starts
 * with the upstream's or signature upstream's /v2/ base, or is exactly the
 * info or privacy URL; it holds no byte that could split a header; a blob's
 * digest passes the OCI digest grammar. First input byte: the method. */
#include <stdint.h>

#include "archeio/contract/route.h"
#include "archeio/core/oci.h"
#include "fuzz_check.h"

static const struct route_config config = {
    .upstream = "https://up.example",
    .upstream_path = "k8s-artifacts-prod/images",
    .signature_upstream = "https://sig.example",
    .info_url = "https://info.example/",
    .privacy_url = "https://info.example/privacy?x=1",
};

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	static const char *const methods[] = {"GET", "HEAD", "POST", "get", "DELETE", ""};
	const char *method = methods[data[0] % 6];
	const char *target = (const char *)data + 1;
	struct route_result r;
	route_request(&config, method, strlen(method), target, size - 1, &r);
	FUZZ_CHECK(memchr(r.location, '\0', sizeof(r.location)) != NULL);
	if (r.kind == ROUTE_RESPOND) {
		FUZZ_CHECK(r.location[0] == '\0');
		FUZZ_CHECK(r.status >= 200 && r.status < 600 && r.status != 307);
		return 0;
	}
	FUZZ_CHECK(r.status == 307);
	FUZZ_CHECK(fuzz_header_safe(r.location));
	FUZZ_CHECK(!strchr(r.location, ' '));
	int configured =
	    starts_with(r.location, "https://up.example/v2/k8s-artifacts-prod/images/") ||
	    starts_with(r.location, "https://sig.example/v2/") ||
	    strcmp(r.location, config.info_url) == 0 || strcmp(r.location, config.privacy_url) == 0;
	FUZZ_CHECK(configured);
	if (r.kind == ROUTE_BLOB) {
		FUZZ_CHECK(oci_digest_valid(r.digest, strlen(r.digest)));
		FUZZ_CHECK(starts_with(r.location, "https://up.example/v2/"));
	}
	return 0;
}
