/* Response serialisation: status lines, headers per rule, bodies, HEAD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/http/response.h"
#include "server/route_response.h"

#define DATE "Sun, 29 Nov 2026 06:00:00 GMT"

static void redirect_get_has_location_and_body(void **state)
{
	(void)state;
	char out[4096];
	struct response r = {.status = 307,
			     .location = "https://up.example/v2/a/manifests/x?n=1&last=b",
			     .api_version = true,
			     .keep_alive = true};
	size_t len = response_write(&r, DATE, out, sizeof(out));
	assert_true(len > 0);
	out[len] = '\0';
	assert_non_null(strstr(out, "HTTP/1.1 307 Temporary Redirect\r\n"));
	assert_non_null(
	    strstr(out, "\r\nLocation: https://up.example/v2/a/manifests/x?n=1&last=b\r\n"));
	assert_non_null(strstr(out, "\r\nDocker-Distribution-Api-Version: registry/2.0\r\n"));
	assert_null(strstr(out, "Connection: close"));
	/* The body escapes '&' for HTML, as Go's http.Redirect does. */
	assert_non_null(strstr(
	    out, "\r\n\r\n<a href=\"https://up.example/v2/a/manifests/x?n=1&amp;last=b\">Temporary "
		 "Redirect</a>.\n\n"));
	char want[64];
	const char *body = strstr(out, "\r\n\r\n") + 4;
	snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(body));
	assert_non_null(strstr(out, want));
}

static void head_has_no_body(void **state)
{
	(void)state;
	char out[4096];
	struct response r = {.status = 307, .location = "https://x.example/", .head = true};
	size_t len = response_write(&r, DATE, out, sizeof(out));
	out[len] = '\0';
	assert_non_null(strstr(out, "Location: https://x.example/\r\n"));
	assert_non_null(strstr(out, "Connection: close\r\n"));
	assert_int_equal(strcmp(out + len - 4, "\r\n\r\n"), 0);
}

static void oci_error_body(void **state)
{
	(void)state;
	char out[4096];
	struct response r = {.status = 400,
			     .oci_error = "NAME_INVALID",
			     .message = "invalid \"name\"",
			     .keep_alive = true};
	size_t len = response_write(&r, DATE, out, sizeof(out));
	out[len] = '\0';
	assert_null(strstr(out, "Location:"));
	assert_non_null(strstr(out, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(out, "{\"errors\":[{\"code\":\"NAME_INVALID\",\"message\":\"invalid "
				    "\\\"name\\\"\",\"detail\":null}]}"));
}

static void too_many_requests_has_retry_after(void **state)
{
	(void)state;
	char out[4096];
	struct response r = {.status = 429,
			     .oci_error = "TOOMANYREQUESTS",
			     .message = "slow down",
			     .retry_after_s = 3,
			     .api_version = true,
			     .keep_alive = true};
	size_t len = response_write(&r, DATE, out, sizeof(out));
	out[len] = '\0';
	assert_non_null(strstr(out, "HTTP/1.1 429 Too Many Requests\r\n"));
	assert_non_null(strstr(out, "\r\nRetry-After: 3\r\n"));
	assert_null(strstr(out, "Location:"));
	assert_non_null(strstr(out, "\"code\":\"TOOMANYREQUESTS\""));
	/* no Retry-After unless asked for */
	r.retry_after_s = 0;
	len = response_write(&r, DATE, out, sizeof(out));
	out[len] = '\0';
	assert_null(strstr(out, "Retry-After"));
}

static void method_not_allowed_has_allow(void **state)
{
	(void)state;
	struct route_result route = {.kind = ROUTE_RESPOND,
				     .rule = RULE_METHOD,
				     .status = 405,
				     .message = "Only GET and HEAD are allowed."};
	struct response r;
	response_from_route(&route, false, true, &r);
	char out[4096];
	size_t len = response_write(&r, DATE, out, sizeof(out));
	out[len] = '\0';
	assert_non_null(strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(out, "\r\nAllow: GET, HEAD\r\n"));
	assert_null(strstr(out, "Location:"));
}

static void route_to_response(void **state)
{
	(void)state;
	struct route_result route = {.kind = ROUTE_REDIRECT, .rule = RULE_UPSTREAM, .status = 307};
	snprintf(route.location, sizeof(route.location), "https://u.example/v2/p/a/tags/list");
	struct response r;
	response_from_route(&route, true, false, &r);
	assert_int_equal(r.status, 307);
	assert_string_equal(r.location, route.location);
	assert_true(r.head);
	assert_false(r.keep_alive);
	assert_true(r.api_version);
	route.kind = ROUTE_RESPOND;
	route.rule = RULE_OUTSIDE_V2;
	route.status = 404;
	response_from_route(&route, false, true, &r);
	assert_null(r.location);
	assert_false(r.api_version);
}

static void v2_base_is_json(void **state)
{
	(void)state;
	char out[1024];
	struct response r = {.status = 200, .api_version = true};
	size_t len = response_write(&r, DATE, out, sizeof(out));
	out[len] = '\0';
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, "Date: " DATE "\r\n"));
	assert_non_null(strstr(out, "\r\n\r\n{}\n"));
}

