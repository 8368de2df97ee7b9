/* Attaching the loaded-by-libxdp program to an interface, with the fall
 * backs the operator must hear about (native -> skb under auto, libxdp's
 * dispatcher -> a single program). */
#ifndef ARCHEIO_XDP_ATTACH_H
#define ARCHEIO_XDP_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/xdp/xdp_path.h"

struct bpf_object;
struct xdp_program;

struct xdp_attachment {
	struct xdp_program *prog;
	int ifindex;
	enum xdp_path_mode mode; /* native or skb */
	bool legacy;		 /* attached without libxdp's dispatcher */
	uint32_t prog_id;
};

/* Loads (through libxdp) and attaches the object's XDP program. On failure
 * nothing stays attached and err says why, naming the interface. */
int xdp_attach_program(struct bpf_object *obj, int ifindex, const char *ifname,
		       enum xdp_path_mode mode, xdp_path_log_fn log, void *log_ctx,
		       struct xdp_attachment *out, char *err, size_t errlen);
/* Detaches (unless keep) and releases the libxdp handle. */
void xdp_attach_release(struct xdp_attachment *attachment, bool keep);

#endif
