#include "pid_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pid files are a number and a newline; anything longer is not one. */
#define PID_TEXT_MAX 64

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

pid_t pid_file_parse(const char *text, size_t len)
{
	size_t i = 0;
	while (i < len && is_blank(text[i]))
		i++;
	long long pid = 0;
	size_t digits = 0;
	for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++) {
		pid = pid * 10 + (text[i] - '0');
		if (pid > INT_MAX)
			return 0;
	}
	while (i < len && is_blank(text[i]))
		i++;
	return digits > 0 && i == len ? (pid_t)pid : 0;
}

/* Up to cap-1 bytes of a small file; -1 when it cannot be read. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The last path component of name (which may not be NUL-terminated at len). */
static bool basename_is(const char *name, size_t len, const char *want)
{
	const char *slash = memrchr(name, '/', len);
	const char *base = slash ? slash + 1 : name;
	size_t base_len = len - (size_t)(base - name);
	return base_len == strlen(want) && memcmp(base, want, base_len) == 0;
}

bool pid_is_archeio(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX], buf[PATH_MAX];
	/* comm is the executable's name (cut at 15 bytes; "archeio" fits);
	 * argv[0] covers a wrapper that renamed the process. */
	snprintf(path, sizeof(path), "%s/%d/comm", proc_root, (int)pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n > 0 && basename_is(buf, strcspn(buf, "\n"), "archeio"))
		return true;
	snprintf(path, sizeof(path), "%s/%d/cmdline", proc_root, (int)pid);
	n = read_small(path, buf, sizeof(buf));
	return n > 0 && basename_is(buf, strnlen(buf, (size_t)n), "archeio");
}

/* The directory PATH is in must let us create the file (and the temporary
 * one beside it). */
static bool dir_writable(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "--pid-file %s: cannot write in %s: %s", path, dir,
			 strerror(errno));
		return false;
	}
	return true;
}

enum pid_file_state pid_file_check(const char *path, const char *proc_root, pid_t self,
				   pid_t *stale_pid, char *err, size_t errlen)
{
	*stale_pid = 0;
	struct stat st;
	if (stat(path, &st) != 0 && errno == ENOENT)
		return dir_writable(path, err, errlen) ? PID_FILE_ABSENT : PID_FILE_BUSY;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--pid-file %s: not a regular file", path);
		return PID_FILE_BUSY;
	}
	char text[PID_TEXT_MAX];
	ssize_t n = read_small(path, text, sizeof(text));
	if (n < 0) {
		snprintf(err, errlen, "--pid-file %s: %s", path, strerror(errno));
		return PID_FILE_BUSY;
	}
	pid_t pid = pid_file_parse(text, (size_t)n);
	if (pid > 0 && pid != self && pid_is_archeio(proc_root, pid)) {
		snprintf(err, errlen,
			 "--pid-file %s: archeio is already running as pid %d (stop it, or give "
			 "another --pid-file)",
			 path, (int)pid);
		return PID_FILE_BUSY;
	}
	*stale_pid = pid;
	return dir_writable(path, err, errlen) ? PID_FILE_STALE : PID_FILE_BUSY;
}

int pid_file_write(const char *path, pid_t self, char *err, size_t errlen)
{
	char tmp[PATH_MAX], text[32];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)self);
	int len = snprintf(text, sizeof(text), "%d\n", (int)self);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "--pid-file %s: %s", tmp, strerror(errno));
		return -1;
	}
	/* 0644 whatever the umask: the script that signals may run as another user. */
	bool ok = fchmod(fd, 0644) == 0 && write(fd, text, (size_t)len) == len;
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && rename(tmp, path) == 0)
		return 0;
	if (ok)
		saved = errno;
	unlink(tmp);
	snprintf(err, errlen, "--pid-file %s: %s", path, strerror(saved));
	return -1;
}

void pid_file_remove(const char *path, pid_t self)
{
	char text[PID_TEXT_MAX];
	ssize_t n = read_small(path, text, sizeof(text));
	if (n > 0 && pid_file_parse(text, (size_t)n) == self)
		unlink(path);
}
