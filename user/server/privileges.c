/* Giving up root after start-up (see privileges.h). Capabilities through the
 * raw capget/capset calls: two 32-bit words, no libcap needed. */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archeio/core/options.h"

#define CAP_BIT(cap) (UINT64_C(1) << (cap))

static const char *const cap_names[] = {
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
};
#define CAP_NAME_COUNT (int)(sizeof(cap_names) / sizeof(cap_names[0]))
/* Capability numbers this file names, from linux/capability.h of any age. */
enum { CAP_NUM_BPF = 39 };

static int failed(char *err, size_t errlen, const char *what, int error)
{
	snprintf(err, errlen, "%s: %s", what, strerror(error));
	return -1;
}

static bool parse_id(const char *text, unsigned long *id)
{
	/* (uid_t)-1 means "unchanged" to the set*id calls: never an id. */
	return options_parse_uint(text, 0, 0xfffffffeUL, id);
}

static int resolve_user(const char *user, struct run_as *out, char *err, size_t errlen)
{
	struct passwd entry, *found = NULL;
	char buf[4096];
	unsigned long id;
	bool numeric = parse_id(user, &id);

	if (getpwnam_r(user, &entry, buf, sizeof(buf), &found) != 0)
		found = NULL;
	if (!found && numeric && getpwuid_r((uid_t)id, &entry, buf, sizeof(buf), &found) != 0)
		found = NULL;
	if (found) {
		out->uid = found->pw_uid;
		out->gid = found->pw_gid;
		out->user_known = true;
		snprintf(out->user, sizeof(out->user), "%s", found->pw_name);
		return 0;
	}
	if (!numeric) {
		snprintf(err, errlen, "--user: no such user: %s", user);
		return -1;
	}
	/* A bare number (a container's user): its own number as group, no others. */
	out->uid = (uid_t)id;
	out->gid = (gid_t)id;
	snprintf(out->user, sizeof(out->user), "%lu", id);
	return 0;
}

static int resolve_group(const char *group, struct run_as *out, char *err, size_t errlen)
{
	struct group entry, *found = NULL;
	char buf[16384];
	unsigned long id;

	if (group && getgrnam_r(group, &entry, buf, sizeof(buf), &found) == 0 && found)
		out->gid = found->gr_gid;
	else if (group && parse_id(group, &id))
		out->gid = (gid_t)id;
	else if (group) {
		snprintf(err, errlen, "--group: no such group: %s", group);
		return -1;
	}
	found = NULL;
	if (getgrgid_r(out->gid, &entry, buf, sizeof(buf), &found) == 0 && found)
		snprintf(out->group, sizeof(out->group), "%s", found->gr_name);
	else
		snprintf(out->group, sizeof(out->group), "%lu", (unsigned long)out->gid);
	return 0;
}

int privileges_resolve(const char *user, const char *group, struct run_as *out, char *err,
		       size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (resolve_user(user, out, err, errlen) != 0)
		return -1;
	return resolve_group(group, out, err, errlen);
}

uint64_t privileges_needed(bool xdp, int last_cap)
{
	if (!xdp)
		return 0;
	return last_cap >= CAP_NUM_BPF ? CAP_BIT(CAP_NUM_BPF) : CAP_BIT(CAP_SYS_ADMIN);
}

uint64_t privileges_for_detaching(void)
{
	return CAP_BIT(CAP_NET_ADMIN) | CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_DAC_OVERRIDE);
}

void privileges_describe(uint64_t caps, char *buf, size_t len)
{
	size_t used = 0;

	snprintf(buf, len, "none");
	for (int cap = 0; cap < 64 && used < len; cap++) {
		if (!(caps & CAP_BIT(cap)))
			continue;
		int n =
		    cap < CAP_NAME_COUNT
			? snprintf(buf + used, len - used, "%s%s", used ? "," : "", cap_names[cap])
			: snprintf(buf + used, len - used, "%scap_%d", used ? "," : "", cap);
		used += n > 0 ? (size_t)n : 0;
	}
}

