/* listen_sockets_open(): one SO_REUSEPORT socket per worker on one address,
 * and nobody else's socket in that group. Real sockets on 127.0.0.1 (port 0
 * picks a free port each time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/accepted_peer.h"
#include "server/listen_socket.h"

#define WORKERS 3

static void close_all(int *fds, size_t count)
{
	for (size_t i = 0; i < count; i++)
		close(fds[i]);
}

/* A listening socket on 127.0.0.1:port as another process would open it:
 * with SO_REUSEPORT (so the kernel would let it share) or without. */
static int foreign_listener(uint16_t port, int reuseport, uint16_t *bound)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(listen(fd, 16), 0);
	socklen_t len = sizeof(in);
	getsockname(fd, (struct sockaddr *)&in, &len);
	*bound = ntohs(in.sin_port);
	return fd;
}

static int connect_to(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	return fd;
}

/* Takes every connection waiting on fd; returns how many there were. */
static unsigned accept_all(int fd)
{
	unsigned n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, 0) == 1) {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			break;
		close(c);
		n++;
	}
	return n;
}

/* Port 0: the kernel picks one port and every worker's socket is on it and in
 * one group (each gets a share of 300 connections). */
static void test_port_zero_group(void **state)
{
	(void)state;
	int fds[WORKERS];
	uint16_t port = 0;
	char err[256] = "";
	assert_int_equal(listen_sockets_open("127.0.0.1", 0, fds, WORKERS, &port, err, sizeof(err)),
			 0);
	assert_true(port > 0);
	int clients[300];
	for (size_t i = 0; i < 300; i++)
		clients[i] = connect_to(port);
	for (size_t i = 0; i < WORKERS; i++) {
		struct sockaddr_in in;
		socklen_t len = sizeof(in);
		assert_int_equal(getsockname(fds[i], (struct sockaddr *)&in, &len), 0);
		assert_int_equal(ntohs(in.sin_port), port);
		assert_true(accept_all(fds[i]) > 0);
	}
	close_all(clients, 300);
	close_all(fds, WORKERS);
}