static void too_small_buffer_is_zero(void **state)
{
	(void)state;
	char out[32];
	struct response r = {.status = 200};
	assert_int_equal(response_write(&r, DATE, out, sizeof(out)), 0);
	assert_string_equal(response_reason(431), "Request Header Fields Too Large");
	assert_string_equal(response_reason(999), "Unknown");
}

static void reason_phrases(void **state)
{
	(void)state;
	static const struct {
		int status;
		const char *reason;
	} want[] = {
	    {200, "OK"},
	    {307, "Temporary Redirect"},
	    {400, "Bad Request"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {414, "URI Too Long"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {503, "Service Unavailable"},
	    {505, "HTTP Version Not Supported"},
	    {299, "Unknown"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(response_reason(want[i].status), want[i].reason);
	char out[1024];
	struct response r = {.status = 503, .message = "out of memory"};
	size_t len = response_write(&r, DATE, out, sizeof(out) - 1);
	out[len] = '\0';
	assert_non_null(strstr(out, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nout of memory\n"));
}

/* Characters that could end the HTML attribute or the JSON string are escaped
 * in bodies, whatever the validators upstream let through. */
static void bodies_escape_markup(void **state)
{
	(void)state;
	char out[4096];
	struct response r = {.status = 307, .location = "http://x/<a>\"'&", .keep_alive = true};
	size_t len = response_write(&r, DATE, out, sizeof(out) - 1);
	out[len] = '\0';
	assert_non_null(strstr(out, "<a href=\"http://x/&lt;a&gt;&#34;&#39;&amp;\">"));
	struct response e = {.status = 400, .oci_error = "NAME_INVALID", .message = "a\\b\n\"c"};
	len = response_write(&e, DATE, out, sizeof(out) - 1);
	out[len] = '\0';
	assert_non_null(strstr(out, "\"message\":\"a\\\\b\\u000a\\\"c\""));
	struct response none = {.status = 400, .oci_error = "UNSUPPORTED"};
	len = response_write(&none, DATE, out, sizeof(out) - 1);
	out[len] = '\0';
	assert_non_null(strstr(out, "\"message\":\"\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(redirect_get_has_location_and_body),
	    cmocka_unit_test(head_has_no_body),
	    cmocka_unit_test(oci_error_body),
	    cmocka_unit_test(too_many_requests_has_retry_after),
	    cmocka_unit_test(method_not_allowed_has_allow),
	    cmocka_unit_test(route_to_response),
	    cmocka_unit_test(v2_base_is_json),
	    cmocka_unit_test(too_small_buffer_is_zero),
	    cmocka_unit_test(reason_phrases),
	    cmocka_unit_test(bodies_escape_markup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