int privileges_last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int last = -1;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	if (last < 0) /* no /proc: ask the bounding set, which knows every number */
		for (last = 0; prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0; last++)
			;
	return last > 63 ? 63 : last;
}

static int set_caps(uint64_t keep, char *err, size_t errlen)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	for (int word = 0; word < 2; word++) {
		data[word].effective = (uint32_t)(keep >> (32 * word));
		data[word].permitted = (uint32_t)(keep >> (32 * word));
	}
	if (syscall(SYS_capset, &header, data) != 0)
		return failed(err, errlen, "capset", errno);
	/* Ambient capabilities would survive an exec; there is none to make. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return failed(err, errlen, "clearing the ambient capabilities", errno);
	return 0;
}

static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data) != 0)
		return 0;
	return (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
}

static uint64_t permitted_caps(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data) != 0)
		return UINT64_MAX;
	return (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
}

/* Without CAP_SETPCAP the bounding set cannot shrink; no_new_privs then
 * keeps an exec from gaining anything through it. */
static int limit_bounding_set(uint64_t keep, char *err, size_t errlen)
{
	int last = privileges_last_cap();

	if (!(effective_caps() & CAP_BIT(CAP_SETPCAP)))
		return 0;
	for (int cap = 0; cap <= last; cap++) {
		if ((keep & CAP_BIT(cap)) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			char what[96];

			snprintf(what, sizeof(what), "dropping %s from the bounding set",
				 cap < CAP_NAME_COUNT ? cap_names[cap] : "a capability");
			return failed(err, errlen, what, errno);
		}
	}
	return 0;
}

static int thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int threads = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &threads) == 1)
			break;
	fclose(f);
	return threads;
}

static bool ids_are(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	return getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0 && ru == uid &&
	       eu == uid && su == uid && rg == gid && eg == gid && sg == gid;
}

static int switch_ids(const struct run_as *who, char *err, size_t errlen)
{
	if (ids_are(who->uid, who->gid))
		return 0; /* already that user: nothing to switch (and no right to) */
	if (who->user_known ? initgroups(who->user, who->gid) != 0 : setgroups(1, &who->gid) != 0)
		return failed(err, errlen, "setgroups", errno);
	if (setresgid(who->gid, who->gid, who->gid) != 0)
		return failed(err, errlen, "setresgid", errno);
	if (setresuid(who->uid, who->uid, who->uid) != 0)
		return failed(err, errlen, "setresuid", errno);
	return 0;
}

/* What must hold afterwards, checked rather than assumed. */
static int verify(const struct run_as *who, uint64_t keep, char *err, size_t errlen)
{
	if (!ids_are(who->uid, who->gid)) {
		snprintf(err, errlen, "the user and group ids did not all change");
		return -1;
	}
	if (who->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root could be regained after the switch");
		return -1;
	}
	if (effective_caps() != keep || permitted_caps() != keep) {
		snprintf(err, errlen, "capabilities beyond the kept ones remain");
		return -1;
	}
	return 0;
}

int privileges_drop(const struct run_as *who, uint64_t keep, char *err, size_t errlen)
{
	int threads = thread_count();

	if (threads != 1) {
		snprintf(err, errlen,
			 "%d threads run, so not all of them would change user (this is a bug)",
			 threads);
		return -1;
	}
	if (limit_bounding_set(keep, err, errlen) != 0)
		return -1;
	/* Keep the permitted set across setresuid; capset trims it right after. */
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		return failed(err, errlen, "PR_SET_KEEPCAPS", errno);
	if (switch_ids(who, err, errlen) != 0)
		return -1;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (set_caps(keep, err, errlen) != 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return failed(err, errlen, "PR_SET_NO_NEW_PRIVS", errno);
	return verify(who, keep, err, errlen);
}

int privileges_limit(uint64_t keep, char *err, size_t errlen)
{
	/* Started with fewer (a narrower bounding set): keep what there is. */
	keep &= permitted_caps();
	if (limit_bounding_set(keep, err, errlen) != 0 || set_caps(keep, err, errlen) != 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return failed(err, errlen, "PR_SET_NO_NEW_PRIVS", errno);
	return 0;
}
