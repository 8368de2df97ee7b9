/* The values of `archeio`'s options that need more than the generic kinds
 * of core/options: URLs, the upstream path, the listen address, trusted
 * proxy CIDRs, and names of interfaces, directories and files. Each is an
 * option_set_fn, option_clear_fn or option_check_fn for a row of
 * config_table.c; target is a struct config. */
#ifndef ARCHEIO_SERVER_CONFIG_VALUES_H
#define ARCHEIO_SERVER_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/core/options.h"

/* Absolute http(s) URL that gets paths appended (upstreams, mirrors), so no
 * query either; trailing slashes are dropped. */
bool config_set_base_url(void *target, const struct option_spec *spec, const char *value,
			 const char *source, char *err, size_t errlen);
/* As config_set_base_url; empty turns the setting off (NULL). */
bool config_set_optional_base_url(void *target, const struct option_spec *spec, const char *value,
				  const char *source, char *err, size_t errlen);
/* Any absolute http(s) URL (the info and privacy pages), kept byte for byte:
 * it is the Location of rule 2 exactly as configured. */
bool config_set_page_url(void *target, const struct option_spec *spec, const char *value,
			 const char *source, char *err, size_t errlen);
/* A repository path without leading/trailing slashes; may be empty. */
bool config_set_upstream_path(void *target, const struct option_spec *spec, const char *value,
			      const char *source, char *err, size_t errlen);
bool config_set_listen(void *target, const struct option_spec *spec, const char *value,
		       const char *source, char *err, size_t errlen);
void config_clear_listen(void *target, const struct option_spec *spec);
/* Appends one CIDR to a struct trusted_proxies. */
bool config_add_trusted_proxy(void *target, const struct option_spec *spec, const char *value,
			      const char *source, char *err, size_t errlen);
void config_clear_trusted_proxies(void *target, const struct option_spec *spec);

/* A duration ("7d", "12h", "30m", "3600s", seconds) into a uint64_t of
 * seconds; at most ten years. */
bool config_set_duration(void *target, const struct option_spec *spec, const char *value,
			 const char *source, char *err, size_t errlen);
/* HOST:PORT, [V6]:PORT or :PORT (as --listen). */
bool config_check_listen_addr(const char *value, const char *source, char *err, size_t errlen);
bool config_check_iface(const char *value, const char *source, char *err, size_t errlen);
bool config_check_bpffs(const char *value, const char *source, char *err, size_t errlen);
/* A user or group name or number for --user/--group: not empty, no ':' or '/'. */
bool config_check_account(const char *value, const char *source, char *err, size_t errlen);
bool config_check_ca_file(const char *value, const char *source, char *err, size_t errlen);
/* path exists and is a regular file (or, when dir_ok, a directory); what
 * names it in the message ("ranges /x: not a regular file or directory"). */
bool config_check_readable(const char *what, const char *path, bool dir_ok, char *err,
			   size_t errlen);

#endif
