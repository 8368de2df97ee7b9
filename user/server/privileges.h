/* Giving up root once start-up is done (--user, --group). The user and group
 * are looked up before anything else starts (a name that does not exist is a
 * configuration error); the switch happens after the ports are bound and XDP
 * is attached, while the process still has one thread, so that every worker
 * thread starts with the new identity. What is kept, and why, is in
 * docs/deploying.md ("Least privilege"). */
#ifndef ARCHEIO_SERVER_PRIVILEGES_H
#define ARCHEIO_SERVER_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct run_as {
	uid_t uid;
	gid_t gid;
	char user[72];	 /* as the passwd entry names it, or the number given */
	char group[72];	 /* likewise for the group */
	bool user_known; /* a passwd entry exists: supplementary groups come from it */
};

/* Looks up user and group (group NULL: the user's own group). Names, or
 * decimal numbers, which need no entry. -1 with "--user: no such user: X". */
int privileges_resolve(const char *user, const char *group, struct run_as *out, char *err,
		       size_t errlen);

/* The capabilities (bit 1 << CAP_x) the server keeps after the switch: none
 * without XDP; with XDP CAP_BPF, because a reload creates new LPM tries (the
 * kernel wants CAP_BPF for every LPM_TRIE map) and, on kernels before 6.5
 * with unprivileged BPF disabled, every bpf() call (conn_tags included) does.
 * last_cap is the kernel's highest capability number: a kernel without
 * CAP_BPF (before 5.8) needs CAP_SYS_ADMIN instead. */
uint64_t privileges_needed(bool xdp, int last_cap);
/* What the XDP exit helper keeps (it stays root): CAP_NET_ADMIN for the
 * netlink request that detaches, CAP_SYS_ADMIN for libxdp's lookups of its
 * dispatcher by id, CAP_DAC_OVERRIDE to remove the pins from the directory
 * the server was given. */
uint64_t privileges_for_detaching(void);
/* "cap_bpf,cap_net_admin", or "none". */
void privileges_describe(uint64_t caps, char *buf, size_t len);
/* The kernel's highest capability number (/proc/sys/kernel/cap_last_cap). */
int privileges_last_cap(void);

/* Switches every id to who (supplementary groups: the user's, from the group
 * database, or none for a bare number), keeps exactly `keep` as permitted and
 * effective capabilities, clears the inheritable and ambient sets and (when
 * allowed to) the bounding set, sets no_new_privs, and checks that none of it
 * can be undone. Call with one thread. -1 with the step that failed in err. */
int privileges_drop(const struct run_as *who, uint64_t keep, char *err, size_t errlen);
/* Reduces this process to `keep` (and the bounding set to it), without
 * changing user: for the helper that stays root to detach XDP. Of `keep`,
 * what the process does not have is not asked for. */
int privileges_limit(uint64_t keep, char *err, size_t errlen);

#endif
