/* `archeio lookup IP...`: the region of each address, from the pinned XDP
 * maps when a server has pinned them, otherwise from the ranges flags. */
#ifndef ARCHEIO_LOOKUP_CMD_H
#define ARCHEIO_LOOKUP_CMD_H

#include <stdio.h>

#include "archeio/server/config.h"

/* Prints `IP<TAB>cloud<TAB>region` (or `IP<TAB>-<TAB>-`) per address.
 * Returns 0, or 2 (message on err) for a bad address or ranges file, and when
 * no ranges are loaded: no --ranges and no pins visible, or ranges holding no
 * prefixes (every answer would be "unlisted"). */
int lookup_cmd_run(const struct config *config, FILE *out, FILE *err);

#endif
