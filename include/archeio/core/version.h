/* The version both binaries report (--version, archeio_build_info): defined
 * in one place, the Makefile's VERSION (`git describe` at build time, or the
 * Makefile's fallback), passed to user/core/version.c only. */
#ifndef ARCHEIO_CORE_VERSION_H
#define ARCHEIO_CORE_VERSION_H

const char *archeio_version(void);

#endif
