/* An archeio_xdp program that an earlier archeio left attached (--xdp-keep,
 * or a crash): found by the pins that describe it and by its name, and
 * detached, whether it runs alone or as one of libxdp's dispatcher's
 * programs. The next start takes it over (xdp_path), `archeio xdp detach`
 * removes it (xdp_detach). */
#ifndef ARCHEIO_XDP_KEPT_H
#define ARCHEIO_XDP_KEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xdp/libxdp.h>

#include "archeio/bpf_shared.h"
#include "archeio/xdp/xdp_path.h"

/* The program's name in bpf/archeio.bpf.c, as the kernel reports it. */
#define XDP_KEPT_PROG_NAME "archeio_xdp"

/* What an interface runs, as far as archeio is concerned. */
struct xdp_kept {
	uint32_t prog_id;	   /* archeio_xdp's id; 0 when it is not there */
	enum xdp_attach_mode mode; /* how it is attached */
	uint32_t other_id;	   /* else: the program the interface runs, 0 for none */
	char other_name[32];
};

/* Reads dir/attach_info: 1 read, 0 when dir holds no such pin (or one of
 * another layout, from another archeio version), -1 with err otherwise. */
int xdp_kept_read_info(const char *dir, struct attach_info *info, char *err, size_t errlen);

/* Looks for archeio_xdp on ifindex, alone or behind the dispatcher; with
 * prog_id non-zero only that program counts. */
void xdp_kept_find(int ifindex, uint32_t prog_id, struct xdp_kept *kept);

/* Detaches what xdp_kept_find() found; -1 with err. */
int xdp_kept_detach(int ifindex, const char *ifname, const struct xdp_kept *kept, char *err,
		    size_t errlen);

/* At start, before attaching: when the pins in dir describe an archeio_xdp
 * that is still attached to this interface, detaches it, removes its pins
 * and says so (the caller then attaches a new program and pins its own). Anything
 * else on the interface is left to the attach, which refuses it. The caller
 * holds dir's lock, so the program is no live server's. */
int xdp_kept_take_over(const char *dir, int ifindex, const char *ifname, xdp_path_log_fn log,
		       void *log_ctx, char *err, size_t errlen);

#endif
