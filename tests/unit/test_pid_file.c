/* The pid file of `archeio serve --pid-file`: parsing, telling a running
 * archeio from a dead or reused pid (through a fake /proc), refusing a live
 * one, replacing a stale one, atomic write, removal only of our own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/pid_file.h"

struct fixture {
	char dir[64];	/* a scratch directory for pid files */
	char proc[96];	/* a fake /proc in it */
	char path[128]; /* the pid file */
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A process in the fake /proc: comm and argv (NUL-separated, as the kernel
 * shows them); comm NULL makes a directory without files. */
static void fake_process(const struct fixture *f, pid_t pid, const char *comm, const char *argv,
			 size_t argv_len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%d", f->proc, (int)pid);
	assert_int_equal(mkdir(path, 0755), 0);
	if (!comm)
		return;
	snprintf(path, sizeof(path), "%s/%d/comm", f->proc, (int)pid);
	write_text(path, comm);
	snprintf(path, sizeof(path), "%s/%d/cmdline", f->proc, (int)pid);
	FILE *c = fopen(path, "w");
	assert_non_null(c);
	fwrite(argv, 1, argv_len, c);
	fclose(c);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/archeio-pidfile-XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->dir);
	snprintf(f->path, sizeof(f->path), "%s/archeio.pid", f->dir);
	if (mkdir(f->proc, 0755) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(pid_file_parse("1234\n", 5), 1234);
	assert_int_equal(pid_file_parse("1234", 4), 1234);
	assert_int_equal(pid_file_parse("  77 \r\n", 7), 77);
	assert_int_equal(pid_file_parse("", 0), 0);
	assert_int_equal(pid_file_parse("\n", 1), 0);
	assert_int_equal(pid_file_parse("0\n", 2), 0);
	assert_int_equal(pid_file_parse("-5\n", 3), 0);
	assert_int_equal(pid_file_parse("12a\n", 4), 0);
	assert_int_equal(pid_file_parse("12 34\n", 6), 0);
	assert_int_equal(pid_file_parse("99999999999999999999\n", 21), 0);
	/* Only the given length counts. */
	assert_int_equal(pid_file_parse("1234", 2), 12);
}

static void test_is_archeio(void **state)
{
	struct fixture *f = *state;
	fake_process(f, 100, "archeio\n", "build/archeio\0serve\0", 20);
	fake_process(f, 101, "sshd\n", "sshd: /usr/sbin/sshd\0", 21);
	fake_process(f, 102, "archeio-mirror\n", "build/archeio-mirror\0", 21);
	/* Renamed thread or wrapper: argv[0] still says archeio. */
	fake_process(f, 103, "worker\n", "/opt/archeio/bin/archeio\0serve\0", 31);
	fake_process(f, 104, NULL, NULL, 0); /* gone while we looked */
	assert_true(pid_is_archeio(f->proc, 100));
	assert_false(pid_is_archeio(f->proc, 101));
	assert_false(pid_is_archeio(f->proc, 102));
	assert_true(pid_is_archeio(f->proc, 103));
	assert_false(pid_is_archeio(f->proc, 104));
	assert_false(pid_is_archeio(f->proc, 105)); /* no such process */
}

