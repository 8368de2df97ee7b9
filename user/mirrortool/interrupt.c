#include "interrupt.h"

#include <signal.h>
#include <string.h>

/* Process-wide by necessity: the only thing a signal handler may touch. */
static volatile sig_atomic_t received;

static void on_signal(int signo)
{
	if (!received)
		received = signo;
}

void interrupt_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void interrupt_uninstall(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

bool interrupt_pending(void)
{
	return received != 0;
}

int interrupt_signal(void)
{
	return received;
}
