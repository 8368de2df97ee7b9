#include "route_response.h"

#include <string.h>

/* Every Location the router builds must fit what a response can carry. */
_Static_assert(ROUTE_LOCATION_MAX <= RESPONSE_LOCATION_MAX,
	       "responses must carry the router's longest Location");

void response_from_route(const struct route_result *route, bool head, bool keep_alive,
			 struct response *out)
{
	memset(out, 0, sizeof(*out));
	out->status = route->status;
	out->location =
	    (route->kind == ROUTE_REDIRECT || route->kind == ROUTE_BLOB) ? route->location : NULL;
	out->oci_error = route->oci_error;
	out->message = route->message;
	out->allow_header = route->rule == RULE_METHOD;
	out->api_version = route->rule >= RULE_V2_BASE;
	out->keep_alive = keep_alive;
	out->head = head;
}
