/* SIGINT and SIGTERM during a run: the handler only notes the signal; the
 * copy threads see it (interrupt_pending), stop starting work, let their
 * transfers fail, and abort what they began (S3 multipart uploads), so an
 * interrupted run leaves no orphaned parts and exits 128 + the signal. The
 * note is process-wide because a signal handler can reach nothing else. */
#ifndef ARCHEIO_MIRROR_INTERRUPT_H
#define ARCHEIO_MIRROR_INTERRUPT_H

#include <stdbool.h>

/* Installs the handlers (without SA_RESTART, so sleeps end early). */
void interrupt_install(void);
/* Restores the default actions. */
void interrupt_uninstall(void);
bool interrupt_pending(void);
/* The signal that arrived first, 0 when none. */
int interrupt_signal(void);

#endif
