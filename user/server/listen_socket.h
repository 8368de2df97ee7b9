/* Listening sockets for the workers: one per worker on the same address with
 * SO_REUSEPORT, so the kernel spreads connections across event loops, and no
 * other process's socket in that group (listen_socket.c says how). */
#ifndef ARCHEIO_LISTEN_SOCKET_H
#define ARCHEIO_LISTEN_SOCKET_H

#include <stddef.h>
#include <stdint.h>

/* host NULL: "::" dual-stack (IPv4 too), or 0.0.0.0 where IPv6 is off.
 * Port 0 picks a free port, shared by all sockets; *bound_port tells which.
 * Returns 0, or -1 with err set (and no socket left open); an address that
 * another process listens on is "cannot listen on ADDR: Address already in
 * use (...)", whether or not that process allows sharing. */
int listen_sockets_open(const char *host, uint16_t port, int *fds, size_t count,
			uint16_t *bound_port, char *err, size_t errlen);

#endif
