/* `archeio serve --pid-file PATH`: the server's process id for whoever must
 * signal it (scripts/fetch-ranges.sh --pid-file PATH sends SIGHUP after new
 * ranges). Checked before anything else at start, written once the server
 * handles signals and listens (SIGHUP before that would kill the process),
 * removed at exit. Internal to server/. */
#ifndef ARCHEIO_SERVER_PID_FILE_H
#define ARCHEIO_SERVER_PID_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The process id in a pid file's text ("1234\n", blanks around it allowed),
 * or 0 when the text is not one. Pure. */
pid_t pid_file_parse(const char *text, size_t len);

/* Whether pid is a running archeio: proc_root/PID exists and its comm or
 * argv[0]'s last component is "archeio". proc_root is "/proc" (tests give
 * another directory). */
bool pid_is_archeio(const char *proc_root, pid_t pid);

enum pid_file_state {
	PID_FILE_ABSENT = 0, /* nothing there: written at start */
	PID_FILE_STALE = 1,  /* names no other running archeio: replaced */
	PID_FILE_BUSY = -1,  /* names another running archeio, or unusable: err says */
};

/* Before the server starts: may PATH become this process's (self) pid file?
 * A file naming another running archeio is refused (two servers would share
 * one name for SIGHUP); one naming a dead process, a process that is not
 * archeio (the pid was reused) or self is stale. *stale_pid gets the pid a
 * stale file named (0 if none). */
enum pid_file_state pid_file_check(const char *path, const char *proc_root, pid_t self,
				   pid_t *stale_pid, char *err, size_t errlen);

/* Writes "PID\n" to PATH atomically (a temporary file in the same directory,
 * then rename), so a reader never sees half a number. 0 or -1 with err. */
int pid_file_write(const char *path, pid_t self, char *err, size_t errlen);

/* Removes PATH if it still names self (a later server's file is left). */
void pid_file_remove(const char *path, pid_t self);

#endif
