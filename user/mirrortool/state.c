#include "state.h"
#include "digest.h"
#include "dest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool mirror_state_open(struct mirror_state *s, const char *dir, bool create, char *err,
		       size_t errlen)
{
	s->dir = NULL;
	if (!dir)
		return true;
	size_t len = strlen(dir) + sizeof("/manifests");
	s->dir = malloc(len);
	if (!s->dir) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	snprintf(s->dir, len, "%s/manifests", dir);
	if (create && !dest_mkdir_p(s->dir, err, errlen)) {
		mirror_state_close(s);
		return false;
	}
	if (create)
		dest_clean_stale_temps(s->dir);
	return true;
}

void mirror_state_close(struct mirror_state *s)
{
	free(s->dir);
	s->dir = NULL;
}

static bool path_of(const struct mirror_state *s, const char *digest, char *out, size_t len)
{
	struct digest_ref ref;
	/* Only a valid digest becomes a file name: no path tricks. */
	if (!s->dir || !digest_parse(digest, &ref))
		return false;
	snprintf(out, len, "%s/%s", s->dir, digest);
	return true;
}

bool mirror_state_has(const struct mirror_state *s, const char *digest)
{
	char path[4096];
	struct stat st;
	return path_of(s, digest, path, sizeof(path)) && stat(path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

bool mirror_state_record(const struct mirror_state *s, const char *digest, const char *note,
			 char *err, size_t errlen)
{
	if (!s->dir)
		return true;
	char path[4096], temp[4200];
	if (!path_of(s, digest, path, sizeof(path))) {
		snprintf(err, errlen, "cannot record manifest \"%s\": not a digest", digest);
		return false;
	}
	snprintf(temp, sizeof(temp), "%s/" DEST_TEMP_PREFIX "%ld-XXXXXX", s->dir, (long)getpid());
	int fd = mkstemp(temp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", temp, strerror(errno));
		return false;
	}
	size_t len = strlen(note);
	bool ok = write(fd, note, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
		  fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	ok = ok && rename(temp, path) == 0;
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(temp);
	}
	return ok;
}
