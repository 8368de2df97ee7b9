/* The build's version, from the header the Makefile writes (see version.h). */
#include "archeio/core/version.h"

#include "archeio_version.h"

const char *archeio_version(void)
{
	return ARCHEIO_VERSION;
}
