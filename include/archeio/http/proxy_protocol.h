/* The PROXY protocol header (HAProxy's proxy-protocol.txt, v1 text and v2
 * binary) that an L4 load balancer puts before a connection's first byte to
 * tell the client's address. Pure: bytes in, a header out; the connection
 * layer decides whom to believe. */
#ifndef ARCHEIO_HTTP_PROXY_PROTOCOL_H
#define ARCHEIO_HTTP_PROXY_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/ip.h"

/* v1: at most 107 bytes with its CRLF (the specification's bound). */
#define PROXY_V1_MAX 107
/* v2: 16 bytes, then at most 216 of addresses (AF_UNIX's) and TLVs; archeio
 * reads no TLV but skips them, up to this bound in all. */
#define PROXY_V2_MAX 512
#define PROXY_HEADER_MAX PROXY_V2_MAX

enum proxy_parse_result {
	PROXY_PARSE_INCOMPLETE, /* every byte so far belongs to a header: read more */
	PROXY_PARSE_DONE,	/* *consumed bytes are the header */
	PROXY_PARSE_BAD,	/* not a (valid, supported) PROXY header: close */
};

struct proxy_header {
	uint8_t version; /* 1 or 2 */
	/* v2 LOCAL (a health check of the balancer itself), v2 UNSPEC, v1
	 * UNKNOWN: no client address; the peer is the client. */
	bool local;
	struct ip_addr src, dst; /* when !local; normalised as ip.h says */
	uint16_t src_port, dst_port;
};

/* Parses the header at the start of buf. INCOMPLETE guarantees that all len
 * bytes are header bytes (so a reader may consume them without taking any
 * of the payload); why (may be NULL) gets a short reason on BAD. */
enum proxy_parse_result proxy_protocol_parse(const uint8_t *buf, size_t len,
					     struct proxy_header *out, size_t *consumed,
					     const char **why);
/* True when buf (len bytes, maybe fewer than a header) starts with a whole
 * v1 ("PROXY ") or v2 signature: for refusing headers from untrusted peers. */
bool proxy_protocol_signature(const uint8_t *buf, size_t len);
/* Writes h as a version 1 or 2 header (v2 without TLVs); returns its length,
 * 0 when it does not fit. For tests, the fuzzer and load-balancer fakes. */
size_t proxy_protocol_write(const struct proxy_header *h, uint8_t version, uint8_t *buf,
			    size_t size);

#endif
