/* The version of this build: `git describe --always --dirty` when it was
 * built from a git checkout, the Makefile's VERSION otherwise. Both binaries
 * print it for --version. */
#ifndef ARCHEIO_CORE_VERSION_H
#define ARCHEIO_CORE_VERSION_H

const char *archeio_version(void);

#endif
