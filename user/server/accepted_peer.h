/* What the server knows about a freshly accepted connection's peer: its
 * address and, with XDP, the region the XDP program tagged its SYN with. */
#ifndef ARCHEIO_SERVER_ACCEPTED_PEER_H
#define ARCHEIO_SERVER_ACCEPTED_PEER_H

#include "archeio/http/connection.h"

#include <stdbool.h>
#include <sys/socket.h>

struct xdp_path;

/* True when the listening socket is bound to one address (not "any"): every
 * connection it accepts then has that local address and port, given in out,
 * and the XDP tag's key needs no getsockname() per connection. */
bool accepted_peer_fixed_local(int listen_fd, struct sockaddr_storage *out);

/* xdp NULL: the address only. With XDP the tag is taken (read and deleted)
 * from the map, so this runs once per connection. listener: the connection's
 * local address when known (accepted_peer_fixed_local), else NULL. */
void accepted_peer_describe(struct xdp_path *xdp, int fd, const struct sockaddr *addr,
			    const struct sockaddr *listener, struct http_peer *out);

#endif
