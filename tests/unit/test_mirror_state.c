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
	d = dest_dir_open(root, false, err, sizeof(err));
	assert_non_null(d);
	assert_int_not_equal(stat(dead, &st), 0);
	assert_int_equal(stat(live, &st), 0);
	unlink(live);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_record_and_lookup, make_tmp, remove_tmp),
	    cmocka_unit_test(test_disabled_state),
	    cmocka_unit_test_setup_teardown(test_dir_dest_commit_and_stale_temps, make_tmp,
					    remove_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
