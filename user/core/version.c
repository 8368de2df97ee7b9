#include "archeio/core/version.h"

/* The Makefile passes -DARCHEIO_VERSION="..." to this file alone, so a new
 * version rebuilds one object. A build without it still says something. */
#ifndef ARCHEIO_VERSION
#define ARCHEIO_VERSION "unknown"
#endif

const char *archeio_version(void)
{
	return ARCHEIO_VERSION;
}
