/* --user: looking up the user and group, the capabilities kept, and (as
 * root, in a child process) the switch itself: every id changed, only the
 * kept capabilities left, no way back. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/privileges.h"

#define BIT(cap) (UINT64_C(1) << (cap))
enum { NET_ADMIN = 12, SYS_ADMIN = 21, DAC_OVERRIDE = 1, BPF = 39 };

static void kept_capabilities(void **state)
{
	(void)state;
	assert_int_equal(privileges_needed(false, 40), 0);
	assert_int_equal(privileges_needed(false, 37), 0);
	assert_int_equal(privileges_needed(true, 40), BIT(BPF));
	assert_int_equal(privileges_needed(true, 39), BIT(BPF));
	/* A kernel older than CAP_BPF (5.8) checks CAP_SYS_ADMIN instead. */
	assert_int_equal(privileges_needed(true, 38), BIT(SYS_ADMIN));
	assert_int_equal(privileges_for_detaching(),
			 BIT(NET_ADMIN) | BIT(SYS_ADMIN) | BIT(DAC_OVERRIDE));
	int last = privileges_last_cap();
	assert_true(last >= 36 && last <= 63);
}

static void describing(void **state)
{
	(void)state;
	char buf[256];
	privileges_describe(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	privileges_describe(BIT(BPF), buf, sizeof(buf));
	assert_string_equal(buf, "cap_bpf");
	privileges_describe(privileges_for_detaching(), buf, sizeof(buf));
	assert_string_equal(buf, "cap_dac_override,cap_net_admin,cap_sys_admin");
	privileges_describe(BIT(0) | BIT(45), buf, sizeof(buf));
	assert_string_equal(buf, "cap_chown,cap_45");
	char tiny[8];
	privileges_describe(BIT(NET_ADMIN) | BIT(BPF), tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1); /* cut, terminated */
}

static void resolving(void **state)
{
	(void)state;
	struct run_as who;
	char err[256] = "";
	assert_int_equal(privileges_resolve("root", NULL, &who, err, sizeof(err)), 0);
	assert_int_equal(who.uid, 0);
	assert_int_equal(who.gid, 0);
	assert_string_equal(who.user, "root");
	assert_string_equal(who.group, "root");
	assert_true(who.user_known);

	/* A number with an entry is that entry. */
	assert_int_equal(privileges_resolve("0", NULL, &who, err, sizeof(err)), 0);
	assert_string_equal(who.user, "root");
	assert_true(who.user_known);

	/* A bare number needs no entry: its own number as group, no others. */
	assert_int_equal(privileges_resolve("4000000", NULL, &who, err, sizeof(err)), 0);
	assert_int_equal(who.uid, 4000000);
	assert_int_equal(who.gid, 4000000);
	assert_string_equal(who.user, "4000000");
	assert_string_equal(who.group, "4000000");
	assert_false(who.user_known);

	assert_int_equal(privileges_resolve("root", "4000001", &who, err, sizeof(err)), 0);
	assert_int_equal(who.uid, 0);
	assert_int_equal(who.gid, 4000001);

	assert_int_equal(privileges_resolve("archeio-no-such-user", NULL, &who, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "--user: no such user: archeio-no-such-user");
	assert_int_equal(
	    privileges_resolve("root", "archeio-no-such-group", &who, err, sizeof(err)), -1);
	assert_string_equal(err, "--group: no such group: archeio-no-such-group");
	/* (uid_t)-1 means "unchanged" to setresuid: never a user. */
	assert_int_equal(privileges_resolve("4294967295", NULL, &who, err, sizeof(err)), -1);
	assert_string_equal(err, "--user: no such user: 4294967295");
}

/* The child's verdict: 0, or the number of the check that failed. */
static int switch_in_child(uint64_t keep)
{
	struct run_as who;
	char err[256];
	if (privileges_resolve("4000002", "4000003", &who, err, sizeof(err)) != 0)
		return 1;
	if (privileges_drop(&who, keep, err, sizeof(err)) != 0) {
		fprintf(stderr, "drop: %s\n", err);
		return 2;
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) != 0 || r != 4000002 || e != 4000002 || s != 4000002)
		return 3;
	if (getresgid(&rg, &eg, &sg) != 0 || rg != 4000003 || eg != 4000003 || sg != 4000003)
		return 4;
	gid_t groups[4];
	if (getgroups(4, groups) != 1 || groups[0] != 4000003)
		return 5;
	if (setuid(0) == 0 || setgid(0) == 0)
		return 6;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 7;
	for (int cap = 0; cap <= privileges_last_cap(); cap++)
		if ((prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) != ((keep & BIT(cap)) != 0))
			return 8;
	return 0;
}

static int run_child(uint64_t keep)
{
	pid_t pid = fork();
	if (pid == 0)
		exit(switch_in_child(
		    keep)); /* exit, not _exit: coverage counts are written at exit */
	int status = -1;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* Runs fn in a child process (the switches cannot be undone); its verdict. */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0)
		exit(fn()); /* exit, not _exit: coverage counts are written at exit */
	int status = -1;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void switching(void **state)
{
	(void)state;
	if (getuid() != 0) {
		fprintf(stderr, "switching: skipped, needs root\n");
		skip();
	}
	assert_int_equal(run_child(0), 0);
	assert_int_equal(run_child(BIT(BPF)), 0);
}

static void switching_needs_the_right_to(void **state)
{
	(void)state;
	pid_t pid = fork();
	if (pid == 0) {
		struct run_as me, other;
		char err[256] = "";
		/* As a user without capabilities: becoming another user must fail. */
		if (getuid() == 0) {
			privileges_resolve("4000004", NULL, &me, err, sizeof(err));
			if (privileges_drop(&me, 0, err, sizeof(err)) != 0)
				exit(1);
		}
		privileges_resolve("0", NULL, &other, err, sizeof(err));
		if (privileges_drop(&other, 0, err, sizeof(err)) != -1)
			exit(2);
		exit(strstr(err, "setgroups: Operation not permitted") ? 0 : 3);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The child's verdict for switching to the user it already is (a second
 * drop, as after a restart inside a container started as that user). */
static int switch_twice_in_child(void)
{
	struct run_as who;
	char err[256] = "";
	if (privileges_resolve("4000005", NULL, &who, err, sizeof(err)) != 0)
		return 1;
	if (privileges_drop(&who, 0, err, sizeof(err)) != 0)
		return 2;
	if (privileges_drop(&who, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "second drop: %s\n", err);
		return 3;
	}
	uid_t r, e, s;
	return getresuid(&r, &e, &s) == 0 && r == 4000005 && e == 4000005 && s == 4000005 ? 0 : 4;
}

static void switching_to_the_same_user_again(void **state)
{
	(void)state;
	if (getuid() != 0) {
		fprintf(stderr, "switching: skipped, needs root\n");
		skip();
	}
	assert_int_equal(in_child(switch_twice_in_child), 0);
}

/* Blocks until its pipe is closed. */
static void *waiting_thread(void *arg)
{
	char byte;
	while (read(*(int *)arg, &byte, 1) > 0)
		;
	return NULL;
}

/* Another thread would keep its ids: the switch is refused before any change. */
static int refused_with_threads_in_child(void)
{
	pthread_t t;
	int hold[2];
	if (pipe(hold) != 0 || pthread_create(&t, NULL, waiting_thread, &hold[0]) != 0)
		return 1;
	/* Released only after the attempt: two threads while it runs. */
	struct run_as who;
	char err[256] = "";
	privileges_resolve("4000006", NULL, &who, err, sizeof(err));
	uid_t before = geteuid();
	int rc = privileges_drop(&who, 0, err, sizeof(err));
	close(hold[1]);
	pthread_join(t, NULL);
	if (rc != -1 || geteuid() != before)
		return 2;
	return strcmp(err, "2 threads run, so not all of them would change user (this is a bug)") ==
		       0
		   ? 0
		   : 3;
}

static void switching_refused_with_threads(void **state)
{
	(void)state;
	assert_int_equal(in_child(refused_with_threads_in_child), 0);
}

/* The XDP exit helper's limit: only the detaching capabilities stay, in every
 * set and in the bounding set, and no exec can gain more. */
static int limit_in_child(void)
{
	char err[256] = "";
	uint64_t keep = privileges_for_detaching();
	if (privileges_limit(keep, err, sizeof(err)) != 0) {
		fprintf(stderr, "limit: %s\n", err);
		return 1;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 2;
	for (int cap = 0; cap <= privileges_last_cap(); cap++)
		if ((prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) != ((keep & BIT(cap)) != 0))
			return 3;
	/* Limiting again to less than is left works; to more keeps what is left. */
	if (privileges_limit(UINT64_MAX, err, sizeof(err)) != 0)
		return 4;
	for (int cap = 0; cap <= privileges_last_cap(); cap++)
		if ((prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) != ((keep & BIT(cap)) != 0))
			return 5;
	return 0;
}

static void limiting_for_the_exit_helper(void **state)
{
	(void)state;
	if (getuid() != 0) {
		fprintf(stderr, "limiting: skipped, needs root\n");
		skip();
	}
	assert_int_equal(in_child(limit_in_child), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kept_capabilities),
	    cmocka_unit_test(describing),
	    cmocka_unit_test(resolving),
	    cmocka_unit_test(switching),
	    cmocka_unit_test(switching_needs_the_right_to),
	    cmocka_unit_test(switching_to_the_same_user_again),
	    cmocka_unit_test(switching_refused_with_threads),
	    cmocka_unit_test(limiting_for_the_exit_helper),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
