/* What the server knows about a freshly accepted connection's peer: its
 * address and, with XDP, the region the XDP program tagged its SYN with. */
#ifndef ARCHEIO_SERVER_ACCEPTED_PEER_H
#define ARCHEIO_SERVER_ACCEPTED_PEER_H

#include "archeio/http/connection.h"

struct sockaddr;
struct xdp_path;

/* xdp NULL: the address only. With XDP the tag is taken (read and deleted)
 * from the map, so this runs once per connection. */
void accepted_peer_describe(struct xdp_path *xdp, int fd, const struct sockaddr *addr,
			    struct http_peer *out);

#endif
