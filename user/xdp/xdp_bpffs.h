/* The bpf filesystem directory archeio pins its maps in. */
#ifndef ARCHEIO_XDP_BPFFS_H
#define ARCHEIO_XDP_BPFFS_H

#include <stdbool.h>
#include <stddef.h>

#define XDP_BPFFS_DEFAULT_DIR "/sys/fs/bpf/archeio"

/* Makes sure dir exists on a bpf filesystem, creating missing directories
 * (mode 0700). -1 with a message naming the directory, and how to mount bpffs
 * when that is what is missing. */
int xdp_bpffs_prepare_dir(const char *dir, char *err, size_t errlen);

/* Whether dir, or its deepest existing parent, is on a bpf filesystem here:
 * false under `ip netns exec`, which mounts a fresh /sys without bpffs. */
bool xdp_bpffs_visible(const char *dir);

/* Takes the directory for this process (flock, released when the fd closes or
 * the process ends, however it ends): a pin directory belongs to one archeio,
 * so a start never takes over, or unpins, a live server's program. Returns
 * the fd to keep, or -1 with a message (naming the directory when another
 * process holds it). */
int xdp_bpffs_lock(const char *dir, char *err, size_t errlen);

/* Whether some process (a running server) holds dir's lock now. */
bool xdp_bpffs_locked(const char *dir);

/* Whether the path dir still names the directory open as fd: 1 yes; 0 no (it
 * is gone — bpffs unmounted, the directory removed — or another directory is
 * there now), with the reason in why; -1 when this process cannot look (e.g.
 * after --user, parents only root may search). */
int xdp_bpffs_same_dir(const char *dir, int fd, char *why, size_t whylen);

/* Writes dir/name into buf; -1 with a message when it does not fit. */
int xdp_bpffs_path(char *buf, size_t buflen, const char *dir, const char *name, char *err,
		   size_t errlen);

#endif
