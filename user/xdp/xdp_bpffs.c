/* Finding, creating and locking the pin directory on bpffs. */
#include "xdp_bpffs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

int xdp_bpffs_path(char *buf, size_t buflen, const char *dir, const char *name, char *err,
		   size_t errlen)
{
	int n = snprintf(buf, buflen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= buflen) {
		snprintf(err, errlen, "bpffs path too long: %s/%s", dir, name);
		return -1;
	}
	return 0;
}

/* Cuts path at its last '/', leaving the parent; false when there is none. */
static int cut_parent(char *path)
{
	char *slash = strrchr(path, '/');

	if (!slash)
		return 0;
	if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 1;
}

/* Creates the missing directories below an existing ancestor, parents first. */
static int make_dirs(const char *dir, size_t existing_len, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	memcpy(path, dir, len + 1);
	for (size_t i = existing_len + 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create bpffs directory %s: %s", path,
				 strerror(errno));
			return -1;
		}
		path[i] = dir[i];
	}
	return 0;
}

/* Writes the deepest existing directory of dir (dir itself when it exists)
 * into ancestor; -1 with a message when none can be reached or it is a file. */
static int existing_ancestor(const char *dir, char *ancestor, size_t size, char *err, size_t errlen)
{
	struct stat st;
	size_t len = strlen(dir);

	if (len == 0 || len >= size) {
		snprintf(err, errlen, "bpffs directory '%s' is empty or too long", dir);
		return -1;
	}
	memcpy(ancestor, dir, len + 1);
	while (len > 1 && ancestor[len - 1] == '/')
		ancestor[--len] = '\0';
	while (stat(ancestor, &st) != 0) {
		if (errno != ENOENT || !cut_parent(ancestor)) {
			snprintf(err, errlen, "cannot access bpffs directory %s: %s", ancestor,
				 strerror(errno));
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "bpffs path %s exists and is not a directory", ancestor);
		return -1;
	}
	return 0;
}

static bool on_bpffs(const char *path)
{
	struct statfs fs;

	return statfs(path, &fs) == 0 && (unsigned long)fs.f_type == (unsigned long)BPF_FS_MAGIC;
}

bool xdp_bpffs_visible(const char *dir)
{
	char ancestor[PATH_MAX], ignored[256];

	return existing_ancestor(dir, ancestor, sizeof(ancestor), ignored, sizeof(ignored)) == 0 &&
	       on_bpffs(ancestor);
}

int xdp_bpffs_prepare_dir(const char *dir, char *err, size_t errlen)
{
	char ancestor[PATH_MAX];

	if (existing_ancestor(dir, ancestor, sizeof(ancestor), err, errlen) != 0)
		return -1;
	if (!on_bpffs(ancestor)) {
		snprintf(err, errlen,
			 "%s is not on a bpf filesystem, so maps cannot be pinned in %s; mount "
			 "bpffs with `mount -t bpf bpf /sys/fs/bpf` or pass --bpffs DIR on one",
			 ancestor, dir);
		return -1;
	}
	return make_dirs(dir, strlen(ancestor), err, errlen);
}

int xdp_bpffs_lock(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open bpffs directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int error = errno;

		close(fd);
		if (error == EWOULDBLOCK)
			snprintf(err, errlen,
				 "another archeio is running with --bpffs %s (its XDP program and "
				 "maps are pinned there); stop it, or give this one another "
				 "--bpffs",
				 dir);
		else
			snprintf(err, errlen, "cannot lock bpffs directory %s: %s", dir,
				 strerror(error));
		return -1;
	}
	return fd;
}

bool xdp_bpffs_locked(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool locked;

	if (fd < 0)
		return false;
	/* Shared and at once released: only a holder of the exclusive lock (a
	 * server, or `xdp detach` at work) makes it fail. */
	locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return locked;
}

int xdp_bpffs_same_dir(const char *dir, int fd, char *why, size_t whylen)
{
	struct stat open_st, path_st;

	if (fstat(fd, &open_st) != 0)
		return -1;
	if (stat(dir, &path_st) != 0) {
		if (errno == EACCES || errno == EPERM)
			return -1;
		snprintf(why, whylen,
			 "it no longer exists: bpffs unmounted or the directory removed");
		return 0;
	}
	if (path_st.st_dev != open_st.st_dev || path_st.st_ino != open_st.st_ino) {
		snprintf(why, whylen,
			 "another directory is there now: bpffs unmounted and mounted again, "
			 "or the directory replaced");
		return 0;
	}
	return 1;
}
