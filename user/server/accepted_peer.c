#include "accepted_peer.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "archeio/xdp/xdp_path.h"

static uint16_t port_of(const struct sockaddr *addr)
{
	return ntohs(addr->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port
						 : ((const struct sockaddr_in *)addr)->sin_port);
}

/* The connection as the XDP program saw its SYN: peer and local address.
 * The local one is the listener's when that is a single address, else the
 * socket is asked (a getsockname() per connection). */
static void fill_tuple(int fd, const struct sockaddr *peer, const struct sockaddr *listener,
		       struct conn_tuple *tuple)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	ip_from_sockaddr(peer, &tuple->peer);
	tuple->peer_port = port_of(peer);
	if (!listener && getsockname(fd, (struct sockaddr *)&local, &len) == 0)
		listener = (const struct sockaddr *)&local;
	if (listener) {
		ip_from_sockaddr(listener, &tuple->local);
		tuple->local_port = port_of(listener);
	}
}

bool accepted_peer_fixed_local(int listen_fd, struct sockaddr_storage *out)
{
	socklen_t len = sizeof(*out);
	if (getsockname(listen_fd, (struct sockaddr *)out, &len) != 0)
		return false;
	if (out->ss_family == AF_INET)
		return ((const struct sockaddr_in *)out)->sin_addr.s_addr != htonl(INADDR_ANY);
	if (out->ss_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)out)->sin6_addr;
	static const uint8_t zero[4];
	/* "::" and "::ffff:0.0.0.0" take any local address. */
	return !IN6_IS_ADDR_UNSPECIFIED(a) &&
	       !(IN6_IS_ADDR_V4MAPPED(a) && memcmp(&a->s6_addr[12], zero, 4) == 0);
}

void accepted_peer_describe(struct xdp_path *xdp, int fd, const struct sockaddr *addr,
			    const struct sockaddr *listener, struct http_peer *out)
{
	*out = (struct http_peer){0};
	if (!xdp) {
		ip_from_sockaddr(addr, &out->addr);
		return;
	}
	struct conn_tuple tuple = {0};
	fill_tuple(fd, addr, listener, &tuple);
	out->addr = tuple.peer;
	out->tagged = xdp_path_take_conn_tag(xdp, &tuple, &out->tag);
}
