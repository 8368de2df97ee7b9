/* The response for a routing decision that needs no further work. Pure. */
#ifndef ARCHEIO_SERVER_ROUTE_RESPONSE_H
#define ARCHEIO_SERVER_ROUTE_RESPONSE_H

#include <stdbool.h>

#include "archeio/contract/route.h"
#include "archeio/http/response.h"

/* out->location points into route: route must outlive out. */
void response_from_route(const struct route_result *route, bool head, bool keep_alive,
			 struct response *out);

#endif
