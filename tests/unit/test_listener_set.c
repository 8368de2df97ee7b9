/* The listeners of `archeio serve`: --listen and every --plain-listen opened
 * together, one socket per worker each, or none of them (the error names
 * the address that failed); how they are described in the start-up log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/server/config.h"
#include "server/listener_set.h"

/* A socket holding 127.0.0.1:port (port 0: any), as another process would. */
static int hold_port(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in in = {.sin_family = AF_INET};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(listen(fd, 4), 0);
	socklen_t len = sizeof(in);
	getsockname(fd, (struct sockaddr *)&in, &len);
	*port = ntohs(in.sin_port);
	return fd;
}

static void all_listeners_open_and_are_described(void **state)
{
	(void)state;
	char *plain[] = {"[::1]:0"};
	struct config c = {.workers = 2,
			   .listen_host = "127.0.0.1",
			   .listen_port = 0,
			   .tls_cert_count = 1,
			   .plain_listens = plain,
			   .plain_listen_count = 1};
	struct listener_set set;
	char err[256] = "";
	assert_int_equal(listener_set_open(&set, &c, err, sizeof(err)), 0);
	assert_int_equal(set.count, 2);
	uint16_t ports[4];
	assert_int_equal(listener_set_ports(&set, ports, 4), 2);
	char text[256], want[256];
	listener_set_describe(&set, text, sizeof(text));
	snprintf(want, sizeof(want), "127.0.0.1:%u (https), [::1]:%u", ports[0], ports[1]);
	assert_string_equal(text, want);
	/* A short buffer: cut, still terminated. */
	char tiny[12];
	listener_set_describe(&set, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	listener_set_close(&set);
	assert_int_equal(set.count, 0);
}

/* A --plain-listen whose port is taken: nothing stays open, the error names it. */
static void one_address_in_use_opens_none(void **state)
{
	(void)state;
	uint16_t taken;
	int holder = hold_port(&taken);
	char plain_addr[32];
	snprintf(plain_addr, sizeof(plain_addr), "127.0.0.1:%u", taken);
	char *plain[] = {plain_addr};
	struct config c = {.workers = 2,
			   .listen_host = "127.0.0.1",
			   .listen_port = 0,
			   .plain_listens = plain,
			   .plain_listen_count = 1};
	struct listener_set set;
	char err[256] = "", want[256];
	int before = dup(0);
	close(before);
	assert_int_equal(listener_set_open(&set, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "cannot listen on 127.0.0.1:%u: Address already in use (another process is "
		 "listening there)",
		 taken);
	assert_string_equal(err, want);
	assert_int_equal(set.count, 0);
	/* The --listen sockets opened first were closed again. */
	int after = dup(0);
	assert_int_equal(after, before);
	close(after);
	close(holder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(all_listeners_open_and_are_described),
	    cmocka_unit_test(one_address_in_use_opens_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
