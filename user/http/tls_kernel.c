/* Probes for kernel TLS: whether a TCP socket accepts the `tls` upper-layer
 * protocol (the kernel loads the module on demand, so reading
 * tcp_available_ulp alone would say no where a setsockopt would work). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/http/tls.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

/* The ULP can be set only on a connected socket: a loopback pair made here. */
static int connected_pair(int *client, int *server, int *listener)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	*listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*server = -1;
	if (*listener < 0 || *client < 0 || bind(*listener, (struct sockaddr *)&addr, len) != 0 ||
	    listen(*listener, 1) != 0 ||
	    getsockname(*listener, (struct sockaddr *)&addr, &len) != 0 ||
	    connect(*client, (struct sockaddr *)&addr, len) != 0)
		return -1;
	*server = accept4(*listener, NULL, NULL, SOCK_CLOEXEC);
	return *server < 0 ? -1 : 0;
}

bool tls_kernel_tls_available(char *why, size_t whylen)
{
	int client = -1, server = -1, listener = -1;
	bool ok = false;
	if (connected_pair(&client, &server, &listener) != 0) {
		snprintf(why, whylen, "cannot make a loopback connection to probe: %s",
			 strerror(errno));
	} else if (setsockopt(server, IPPROTO_TCP, TCP_ULP, "tls", 3) != 0) {
		snprintf(why, whylen, "the kernel refuses the tls TCP ULP (%s): no CONFIG_TLS",
			 strerror(errno));
	} else {
		ok = true;
	}
	int fds[] = {client, server, listener};
	for (size_t i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ok;
}
