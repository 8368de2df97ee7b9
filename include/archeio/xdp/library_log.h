/* Routes libbpf's and libxdp's own messages into archeio's log, so JSON logs
 * stay JSON and every line carries a level and a time. */
#ifndef ARCHEIO_LIBRARY_LOG_H
#define ARCHEIO_LIBRARY_LOG_H

#include "archeio/core/log.h"

/* The libraries' print hooks are process-wide and take no context, so the
 * logger they write to is process-wide too: set once at start, before any
 * BPF call, and left until exit. Debug messages are dropped below debug. */
void library_log_install(const struct logger *log);

#endif
