/* A TCP connection's addresses, as the XDP program saw its SYN. */
#ifndef ARCHEIO_CONN_H
#define ARCHEIO_CONN_H

#include <stdint.h>

#include "archeio/core/ip.h"

struct conn_tuple {
	struct ip_addr peer;
	struct ip_addr local;
	uint16_t peer_port;  /* host byte order */
	uint16_t local_port; /* host byte order */
};

#endif
