#include "listen_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/core/ip.h"

static int open_one(const struct sockaddr_storage *addr, socklen_t addr_len, char *err,
		    size_t errlen)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    (addr->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0) ||
	    bind(fd, (const struct sockaddr *)addr, addr_len) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static socklen_t make_addr(const char *host, uint16_t port, int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct ip_addr ip = {.family = (uint8_t)family};
	if (host && !ip_parse(host, &ip))
		return 0;
	if (ip.family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, ip.bytes, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	memcpy(&in6->sin6_addr, ip.bytes, 16);
	return sizeof(*in6);
}

int listen_sockets_open(const char *host, uint16_t port, int *fds, size_t count,
			uint16_t *bound_port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char reason[256];
	socklen_t len = make_addr(host, port, AF_INET6, &ss);
	if (len == 0) {
		snprintf(err, errlen, "bad listen host %s", host);
		return -1;
	}
	int first = open_one(&ss, len, reason, sizeof(reason));
	if (first < 0 && !host) {
		len = make_addr(NULL, port, AF_INET, &ss); /* IPv6 disabled on this host */
		first = open_one(&ss, len, reason, sizeof(reason));
	}
	if (first < 0) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", host ? host : "*", port,
			 reason);
		return -1;
	}
	/* With port 0 the kernel chose; the other sockets must join that port. */
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	getsockname(first, (struct sockaddr *)&bound, &bound_len);
	uint16_t actual =
	    ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
					      : ((struct sockaddr_in *)&bound)->sin_port);
	fds[0] = first;
	for (size_t i = 1; i < count; i++) {
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(actual);
		else
			((struct sockaddr_in *)&ss)->sin_port = htons(actual);
		fds[i] = open_one(&ss, len, reason, sizeof(reason));
		if (fds[i] < 0) {
			for (size_t k = 0; k < i; k++)
				close(fds[k]);
			snprintf(err, errlen, "cannot listen on port %u: %s", actual, reason);
			return -1;
		}
	}
	*bound_port = actual;
	return 0;
}