/* A second archeio on a busy address: refused, the message names it. */
static void test_second_group_refused(void **state)
{
	(void)state;
	int first[WORKERS], second[WORKERS];
	uint16_t port = 0, port2 = 0;
	char err[256] = "", want[256];
	assert_int_equal(
	    listen_sockets_open("127.0.0.1", 0, first, WORKERS, &port, err, sizeof(err)), 0);
	assert_int_equal(
	    listen_sockets_open("127.0.0.1", port, second, WORKERS, &port2, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u: Address already in use", port);
	assert_non_null(strstr(err, want));
	/* The first group is untouched. */
	int client = connect_to(port);
	unsigned accepted = 0;
	for (size_t i = 0; i < WORKERS; i++)
		accepted += accept_all(first[i]);
	assert_int_equal(accepted, 1);
	close(client);
	close_all(first, WORKERS);
}

/* Another process's socket that allows sharing (SO_REUSEPORT) must not be
 * joined: it would take a share of the connections. */
static void test_foreign_reuseport_socket_refused(void **state)
{
	(void)state;
	uint16_t port;
	int foreign = foreign_listener(0, 1, &port);
	int fds[WORKERS];
	uint16_t bound = 0;
	char err[256] = "", want[256];
	assert_int_equal(
	    listen_sockets_open("127.0.0.1", port, fds, WORKERS, &bound, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u: Address already in use", port);
	assert_non_null(strstr(err, want));
	close(foreign);
}

/* Every address (":PORT") conflicts with a listener on 127.0.0.1 too. */
static void test_wildcard_refused_beside_foreign(void **state)
{
	(void)state;
	uint16_t port;
	int foreign = foreign_listener(0, 1, &port);
	int fds[WORKERS];
	uint16_t bound = 0;
	char err[256] = "", want[256];
	assert_int_equal(listen_sockets_open(NULL, port, fds, WORKERS, &bound, err, sizeof(err)),
			 -1);
	snprintf(want, sizeof(want), "cannot listen on *:%u: Address already in use", port);
	assert_non_null(strstr(err, want));
	close(foreign);
}

/* A socket without SO_REUSEPORT holds the port: refused as before. */
static void test_plain_socket_refused(void **state)
{
	(void)state;
	uint16_t port;
	int foreign = foreign_listener(0, 0, &port);
	int fds[1];
	uint16_t bound = 0;
	char err[256] = "";
	assert_int_equal(listen_sockets_open("127.0.0.1", port, fds, 1, &bound, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "Address already in use"));
	close(foreign);
}

/* The port is free again once the group is closed (no lingering state). */
static void test_reopen_after_close(void **state)
{
	(void)state;
	int fds[WORKERS];
	uint16_t port = 0, again = 0;
	char err[256] = "";
	assert_int_equal(listen_sockets_open("127.0.0.1", 0, fds, WORKERS, &port, err, sizeof(err)),
			 0);
	int client = connect_to(port);
	close(client);
	close_all(fds, WORKERS);
	assert_int_equal(
	    listen_sockets_open("127.0.0.1", port, fds, WORKERS, &again, err, sizeof(err)), 0);
	assert_int_equal(again, port);
	close_all(fds, WORKERS);
}

/* A host that is no address is refused before any socket is opened. */
static void test_bad_host_refused(void **state)
{
	(void)state;
	int fds[1] = {-1};
	uint16_t bound = 0;
	char err[256] = "";
	assert_int_equal(listen_sockets_open("localhost", 0, fds, 1, &bound, err, sizeof(err)), -1);
	assert_string_equal(err, "bad listen host localhost");
	assert_int_equal(fds[0], -1);
}

/* An IPv6 host: every worker's socket joins the kernel's port. */
static void test_ipv6_group(void **state)
{
	(void)state;
	int fds[WORKERS];
	uint16_t port = 0;
	char err[256] = "";
	assert_int_equal(listen_sockets_open("::1", 0, fds, WORKERS, &port, err, sizeof(err)), 0);
	assert_true(port != 0);
	for (size_t i = 0; i < WORKERS; i++) {
		struct sockaddr_in6 in6;
		socklen_t len = sizeof(in6);
		assert_int_equal(getsockname(fds[i], (struct sockaddr *)&in6, &len), 0);
		assert_int_equal(in6.sin6_family, AF_INET6);
		assert_int_equal(ntohs(in6.sin6_port), port);
	}
	close_all(fds, WORKERS);
}

/* Leaves exactly `spare` descriptors free under a lowered RLIMIT_NOFILE;
 * returns the lowest one taken (the filler runs up to the limit). */
static int fill_descriptors(struct rlimit *saved, int spare)
{
	assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
	int first = dup(0);
	assert_true(first >= 0);
	struct rlimit low = {(rlim_t)first + 16, saved->rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int fd = first;
	while (fd >= 0)
		fd = dup(0);
	for (int i = 0; i < spare; i++)
		close(first + i);
	return first + spare;
}

static void release_descriptors(const struct rlimit *saved, int from)
{
	for (int fd = from; fd < from + 32; fd++)
		close(fd);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, saved), 0);
}

/* Out of descriptors for the first socket: the reason, nothing left open. */
static void test_no_descriptor_for_the_first_socket(void **state)
{
	(void)state;
	struct rlimit saved;
	int filled = fill_descriptors(&saved, 0);
	int fds[WORKERS];
	uint16_t bound = 0;
	char err[256] = "";
	int rc = listen_sockets_open("127.0.0.1", 0, fds, WORKERS, &bound, err, sizeof(err));
	release_descriptors(&saved, filled);
	assert_int_equal(rc, -1);
	assert_string_equal(err, "cannot listen on 127.0.0.1:0: socket: Too many open files");
}

/* Room for one socket of three: the error names the port the first one got,
 * and the first one is closed again (its descriptor is free). */
static void test_no_descriptor_for_a_later_worker(void **state)
{
	(void)state;
	struct rlimit saved;
	int filled = fill_descriptors(&saved, 1);
	int fds[WORKERS];
	uint16_t bound = 0;
	char err[256] = "";
	int rc = listen_sockets_open("127.0.0.1", 0, fds, WORKERS, &bound, err, sizeof(err));
	int reused = dup(0); /* the descriptor the first socket had */
	release_descriptors(&saved, filled);
	assert_int_equal(rc, -1);
	assert_int_equal(reused, filled - 1);
	close(reused);
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
	assert_null(strstr(err, "127.0.0.1:0:"));
	assert_non_null(strstr(err, ": socket: Too many open files"));
}

/* A listener bound to one address gives every accepted connection's local
 * address (the XDP tag key's daddr and dport, without a getsockname() per
 * connection); one listening on "any" does not, and the connection's own
 * address is asked instead. */
static void test_fixed_local_address(void **state)
{
	(void)state;
	int fds[1];
	uint16_t port;
	char err[256];
	struct sockaddr_storage local;
	assert_int_equal(listen_sockets_open("127.0.0.1", 0, fds, 1, &port, err, sizeof(err)), 0);
	assert_true(accepted_peer_fixed_local(fds[0], &local));
	assert_int_equal(local.ss_family, AF_INET);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&local;
	assert_int_equal(ntohs(in->sin_port), port);
	assert_int_equal(in->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	/* The accepted socket's own local address is the same. */
	int client = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(client, (const struct sockaddr *)&local, sizeof(*in)), 0);
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	int conn = accept(fds[0], NULL, NULL);
	assert_true(conn >= 0);
	struct sockaddr_in own;
	socklen_t len = sizeof(own);
	assert_int_equal(getsockname(conn, (struct sockaddr *)&own, &len), 0);
	assert_int_equal(own.sin_port, in->sin_port);
	assert_int_equal(own.sin_addr.s_addr, in->sin_addr.s_addr);
	close(conn);
	close(client);
	close(fds[0]);
	/* "any": IPv6 with IPv4 mapped (the default listen address), IPv4. */
	assert_int_equal(listen_sockets_open(NULL, 0, fds, 1, &port, err, sizeof(err)), 0);
	assert_false(accepted_peer_fixed_local(fds[0], &local));
	close(fds[0]);
	assert_int_equal(listen_sockets_open("0.0.0.0", 0, fds, 1, &port, err, sizeof(err)), 0);
	assert_false(accepted_peer_fixed_local(fds[0], &local));
	close(fds[0]);
	/* A single IPv6 address, where the host has IPv6. */
	if (listen_sockets_open("::1", 0, fds, 1, &port, err, sizeof(err)) == 0) {
		assert_true(accepted_peer_fixed_local(fds[0], &local));
		assert_int_equal(local.ss_family, AF_INET6);
		close(fds[0]);
	}
	assert_false(accepted_peer_fixed_local(-1, &local));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_port_zero_group),
	    cmocka_unit_test(test_second_group_refused),
	    cmocka_unit_test(test_foreign_reuseport_socket_refused),
	    cmocka_unit_test(test_wildcard_refused_beside_foreign),
	    cmocka_unit_test(test_plain_socket_refused),
	    cmocka_unit_test(test_reopen_after_close),
	    cmocka_unit_test(test_bad_host_refused),
	    cmocka_unit_test(test_ipv6_group),
	    cmocka_unit_test(test_no_descriptor_for_the_first_socket),
	    cmocka_unit_test(test_no_descriptor_for_a_later_worker),
	    cmocka_unit_test(test_fixed_local_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
