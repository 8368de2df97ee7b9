/* The configuration a server starts with, as one log record of fields (so a
 * JSON reader gets "workers":4, not a sentence to take apart). */
#ifndef ARCHEIO_SERVER_CONFIG_LOG_H
#define ARCHEIO_SERVER_CONFIG_LOG_H

#include "archeio/core/log.h"
#include "archeio/server/config.h"

/* One "config" record at info: upstream, upstream_path, signature_upstream
 * ("-" when off), default_mirror, info_url, privacy_url, mirrors (the file,
 * or "built-in"), ranges (how many paths), trusted_proxies (how many CIDRs),
 * xff_hops, workers, access_log ("on"/"off"), xdp (the interface, "-" when
 * off). */
void config_log(const struct config *config, const struct logger *log);

#endif
