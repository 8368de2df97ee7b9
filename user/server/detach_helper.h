/* The process that detaches XDP when a server that gave up root exits.
 *
 * Detaching needs more than the server keeps after --user: CAP_NET_ADMIN for
 * the netlink request, CAP_SYS_ADMIN for libxdp's lookups of its dispatcher
 * by id, root's ownership of libxdp's pins under /sys/fs/bpf/xdp (mode 0700)
 * and CAP_DAC_OVERRIDE for the pins in the directory the server was given.
 * So, before the switch, the server forks this helper: it keeps root
 * with those capabilities and nothing else, closes every descriptor but its
 * pipe, ignores the stop signals and reads the pipe. When the pipe closes -
 * the server exiting, or dying - it detaches the program, removes the pins
 * and exits. */
#ifndef ARCHEIO_SERVER_DETACH_HELPER_H
#define ARCHEIO_SERVER_DETACH_HELPER_H

#include <stddef.h>
#include <sys/types.h>

#include "archeio/core/log.h"

struct xdp_path;

struct detach_helper {
	pid_t pid; /* 0: none */
	int pipe_fd;
};

/* Forks the helper (call with one thread); from then on the server's own
 * xdp_path_close() leaves the detaching to it. -1 with err on failure. */
int detach_helper_start(struct detach_helper *helper, struct xdp_path *path,
			const struct logger *log, char *err, size_t errlen);
/* Lets the helper detach and waits until it has (the server's maps must be
 * closed first). No-op without a helper. */
void detach_helper_finish(struct detach_helper *helper);

#endif
