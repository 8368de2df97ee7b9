/* libxdp attachment with explicit, logged fall backs. */
#include "xdp_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "archeio/xdp/library_log.h"

static void log_line(xdp_path_log_fn log, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void log_line(xdp_path_log_fn log, void *ctx, const char *fmt, ...)
{
	char line[512];
	va_list args;

	if (!log)
		return;
	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	log(ctx, line);
}

static const char *mode_word(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_NATIVE ? "native" : "skb";
}

static void describe_error(int rc, const char *ifname, enum xdp_attach_mode mode, char *err,
			   size_t errlen)
{
	char reason[128];

	libxdp_strerror(rc, reason, sizeof(reason));
	if (rc == -EPERM || rc == -EACCES)
		snprintf(err, errlen,
			 "attaching XDP to %s was refused (%s); it needs CAP_BPF, CAP_NET_ADMIN "
			 "and CAP_PERFMON (or root)",
			 ifname, reason);
	else if (rc == -EEXIST || rc == -EBUSY)
		snprintf(err, errlen,
			 "%s already has an XDP program that libxdp cannot share (%s); remove it "
			 "with `xdp-loader unload %s --all` or `ip link set dev %s xdp off`",
			 ifname, reason, ifname, ifname);
	else if (mode == XDP_MODE_NATIVE)
		snprintf(err, errlen,
			 "native XDP attach on %s refused (%s); the driver may lack native XDP: "
			 "use --xdp-mode skb or auto",
			 ifname, reason);
	else
		snprintf(err, errlen, "cannot attach XDP to %s in %s mode: %s", ifname,
			 mode_word(mode), reason);
}

/* Whether libxdp fell back to attaching the program alone: the interface
 * runs our program itself, not libxdp's dispatcher. Asked of the kernel, not
 * through xdp_multiprog__get_from_ifindex(), whose legacy object leaks a
 * program fd at each close (found by tests/unit/test_fault_xdp.c). */
static bool attached_without_dispatcher(int ifindex, enum xdp_attach_mode mode, uint32_t prog_id)
{
	uint32_t id = 0;
	int flags = mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;

	if (bpf_xdp_query_id(ifindex, flags, &id) != 0)
		return true;
	return id == prog_id;
}

/* The attach itself: native first under auto, falling back to skb mode. */
static int attach_in_mode(struct xdp_program *prog, int ifindex, const char *ifname,
			  enum xdp_path_mode mode, xdp_path_log_fn log, void *log_ctx,
			  enum xdp_attach_mode *attach_mode)
{
	int rc;

	*attach_mode = mode == XDP_PATH_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	rc = xdp_program__attach(prog, ifindex, *attach_mode, 0);
	if (rc && mode == XDP_PATH_MODE_AUTO && rc != -EPERM && rc != -EACCES && rc != -EEXIST &&
	    rc != -EBUSY) {
		char reason[128];

		libxdp_strerror(rc, reason, sizeof(reason));
		log_line(log, log_ctx,
			 "native mode refused on %s (%s); falling back to skb (generic) mode",
			 ifname, reason);
		*attach_mode = XDP_MODE_SKB;
		rc = xdp_program__attach(prog, ifindex, *attach_mode, 0);
	}
	return rc;
}

int xdp_attach_program(struct bpf_object *obj, int ifindex, const char *ifname,
		       enum xdp_path_mode mode, xdp_path_log_fn log, void *log_ctx,
		       struct xdp_attachment *out, char *err, size_t errlen)
{
	enum xdp_attach_mode attach_mode;
	struct xdp_program *prog;
	int rc;

	memset(out, 0, sizeof(*out));
	/* libxdp first tries to load its dispatcher; where the kernel refuses
	 * it, libbpf warns of a failed load (and suggests `ulimit -l`) although
	 * the attach then succeeds alone. Those messages only matter if the
	 * attach fails: held until the outcome is known. */
	library_log_hold();
	prog = xdp_program__from_bpf_obj(obj, "xdp");
	rc = (int)libxdp_get_error(prog);
	if (rc || !prog) {
		library_log_release(false);
		snprintf(err, errlen, "libxdp cannot use the archeio XDP program: %s",
			 strerror(rc ? -rc : EINVAL));
		return -1;
	}
	rc = attach_in_mode(prog, ifindex, ifname, mode, log, log_ctx, &attach_mode);
	if (rc) {
		library_log_release(false);
		describe_error(rc, ifname, attach_mode, err, errlen);
		xdp_program__close(prog);
		return -1;
	}
	out->prog = prog;
	out->ifindex = ifindex;
	out->mode = attach_mode == XDP_MODE_SKB ? XDP_PATH_MODE_SKB : XDP_PATH_MODE_NATIVE;
	out->prog_id = xdp_program__id(prog);
	out->legacy = attached_without_dispatcher(ifindex, attach_mode, out->prog_id);
	library_log_release(true);
	if (out->legacy)
		log_line(log, log_ctx,
			 "libxdp's multi-program dispatcher cannot be loaded on this kernel, so "
			 "archeio_xdp runs on %s alone (single-program mode): it works fully, but "
			 "no other XDP program can share %s while it is attached (details of "
			 "libxdp's probe at --log-level debug)",
			 ifname, ifname);
	return 0;
}

/* Alone on the interface: detached by the kernel call, and only while the
 * interface still runs this program (a program someone attached since stays).
 * The fd naming it is taken afresh by id: the exit helper closed the fds it
 * inherited. Not xdp_program__detach(), which looks the interface up as a
 * legacy multiprog and leaks a program fd (tests/unit/test_fault_xdp.c). */
static void detach_alone(const struct xdp_attachment *attachment)
{
	int fd = bpf_prog_get_fd_by_id(attachment->prog_id);

	if (fd < 0)
		return; /* gone: nothing of ours can be attached */
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);
	bpf_xdp_detach(
	    attachment->ifindex,
	    attachment->mode == XDP_PATH_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, &opts);
	close(fd);
}

void xdp_attach_release(struct xdp_attachment *attachment, bool keep)
{
	if (!attachment->prog)
		return;
	if (!keep && attachment->legacy)
		detach_alone(attachment);
	else if (!keep)
		xdp_program__detach(
		    attachment->prog, attachment->ifindex,
		    attachment->mode == XDP_PATH_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	xdp_program__close(attachment->prog);
	attachment->prog = NULL;
}
