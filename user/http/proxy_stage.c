#include "proxy_stage.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* Peeks without taking: what is not the header stays for TLS or HTTP. */
static enum proxy_stage_result peek(int fd, uint8_t *buf, size_t cap, size_t *n)
{
	ssize_t got = recv(fd, buf, cap, MSG_PEEK);
	if (got > 0) {
		*n = (size_t)got;
		return PROXY_STAGE_DONE;
	}
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return PROXY_STAGE_WAIT;
	return PROXY_STAGE_CLOSE;
}

static bool take(int fd, size_t n)
{
	uint8_t sink[PROXY_HEADER_MAX];
	return recv(fd, sink, n, 0) == (ssize_t)n; /* peeked already: all there */
}

/* Not trusted: a connection that opens with a whole signature is refused;
 * anything else (a prefix cannot be told from "POST" or a TLS record) goes
 * on as HTTP or TLS, where a PROXY line is no valid request. */
static enum proxy_stage_result refuse_header(int fd, const char **why)
{
	uint8_t first[12];
	size_t n = 0;
	enum proxy_stage_result r = peek(fd, first, sizeof(first), &n);
	if (r != PROXY_STAGE_DONE)
		return r;
	if (!proxy_protocol_signature(first, n))
		return PROXY_STAGE_DONE;
	*why = "PROXY header from a peer that is not a trusted proxy";
	return PROXY_STAGE_CLOSE;
}

static void apply(const struct proxy_header *h, struct http_peer *peer)
{
	peer->proxy = HTTP_PROXY_OFF;
	if (h->local)
		return; /* the balancer's own check: the peer is the client */
	peer->addr = h->src;
	peer->tagged = false; /* the tag named the balancer */
	peer->proxied = true;
}

enum proxy_stage_result proxy_stage_read(struct proxy_stage *stage, int fd, struct http_peer *peer,
					 const char **why)
{
	*why = NULL;
	if (peer->proxy == HTTP_PROXY_REFUSED) {
		enum proxy_stage_result r = refuse_header(fd, why);
		if (r == PROXY_STAGE_DONE)
			peer->proxy = HTTP_PROXY_OFF;
		return r;
	}
	size_t n = 0;
	enum proxy_stage_result r =
	    peek(fd, stage->buf + stage->len, sizeof(stage->buf) - stage->len, &n);
	if (r != PROXY_STAGE_DONE)
		return r;
	struct proxy_header h;
	size_t used = 0;
	switch (proxy_protocol_parse(stage->buf, stage->len + n, &h, &used, why)) {
	case PROXY_PARSE_INCOMPLETE:
		/* Every byte is the header's: take them all, so the socket is empty
		 * and the read event waits for more instead of firing again. The
		 * parser answers BAD for anything longer than PROXY_HEADER_MAX, so
		 * an incomplete header always leaves room in buf for the next peek. */
		if (!take(fd, n))
			return PROXY_STAGE_CLOSE;
		stage->len += n;
		return PROXY_STAGE_WAIT;
	case PROXY_PARSE_DONE:
		if (!take(fd, used - stage->len))
			return PROXY_STAGE_CLOSE;
		apply(&h, peer);
		return PROXY_STAGE_DONE;
	case PROXY_PARSE_BAD:
		break;
	}
	return PROXY_STAGE_CLOSE;
}
