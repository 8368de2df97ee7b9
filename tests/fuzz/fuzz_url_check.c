/* The URL checks behind every configured upstream, mirror base and page.
 * Property: what url_is_absolute_http() accepts, libcurl's URL parser (an
 * independent implementation) reads as an http or https URL with a host and
 * no user info, and holds no byte that could split a header; a base also has
 * no query. The listen-address parser is exercised alongside. */
#include <curl/curl.h>
#include <stdint.h>
#include <strings.h>

#include "archeio/core/url_check.h"
#include "archeio/server/config.h"
#include "fuzz_check.h"

static void check_with_curl(const char *url)
{
	CURLU *h = curl_url();
	FUZZ_CHECK(h != NULL);
	FUZZ_CHECK(curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK);
	char *scheme = NULL, *host = NULL, *user = NULL;
	FUZZ_CHECK(curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK);
	FUZZ_CHECK(strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
	FUZZ_CHECK(curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0');
	FUZZ_CHECK(curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_NO_USER);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = fuzz_strndup(data, size);
	if (strlen(s) == size && url_is_absolute_http(s)) {
		FUZZ_CHECK(fuzz_header_safe(s) && !strchr(s, ' ') && !strchr(s, '#'));
		check_with_curl(s);
		if (url_is_base_http(s))
			FUZZ_CHECK(!strchr(s, '?'));
	}
	char *host = NULL;
	uint16_t port = 0;
	if (config_parse_listen(s, &host, &port))
		FUZZ_CHECK(!host || (host[0] != '\0' && fuzz_header_safe(host)));
	free(host);
	free(s);
	return 0;
}
