/* `archeio xdp detach`: removes what a server left behind with --xdp-keep
 * (or by crashing): the archeio_xdp program on its interface and the pins in
 * its bpffs directory; stale pins with no program go too. Run in the
 * interface's network namespace with bpffs visible (`nsenter --net=...`, not
 * `ip netns exec`), and not while that server runs: a live server holds its
 * directory, and detach refuses it. */
#ifndef ARCHEIO_XDP_DETACH_H
#define ARCHEIO_XDP_DETACH_H

#include <stddef.h>
#include <stdio.h>

/* iface NULL: the interface the pins in bpffs_dir record. Only the program
 * those pins name is detached; without pins that describe it, a program named
 * archeio_xdp on an iface given explicitly. Anything else on the interface is
 * left alone. Prints what it detached and removed (or that there was nothing)
 * to out; 0, or -1 with err (nothing in use is touched). */
int xdp_detach_run(const char *bpffs_dir, const char *iface, FILE *out, char *err, size_t errlen);

#endif
