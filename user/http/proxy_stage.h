/* The PROXY protocol stage of a connection, before TLS or HTTP: reads the
 * header of a trusted balancer (consuming exactly its bytes, so a TLS
 * handshake or a request that follows stays in the socket), or refuses one
 * from a peer that is not trusted. */
#ifndef ARCHEIO_HTTP_PROXY_STAGE_H
#define ARCHEIO_HTTP_PROXY_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "archeio/http/connection.h"
#include "archeio/http/proxy_protocol.h"

struct proxy_stage {
	uint8_t buf[PROXY_HEADER_MAX]; /* the header's bytes read so far */
	size_t len;
};

enum proxy_stage_result {
	PROXY_STAGE_WAIT,  /* nothing decided yet: wait for the socket */
	PROXY_STAGE_DONE,  /* go on with TLS or HTTP; peer updated when a header said so */
	PROXY_STAGE_CLOSE, /* refused (why set) or the client left (why NULL) */
};

/* peer->proxy says what is expected; on DONE after a header naming a client,
 * peer->addr becomes that client and the XDP tag (the balancer's) is dropped. */
enum proxy_stage_result proxy_stage_read(struct proxy_stage *stage, int fd, struct http_peer *peer,
					 const char **why);

#endif
