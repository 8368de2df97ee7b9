#include "listen_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/core/ip.h"

/* Only this process's workers may share the address. SO_REUSEPORT lets any
 * socket of the same user join a group, so another archeio (an old binary, a
 * test left running, a typo in a unit file) would start and take a share of
 * the connections. The first socket of a group is therefore bound and
 * listening *without* SO_REUSEPORT: that fails with EADDRINUSE when anyone
 * listens on the address (shared or not), and while it holds the address
 * exclusively no other socket can join. Only then is SO_REUSEPORT set on it,
 * so that the other workers' sockets can join (the kernel checks the flag of
 * the sockets already bound when a new one binds, and puts it in the group
 * when the next one listens). Two archeios starting at once cannot both get
 * through: the second bind or listen fails. What is left: once the flag is
 * set, a process that sets SO_REUSEPORT itself (and never checks like this)
 * can still join; the kernel has no way to close a group. */
static int open_one(const struct sockaddr_storage *addr, socklen_t addr_len, bool first, char *err,
		    size_t errlen)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	/* SO_REUSEADDR: connections of an earlier run still in TIME_WAIT do not
	 * block the port; a listening socket still does. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((!first && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
	    (addr->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0) ||
	    bind(fd, (const struct sockaddr *)addr, addr_len) != 0 || listen(fd, 1024) != 0 ||
	    (first && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)) {
		int saved = errno;
		snprintf(err, errlen, "%s%s", strerror(saved),
			 saved == EADDRINUSE ? " (another process is listening there)" : "");
		close(fd);
		errno = saved; /* the caller tells "in use" from "no IPv6" */
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

/* "127.0.0.1:8080", "[::1]:8080", "*:8080": the address as the operator wrote it. */
static void describe(const char *host, uint16_t port, char *out, size_t cap)
{
	bool v6 = host && strchr(host, ':');
	snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", host ? host : "*", v6 ? "]" : "", port);
}

int listen_sockets_open(const char *host, uint16_t port, int *fds, size_t count,
			uint16_t *bound_port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char reason[256], where[80];
	socklen_t len = make_addr(host, port, AF_INET6, &ss);
	if (len == 0) {
		snprintf(err, errlen, "bad listen host %s", host);
		return -1;
	}
	int first = open_one(&ss, len, true, reason, sizeof(reason));
	if (first < 0 && !host && errno != EADDRINUSE) {
		len = make_addr(NULL, port, AF_INET, &ss); /* IPv6 disabled on this host */
		first = open_one(&ss, len, true, reason, sizeof(reason));
	}
	if (first < 0) {
		describe(host, port, where, sizeof(where));
		snprintf(err, errlen, "cannot listen on %s: %s", where, reason);
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
		fds[i] = open_one(&ss, len, false, reason, sizeof(reason));
		if (fds[i] < 0) {
			for (size_t k = 0; k < i; k++)
				close(fds[k]);
			describe(host, actual, where, sizeof(where));
			snprintf(err, errlen, "cannot listen on %s: %s", where, reason);
			return -1;
		}
	}
	*bound_port = actual;
	return 0;
}
