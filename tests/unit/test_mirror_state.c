/* Manifest records and the directory destination, in a temp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirrortool/dest.h"
#include "mirrortool/state.h"

#define DIGEST "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static int make_tmp(void **state)
{
	char *dir = strdup("/tmp/archeio-test-state.XXXXXX");
	if (!dir || !mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

static int remove_tmp(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	int rc = system(cmd);
	free(*state);
	return rc == 0 ? 0 : -1;
}

static void test_record_and_lookup(void **state)
{
	const char *tmp = *state;
	char dir[512], err[256];
	snprintf(dir, sizeof(dir), "%s/state", tmp);
	struct mirror_state s;
	assert_true(mirror_state_open(&s, dir, true, err, sizeof(err)));
	assert_false(mirror_state_has(&s, DIGEST));
	assert_true(mirror_state_record(&s, DIGEST, "test/img:v1", err, sizeof(err)));
	assert_true(mirror_state_has(&s, DIGEST));
	/* Only digests become file names. */
	assert_false(mirror_state_record(&s, "../../etc/passwd", "x", err, sizeof(err)));
	assert_non_null(strstr(err, "not a digest"));
	assert_false(mirror_state_has(&s, "../manifests"));
	mirror_state_close(&s);
	char path[700];
	snprintf(path, sizeof(path), "%s/manifests/%s", dir, DIGEST);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[64] = "";
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "test/img:v1\n");

	/* The state directory gone under a running tool: the record fails with
	 * the reason, nothing is created. */
	assert_true(mirror_state_open(&s, dir, true, err, sizeof(err)));
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/manifests'", dir);
	assert_int_equal(system(cmd), 0);
	assert_false(mirror_state_record(&s, DIGEST, "test/img:v2", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create "));
	assert_non_null(strstr(err, "No such file or directory"));
	mirror_state_close(&s);
}

static void test_disabled_state(void **state)
{
	(void)state;
	struct mirror_state s;
	char err[64];
	assert_true(mirror_state_open(&s, NULL, true, err, sizeof(err)));
	assert_true(mirror_state_record(&s, DIGEST, "x", err, sizeof(err)));
	assert_false(mirror_state_has(&s, DIGEST));
	mirror_state_close(&s);
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void test_dir_dest_commit_and_stale_temps(void **state)
{
	const char *tmp = *state;
	char images[512], path[700], err[256];
	snprintf(images, sizeof(images), "%s/mirror/containers/images", tmp);
	/* A dry run creates nothing. */
	char root[512];
	snprintf(root, sizeof(root), "%s/mirror", tmp);
	struct dest *d = dest_dir_open(root, true, err, sizeof(err));
	assert_non_null(d);
	dest_free(d);
	struct stat st;
	assert_int_not_equal(stat(root, &st), 0);
	/* A dead run's temp file goes, a live one's (ours) stays. */
	assert_true(dest_mkdir_p(images, err, sizeof(err)));
	char dead[700], live[700];
	snprintf(dead, sizeof(dead), "%s/" DEST_TEMP_PREFIX "999999999-aaaaaa", images);
	snprintf(live, sizeof(live), "%s/" DEST_TEMP_PREFIX "%ld-bbbbbb", images, (long)getpid());
	touch(dead);
	touch(live);
	/* Not one of ours by its name (no pid): left alone. */
	char odd[700];
	snprintf(odd, sizeof(odd), "%s/" DEST_TEMP_PREFIX "x-cccccc", images);
	touch(odd);
	dest_clean_stale_temps("/nonexistent/archeio-test"); /* nothing to clean: nothing done */
	d = dest_dir_open(root, false, err, sizeof(err));
	assert_non_null(d);
	assert_int_not_equal(stat(dead, &st), 0);
	assert_int_equal(stat(live, &st), 0);
	assert_int_equal(stat(odd, &st), 0);
	unlink(live);
	unlink(odd);
	bool present = true;
	assert_true(dest_has_blob(d, NULL, DIGEST, &present, err, sizeof(err)));
	assert_false(present);
	/* An aborted writer leaves no temp file; commit renames the temp file
	 * into place, and a reset forgets what was written before. */
	struct dest_writer *w = dest_writer_open(d, DIGEST, 3, err, sizeof(err));
	assert_non_null(w);
	assert_true(dest_writer_write(w, "xyz", 3, err, sizeof(err)));
	dest_writer_abort(w);
	w = dest_writer_open(d, DIGEST, 3, err, sizeof(err));
	assert_non_null(w);
	assert_true(dest_writer_write(w, "zzzz", 4, err, sizeof(err)));
	assert_true(dest_writer_reset(w, err, sizeof(err)));
	assert_true(dest_writer_write(w, "abc", 3, err, sizeof(err)));
	assert_true(dest_has_blob(d, NULL, DIGEST, &present, err, sizeof(err)));
	assert_false(present);
	unsigned char sha[DIGEST_SHA256_LEN] = {0};
	assert_true(dest_writer_commit(w, 3, sha, err, sizeof(err)));
	assert_true(dest_has_blob(d, NULL, DIGEST, &present, err, sizeof(err)));
	assert_true(present);
	DIR *dir = opendir(images);
	assert_non_null(dir);
	for (struct dirent *e; (e = readdir(dir)) != NULL;)
		assert_null(strstr(e->d_name, DEST_TEMP_PREFIX));
	closedir(dir);
	snprintf(path, sizeof(path), "%s/%s", images, DIGEST);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(st.st_mode & 0777, 0644);
	dest_describe(d, DIGEST, path, sizeof(path));
	assert_non_null(strstr(path, "/containers/images/" DIGEST));
	dest_free(d);
}

/* --verify of a directory: absent, wrong size, intact, corrupt (deep), and
 * the refusals: a digest that cannot be re-hashed, a path that cannot be
 * looked at (a symlink loop where the blob should be). */
static void test_dir_dest_check_and_refusals(void **state)
{
	const char *tmp = *state;
	char root[512], images[600], path[800], err[256] = "";
	snprintf(root, sizeof(root), "%s/mirror", tmp);
	snprintf(images, sizeof(images), "%s/containers/images", root);
	struct dest *d = dest_dir_open(root, false, err, sizeof(err));
	assert_non_null(d);
	enum dest_blob_state st = DEST_BLOB_INTACT;
	assert_true(dest_check_blob(d, NULL, DIGEST, 3, true, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_ABSENT);
	assert_string_equal(dest_blob_state_name(st), "missing");

	snprintf(path, sizeof(path), "%s/%s", images, DIGEST);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("abc", f); /* sha256("abc") is DIGEST */
	fclose(f);
	assert_true(dest_check_blob(d, NULL, DIGEST, 4, true, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_WRONG_SIZE);
	assert_true(dest_check_blob(d, NULL, DIGEST, 3, true, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_INTACT);
	assert_string_equal(dest_blob_state_name(st), "intact");
	f = fopen(path, "w");
	fputs("abd", f);
	fclose(f);
	assert_true(dest_check_blob(d, NULL, DIGEST, 3, false, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_INTACT); /* shallow: size only */
	assert_true(dest_check_blob(d, NULL, DIGEST, -1, true, &st, err, sizeof(err)));
	assert_int_equal(st, DEST_BLOB_CORRUPT);

	/* Not a digest the tool can compute: refused, not called corrupt. */
	snprintf(path, sizeof(path), "%s/md5:900150983cd24fb0d6963f7d28e17f72", images);
	f = fopen(path, "w");
	fclose(f);
	assert_false(dest_check_blob(d, NULL, "md5:900150983cd24fb0d6963f7d28e17f72", 0, true, &st,
				     err, sizeof(err)));
	assert_string_equal(err, "unsupported digest md5:900150983cd24fb0d6963f7d28e17f72");

	/* A symlink loop: neither present nor absent, an error naming the path. */
	static const char loop_digest[] =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	snprintf(path, sizeof(path), "%s/%s", images, loop_digest);
	assert_int_equal(symlink(path, path), 0);
	bool present = false;
	assert_false(dest_has_blob(d, NULL, loop_digest, &present, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot stat "));
	assert_non_null(strstr(err, "Too many levels of symbolic links"));
	err[0] = '\0';
	assert_false(dest_check_blob(d, NULL, loop_digest, 3, false, &st, err, sizeof(err)));
	assert_non_null(strstr(err, "Too many levels of symbolic links"));
	dest_free(d);
}

/* Writers that cannot finish: the blob's name taken by a directory (the
 * rename fails, the temp file goes), the images directory gone (no temp
 * file), a file size limit (the write fails with its reason). */
static void test_dir_dest_writer_failures(void **state)
{
	const char *tmp = *state;
	char root[512], images[600], path[800], err[256] = "";
	snprintf(root, sizeof(root), "%s/mirror", tmp);
	snprintf(images, sizeof(images), "%s/containers/images", root);
	struct dest *d = dest_dir_open(root, false, err, sizeof(err));
	assert_non_null(d);
	snprintf(path, sizeof(path), "%s/%s/inside", images, DIGEST);
	assert_true(dest_mkdir_p(path, err, sizeof(err)));
	struct dest_writer *w = dest_writer_open(d, DIGEST, 3, err, sizeof(err));
	assert_non_null(w);
	assert_true(dest_writer_write(w, "abc", 3, err, sizeof(err)));
	unsigned char sha[DIGEST_SHA256_LEN] = {0};
	assert_false(dest_writer_commit(w, 3, sha, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot rename "));
	DIR *dir = opendir(images);
	assert_non_null(dir);
	for (struct dirent *e; (e = readdir(dir)) != NULL;)
		assert_null(strstr(e->d_name, DEST_TEMP_PREFIX));
	closedir(dir);

	/* A file size limit: the second write crosses it (EFBIG, SIGXFSZ ignored). */
	w = dest_writer_open(d, DIGEST, -1, err, sizeof(err));
	assert_non_null(w);
	struct rlimit saved;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	struct rlimit small = {4096, saved.rlim_max}; /* the soft limit: it can go back */
	void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
	static char block[8192];
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	bool wrote = dest_writer_write(w, block, sizeof(block), err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, old);
	assert_false(wrote);
	assert_non_null(strstr(err, "cannot write "));
	assert_non_null(strstr(err, "File too large"));
	dest_writer_abort(w);

	snprintf(path, sizeof(path), "rm -rf '%s'", images);
	assert_int_equal(system(path), 0);
	assert_null(dest_writer_open(d, DIGEST, 3, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create temp file in "));
	assert_non_null(strstr(err, "No such file or directory"));
	dest_free(d);

	/* A file where a directory must be. */
	snprintf(path, sizeof(path), "%s/file", tmp);
	touch(path);
	snprintf(root, sizeof(root), "%s/file/mirror", tmp);
	assert_null(dest_dir_open(root, false, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create "));
	assert_non_null(strstr(err, "Not a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_record_and_lookup, make_tmp, remove_tmp),
	    cmocka_unit_test(test_disabled_state),
	    cmocka_unit_test_setup_teardown(test_dir_dest_check_and_refusals, make_tmp, remove_tmp),
	    cmocka_unit_test_setup_teardown(test_dir_dest_writer_failures, make_tmp, remove_tmp),
	    cmocka_unit_test_setup_teardown(test_dir_dest_commit_and_stale_temps, make_tmp,
					    remove_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
