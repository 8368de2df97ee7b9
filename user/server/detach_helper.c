/* The XDP exit helper (see detach_helper.h). */
#include "detach_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archeio/xdp/xdp_path.h"
#include "privileges.h"

/* Blocks until the server closes its end (exit or crash). */
static void wait_for_close(int fd)
{
	char byte;

	for (;;) {
		ssize_t n = read(fd, &byte, 1);

		if (n == 0 || (n < 0 && errno != EINTR))
			return;
	}
}

/* Closes everything but 0-2 (stderr carries the helper's log lines, as the
 * server's) and the pipe, which ends up as fd 3. */
static int keep_only(int fd)
{
	if (fd != 3 && dup2(fd, 3) == 3)
		fd = 3;
	closefrom(fd + 1);
	return fd;
}

static _Noreturn void helper_main(int fd, struct xdp_path *path, const struct logger *log)
{
	char err[256];

	prctl(PR_SET_NAME, "archeio-xdp", 0, 0, 0);
	/* A terminal's ^C and systemd's stop reach the whole group: the
	 * helper ends when the server does, not before. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	fd = keep_only(fd);
	if (privileges_limit(privileges_for_detaching(), err, sizeof(err)) != 0)
		log_msg(log, LOG_WARN, "XDP exit helper: cannot shed capabilities: %s", err);
	wait_for_close(fd);
	xdp_path_close(path);
	_exit(0);
}

int detach_helper_start(struct detach_helper *helper, struct xdp_path *path,
			const struct logger *log, char *err, size_t errlen)
{
	int fds[2];

	helper->pid = 0;
	helper->pipe_fd = -1;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot create the XDP exit helper's pipe: %s",
			 strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot fork the XDP exit helper: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		helper_main(fds[0], path, log);
	}
	close(fds[0]);
	helper->pid = pid;
	helper->pipe_fd = fds[1];
	xdp_path_leave_attached(path);
	return 0;
}

void detach_helper_finish(struct detach_helper *helper)
{
	if (helper->pid <= 0)
		return;
	close(helper->pipe_fd);
	while (waitpid(helper->pid, NULL, 0) < 0 && errno == EINTR)
		;
	helper->pid = 0;
	helper->pipe_fd = -1;
}
