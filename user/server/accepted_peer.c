#include "accepted_peer.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "archeio/xdp/xdp_path.h"

static uint16_t port_of(const struct sockaddr *addr)
{
	return ntohs(addr->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port
						 : ((const struct sockaddr_in *)addr)->sin_port);
}

/* The connection as the XDP program saw its SYN: peer and local address. */
static void fill_tuple(int fd, const struct sockaddr *peer, struct conn_tuple *tuple)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	ip_from_sockaddr(peer, &tuple->peer);
	tuple->peer_port = port_of(peer);
	if (getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
		ip_from_sockaddr(&local, &tuple->local);
		tuple->local_port = port_of((const struct sockaddr *)&local);
	}
}

void accepted_peer_describe(struct xdp_path *xdp, int fd, const struct sockaddr *addr,
			    struct http_peer *out)
{
	*out = (struct http_peer){0};
	if (!xdp) {
		ip_from_sockaddr(addr, &out->addr);
		return;
	}
	struct conn_tuple tuple = {0};
	fill_tuple(fd, addr, &tuple);
	out->addr = tuple.peer;
	out->tagged = xdp_path_take_conn_tag(xdp, &tuple, &out->tag);
}