static void test_check_absent(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	pid_t stale = -1;
	assert_int_equal(pid_file_check(f->path, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_ABSENT);
	assert_int_equal(stale, 0);
}

static void test_check_live_archeio_refused(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", want[256];
	pid_t stale = -1;
	fake_process(f, 4242, "archeio\n", "archeio\0", 8);
	write_text(f->path, "4242\n");
	assert_int_equal(pid_file_check(f->path, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_BUSY);
	snprintf(want, sizeof(want),
		 "--pid-file %s: archeio is already running as pid 4242 (stop it, or give "
		 "another --pid-file)",
		 f->path);
	assert_string_equal(err, want);
	assert_string_equal(read_text(f->path), "4242\n");
}

static void test_check_stale(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	pid_t stale = 0;
	/* Dead. */
	write_text(f->path, "4243\n");
	assert_int_equal(pid_file_check(f->path, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_STALE);
	assert_int_equal(stale, 4243);
	/* Reused by another program. */
	fake_process(f, 4244, "sshd\n", "sshd\0", 5);
	write_text(f->path, "4244\n");
	assert_int_equal(pid_file_check(f->path, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_STALE);
	assert_int_equal(stale, 4244);
	/* Ourselves (a container restarted with the same pid). */
	fake_process(f, 500, "archeio\n", "archeio\0", 8);
	write_text(f->path, "500\n");
	assert_int_equal(pid_file_check(f->path, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_STALE);
	assert_int_equal(stale, 500);
	/* Not a pid at all (a truncated write). */
	write_text(f->path, "");
	assert_int_equal(pid_file_check(f->path, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_STALE);
	assert_int_equal(stale, 0);
}

static void test_check_unusable(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", path[192], want[512];
	pid_t stale;
	snprintf(path, sizeof(path), "%s/missing/archeio.pid", f->dir);
	assert_int_equal(pid_file_check(path, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_BUSY);
	snprintf(want, sizeof(want),
		 "--pid-file %s: cannot write in %s/missing: No such file or directory", path,
		 f->dir);
	assert_string_equal(err, want);
	/* A directory where the file should be. */
	assert_int_equal(pid_file_check(f->proc, f->proc, 500, &stale, err, sizeof(err)),
			 PID_FILE_BUSY);
	snprintf(want, sizeof(want), "--pid-file %s: not a regular file", f->proc);
	assert_string_equal(err, want);
}

static void test_write_and_remove(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	write_text(f->path, "4243\n"); /* stale: replaced */
	assert_int_equal(pid_file_write(f->path, 500, err, sizeof(err)), 0);
	assert_string_equal(read_text(f->path), "500\n");
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* Only the file and the fake /proc: no temporary file left. */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s' | tr '\\n' ' ')\" = 'archeio.pid proc '",
		 f->dir);
	assert_int_equal(system(cmd), 0);
	/* Another server's file is not ours to remove. */
	pid_file_remove(f->path, 501);
	assert_string_equal(read_text(f->path), "500\n");
	pid_file_remove(f->path, 500);
	assert_null(read_text(f->path));
	/* Nothing there: nothing happens. */
	pid_file_remove(f->path, 500);
}

static void test_write_fails_in_missing_dir(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", path[192];
	snprintf(path, sizeof(path), "%s/missing/archeio.pid", f->dir);
	assert_int_equal(pid_file_write(path, 500, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--pid-file"));
	assert_non_null(strstr(err, "No such file or directory"));
}

/* The name taken by a directory: the rename fails with the reason and the
 * temporary file goes. */
static void test_write_fails_onto_a_directory(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", want[300];
	/* f->proc is a directory with entries: no rename replaces it. */
	assert_int_equal(pid_file_write(f->proc, 500, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid-file %s: Is a directory", f->proc);
	assert_string_equal(err, want);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' | grep tmp)\"", f->dir);
	assert_int_equal(system(cmd), 0);
}

/* A bare file name is in the working directory. */
static void test_check_relative_name(void **state)
{
	(void)state;
	char name[64], err[256] = "";
	snprintf(name, sizeof(name), "archeio-test-%d.pid", (int)getpid());
	pid_t stale = -1;
	assert_int_equal(pid_file_check(name, "/proc", 500, &stale, err, sizeof(err)),
			 PID_FILE_ABSENT);
	assert_int_equal(stale, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test_setup_teardown(test_is_archeio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_live_archeio_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_unusable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_fails_onto_a_directory, setup, teardown),
	    cmocka_unit_test(test_check_relative_name),
	    cmocka_unit_test_setup_teardown(test_write_and_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_fails_in_missing_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
