/* The redirector's process: N worker event loops on SO_REUSEPORT sockets,
 * SIGHUP reload, graceful SIGTERM/SIGINT. */
#ifndef ARCHEIO_SERVER_H
#define ARCHEIO_SERVER_H

#include "archeio/server/config.h"
#include "archeio/core/log.h"

/* Runs until SIGTERM/SIGINT. Returns the process exit status: 0 after a
 * clean stop, 2 for bad ranges/mirror files at start, 1 for other failures. */
int server_run(const struct config *config, const struct logger *log);

#endif
