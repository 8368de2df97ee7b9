/* Routes libbpf's and libxdp's own messages into archeio's log, so JSON logs
 * stay JSON and every line carries a level and a time. */
#ifndef ARCHEIO_LIBRARY_LOG_H
#define ARCHEIO_LIBRARY_LOG_H

#include <stdbool.h>

#include "archeio/core/log.h"

/* The libraries' print hooks are process-wide and take no context, so the
 * logger they write to is process-wide too: set once at start, before any
 * BPF call, and left until exit. Debug messages are dropped below debug. */
void library_log_install(const struct logger *log);

/* Holds the libraries' messages from now until library_log_release(), for a
 * call whose expected failures are noise when it succeeds: libxdp probing for
 * its dispatcher makes libbpf warn of a failed load (and suggest `ulimit -l`)
 * on kernels that refuse the dispatcher, although the attach then succeeds.
 * Without an installed logger both are no-ops. */
void library_log_hold(void);
/* Ends the hold: the held messages are logged at their own level when the call
 * failed (they may say why), at debug when it succeeded (the caller says in
 * one line what the outcome means). */
void library_log_release(bool succeeded);

#endif
