/* Reading ranges files and directories; the parsing is in ranges*.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ranges_internal.h"

/* Far above any provider file (AWS's is a few MB); guards against being
 * pointed at a disk image by mistake. */
#define RANGES_FILE_MAX (256u * 1024 * 1024)

/* Opens path for reading when it is a regular file of at most
 * RANGES_FILE_MAX bytes; *size is what fstat says it holds now. */
static int open_regular_file(const char *path, size_t *size, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ranges_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ranges_error(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((unsigned long long)st.st_size > RANGES_FILE_MAX) {
		ranges_error(err, errlen, "%s: too large (%lld bytes, at most %u)", path,
			     (long long)st.st_size, RANGES_FILE_MAX);
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	return fd;
}

/* Doubles a full buffer, unless it already passed RANGES_FILE_MAX (the file
 * grew while being read). */
static int grow(char **buf, size_t *cap, const char *path, char *err, size_t errlen)
{
	if (*cap > RANGES_FILE_MAX) {
		ranges_error(err, errlen, "%s: too large (over %u bytes)", path, RANGES_FILE_MAX);
		return -1;
	}
	char *bigger = realloc(*buf, *cap * 2);
	if (bigger == NULL) {
		ranges_error(err, errlen, "%s: out of memory", path);
		return -1;
	}
	*buf = bigger;
	*cap *= 2;
	return 0;
}

/* Reads fd to EOF into a buffer of first `cap` bytes, rather than trusting
 * the size fstat gave: the file may change size. */
static int read_to_end(int fd, const char *path, size_t cap, char **out, size_t *out_len, char *err,
		       size_t errlen)
{
	char *buf = malloc(cap);
	if (buf == NULL) {
		ranges_error(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size_t len = 0;
	for (;;) {
		if (len == cap && grow(&buf, &cap, path, err, errlen) != 0)
			break;
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ranges_error(err, errlen, "%s: read failed: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			*out = buf;
			*out_len = len;
			return 0;
		}
		len += (size_t)n;
	}
	free(buf);
	return -1;
}

/* The whole file, and its modification time (from the descriptor read). */
static int read_file(const char *path, char **out, size_t *out_len, int64_t *modified, char *err,
		     size_t errlen)
{
	size_t size;
	int fd = open_regular_file(path, &size, err, errlen);
	if (fd < 0)
		return -1;
	struct stat st;
	*modified = fstat(fd, &st) == 0 ? (int64_t)st.st_mtime : 0;
	int rc = read_to_end(fd, path, size + 1, out, out_len, err, errlen);
	close(fd);
	return rc;
}

static const char *format_name(enum ranges_format format)
{
	switch (format) {
	case RANGES_FORMAT_AWS:
		return "aws";
	case RANGES_FORMAT_GCP:
		return "gcp";
	case RANGES_FORMAT_AZURE:
		return "azure";
	default:
		return "text";
	}
}

/* Appends what the file said about itself to set->files. */
static int note_file(struct range_set *set, const char *path, const struct ranges_stamp *stamp,
		     size_t prefixes, int64_t modified, char *err, size_t errlen)
{
	struct ranges_file *grown = realloc(set->files, (set->file_count + 1) * sizeof(*grown));
	char *copy = strdup(path);
	if (grown)
		set->files = grown;
	if (!grown || !copy) {
		free(copy);
		ranges_error(err, errlen, "%s: out of memory", path);
		return -1;
	}
	struct ranges_file *f = &set->files[set->file_count++];
	*f = (struct ranges_file){.path = copy,
				  .prefixes = prefixes,
				  .modified = modified,
				  .published = stamp->published,
				  .change_number = stamp->change_number};
	snprintf(f->format, sizeof(f->format), "%s", format_name(stamp->format));
	return 0;
}

static int load_file(struct range_set *set, struct region_table *regions, const char *path,
		     char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int64_t modified;
	if (read_file(path, &buf, &len, &modified, err, errlen) != 0)
		return -1;
	size_t before = set->count, warnings_before = set->warnings.total;
	struct ranges_stamp stamp;
	int rc = ranges_parse_buffer_stamped(set, regions, path, buf, len, &stamp, err, errlen);
	free(buf);
	if (rc == 0 &&
	    note_file(set, path, &stamp, set->count - before, modified, err, errlen) != 0) {
		set->count = before;
		set->warnings.total = warnings_before;
		rc = -1;
	}
	return rc;
}

/* Forgets the files noted after the first `keep` (a directory that failed
 * half way: the set is as it was). */
static void forget_files(struct range_set *set, size_t keep)
{
	while (set->file_count > keep)
		free(set->files[--set->file_count].path);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

/* The non-hidden entry names of dir, sorted byte-wise. */
static int list_dir(const char *path, char ***out, size_t *out_count, char *err, size_t errlen)
{
	DIR *dir = opendir(path);
	if (dir == NULL) {
		ranges_error(err, errlen, "%s: cannot open directory: %s", path, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *ent;
	errno = 0;
	while ((ent = readdir(dir)) != NULL) {
		if (ent->d_name[0] == '.')
			continue;
		if (count == cap) {
			size_t new_cap = cap ? cap * 2 : 16;
			char **bigger = realloc(names, new_cap * sizeof(*names));
			if (bigger == NULL)
				goto oom;
			names = bigger;
			cap = new_cap;
		}
		names[count] = strdup(ent->d_name);
		if (names[count] == NULL)
			goto oom;
		count++;
		errno = 0;
	}
	if (errno != 0) {
		ranges_error(err, errlen, "%s: cannot read directory: %s", path, strerror(errno));
		goto fail;
	}
	closedir(dir);
	if (count > 0)
		qsort(names, count, sizeof(*names), compare_names);
	*out = names;
	*out_count = count;
	return 0;
oom:
	ranges_error(err, errlen, "%s: out of memory", path);
fail:
	free_names(names, count);
	closedir(dir);
	return -1;
}

static int load_dir(struct range_set *set, struct region_table *regions, const char *path,
		    char *err, size_t errlen)
{
	char **names;
	size_t count;
	if (list_dir(path, &names, &count, err, errlen) != 0)
		return -1;
	size_t before = set->count, files_before = set->file_count;
	size_t warnings_before = set->warnings.total;
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		char *file = NULL;
		const char *sep = path[strlen(path) - 1] == '/' ? "" : "/";
		if (asprintf(&file, "%s%s%s", path, sep, names[i]) < 0) {
			ranges_error(err, errlen, "%s: out of memory", path);
			rc = -1;
			break;
		}
		struct stat st;
		/* stat, not lstat: a Kubernetes ConfigMap mounts files as symlinks. */
		if (stat(file, &st) != 0) {
			ranges_error(err, errlen, "%s: %s", file, strerror(errno));
			rc = -1;
		} else if (S_ISREG(st.st_mode)) {
			rc = load_file(set, regions, file, err, errlen);
		}
		free(file);
	}
	free_names(names, count);
	if (rc != 0) {
		set->count = before;
		set->warnings.total = warnings_before;
		forget_files(set, files_before);
	}
	return rc;
}

int ranges_load_path(struct range_set *set, struct region_table *regions, const char *path,
		     char *err, size_t errlen)
{
	if (path == NULL || path[0] == '\0') {
		ranges_error(err, errlen, "empty ranges path");
		return -1;
	}
	struct stat st;
	if (stat(path, &st) != 0) {
		ranges_error(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(set, regions, path, err, errlen);
	if (S_ISREG(st.st_mode))
		return load_file(set, regions, path, err, errlen);
	ranges_error(err, errlen, "%s: not a regular file or directory", path);
	return -1;
}
