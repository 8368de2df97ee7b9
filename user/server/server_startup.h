/* `archeio serve` up to "ready" and back, as two calls: what server_run()
 * does around its workers and event loop, and what the start-up fault sweep
 * (tests/unit/test_fault_startup.c) drives in-process, without threads. */
#ifndef ARCHEIO_SERVER_STARTUP_H
#define ARCHEIO_SERVER_STARTUP_H

#include "archeio/core/log.h"
#include "archeio/server/config.h"

struct server;

/* Everything before the workers: the pid file check, the --user lookup, the
 * first serve state, TLS, the request limits, the listening sockets, XDP, the
 * operator's port and --user. 0 with *out (for server_close()), or the exit
 * status — 2 for bad configuration or data, 1 for what could not be opened —
 * with the reason logged and nothing left open or allocated. */
int server_open(const struct config *config, const struct logger *log, struct server **out);

/* Runs the main thread's event loop once without waiting (the operator's
 * port, timers): how a test drives a server_open()ed server, which has no
 * workers. */
void server_poll(struct server *server);

/* Closes what server_open() opened (after the workers stopped); NULL is a
 * no-op. */
void server_close(struct server *server);

#endif
