#include "archeio/response.h"

#include <stdio.h>
#include <string.h>

const char *response_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

void response_from_route(const struct route_result *route, bool head, bool keep_alive,
			 struct response *out)
{
	memset(out, 0, sizeof(*out));
	out->status = route->status;
	out->location = (route->kind == ROUTE_REDIRECT || route->kind == ROUTE_BLOB) ?
				route->location :
				NULL;
	out->oci_error = route->oci_error;
	out->message = route->message;
	out->allow_header = route->rule == RULE_METHOD;
	out->api_version = route->rule >= RULE_V2_BASE;
	out->keep_alive = keep_alive;
	out->head = head;
}

/* Escapes for both an HTML attribute and a JSON string: the characters that
 * could end either. Validated locations never contain them, but the body
 * must not depend on that. */
static size_t escape_into(char *out, size_t cap, const char *text, bool json)
{
	size_t o = 0;
	for (const char *p = text ? text : ""; *p; p++) {
		char tmp[8];
		const char *rep = NULL;
		if (json) {
			if (*p == '"')
				rep = "\\\"";
			else if (*p == '\\')
				rep = "\\\\";
			else if ((unsigned char)*p < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned char)*p);
				rep = tmp;
			}
		} else if (*p == '&') {
			rep = "&amp;";
		} else if (*p == '<') {
			rep = "&lt;";
		} else if (*p == '>') {
			rep = "&gt;";
		} else if (*p == '"') {
			rep = "&#34;";
		} else if (*p == '\'') {
			rep = "&#39;";
		}
		size_t n = rep ? strlen(rep) : 1;
		if (o + n >= cap)
			return cap;
		if (rep)
			memcpy(out + o, rep, n);
		else
			out[o] = *p;
		o += n;
	}
	if (o < cap)
		out[o] = '\0';
	return o;
}

static size_t build_body(const struct response *resp, const char **content_type, char *body,
			 size_t cap)
{
	char esc[ROUTE_LOCATION_MAX * 2];
	int n;
	if (resp->location) {
		/* Same body as Go's http.Redirect, so clients see what they saw before. */
		if (escape_into(esc, sizeof(esc), resp->location, false) >= sizeof(esc))
			return cap;
		*content_type = "text/html; charset=utf-8";
		n = snprintf(body, cap, "<a href=\"%s\">%s</a>.\n\n", esc,
			     response_reason(resp->status));
	} else if (resp->oci_error) {
		if (escape_into(esc, sizeof(esc), resp->message, true) >= sizeof(esc))
			return cap;
		*content_type = "application/json";
		n = snprintf(body, cap,
			     "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\",\"detail\":null}]}\n",
			     resp->oci_error, esc);
	} else if (resp->status == 200) {
		*content_type = "application/json";
		n = snprintf(body, cap, "{}\n");
	} else {
		*content_type = "text/plain; charset=utf-8";
		n = snprintf(body, cap, "%s\n",
			     resp->message ? resp->message : response_reason(resp->status));
	}
	return n < 0 ? cap : (size_t)n;
}

size_t response_write(const struct response *resp, const char *date, char *out, size_t cap)
{
	char body[ROUTE_LOCATION_MAX * 2 + 256];
	const char *content_type = NULL;
	size_t body_len = build_body(resp, &content_type, body, sizeof(body));
	if (body_len >= sizeof(body))
		return 0;
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n"
			 "Date: %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "%s%s%s"
			 "%s"
			 "%s"
			 "%s"
			 "\r\n",
			 resp->status, response_reason(resp->status), date, content_type, body_len,
			 resp->location ? "Location: " : "", resp->location ? resp->location : "",
			 resp->location ? "\r\n" : "",
			 resp->allow_header ? "Allow: GET, HEAD\r\n" : "",
			 resp->api_version ? "Docker-Distribution-Api-Version: registry/2.0\r\n" : "",
			 resp->keep_alive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= cap)
		return 0;
	size_t len = (size_t)n;
	if (!resp->head) {
		if (len + body_len >= cap)
			return 0;
		memcpy(out + len, body, body_len);
		len += body_len;
	}
	return len;
}
