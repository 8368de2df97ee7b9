/* A TCP connection's 4-tuple (peer address and port, local address and
 * port), as the XDP program saw its SYN: the server finds a connection's
 * region tag by it after accept(). */
#ifndef ARCHEIO_CONN_TUPLE_H
#define ARCHEIO_CONN_TUPLE_H

#include <stdint.h>

#include "archeio/core/ip.h"

struct conn_tuple {
	struct ip_addr peer;
	struct ip_addr local;
	uint16_t peer_port;  /* host byte order */
	uint16_t local_port; /* host byte order */
};

#endif
