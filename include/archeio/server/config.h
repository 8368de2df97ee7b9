/* Command-line flags and environment variables of `archeio serve|lookup`.
 * Flags override the environment; the environment names are the Go
 * archeio's where it has one. Every option is one row of the table that
 * config_option_table() returns (user/server/config_table.c); the generic
 * parsing lives in core/options. Pure apart from reading `env` through the
 * function passed in (tests pass a table). */
#ifndef ARCHEIO_CONFIG_H
#define ARCHEIO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "archeio/geo/client_addr.h"
#include "archeio/core/log.h"
#include "archeio/xdp/xdp_mode.h"

#define CONFIG_DEFAULT_UPSTREAM "https://us-central1-docker.pkg.dev"
#define CONFIG_DEFAULT_UPSTREAM_PATH "k8s-artifacts-prod/images"
#define CONFIG_DEFAULT_MIRROR "https://d1be1w964nk82h.cloudfront.net"
#define CONFIG_DEFAULT_INFO_URL "https://github.com/kubernetes/registry.k8s.io"
#define CONFIG_DEFAULT_PRIVACY_URL "https://www.linuxfoundation.org/privacy-policy/"
#define CONFIG_DEFAULT_BPFFS "/sys/fs/bpf/archeio"
#define CONFIG_MAX_TLS_PAIRS 16
#define CONFIG_MAX_PLAIN_LISTENS 8

struct config {
	/* listening: host NULL means every address (IPv6 "::" dual-stack, IPv4 too) */
	char *listen_host;
	uint16_t listen_port;
	/* HTTPS on --listen when certificates are given: pairs in order, the
	 * first is the default, the others chosen by SNI. */
	char **tls_certs;
	size_t tls_cert_count;
	char **tls_keys;
	size_t tls_key_count;
	bool tls_ktls;
	/* more plain-HTTP listeners ("host:port"), e.g. for a load balancer */
	char **plain_listens;
	size_t plain_listen_count;
	char *upstream;
	char *upstream_path;
	char *signature_upstream; /* NULL when off */
	char *default_mirror;
	char *info_url;
	char *privacy_url;
	char **ranges;
	size_t ranges_count;
	char *mirrors_file; /* NULL: built-in table */
	/* NULL: every client's upstream is `upstream`; else CLOUD[:REGION] URL
	 * rules choosing the upstream by the client's region */
	char *upstream_rules_file;
	struct trusted_proxies proxies;
	/* PROXY protocol on every listener: required from proxies, refused from
	 * everyone else */
	bool proxy_protocol;
	unsigned xff_hops;
	unsigned workers;
	/* per-client request limit (0: off), see server/rate_limit.h */
	uint32_t rate_limit;
	uint32_t rate_burst;
	uint32_t rate_limit_v6_prefix;
	uint32_t rate_limit_entries;
	char **rate_limit_exempt; /* CIDR or CLOUD[:REGION] */
	size_t rate_limit_exempt_count;
	/* --limits-file: the limits above (and the XDP SYN limit's) as the
	 * operator changes them on SIGHUP; NULL: the flags only */
	char *limits_file;
	char *pid_file; /* NULL: none */
	enum log_level log_level;
	enum log_format log_format;
	bool access_log;
	uint32_t mirror_timeout_ms;
	uint32_t present_ttl_s;
	uint32_t absent_ttl_s;
	uint32_t cache_entries;
	uint32_t probe_interval_ms;
	char *ca_file;
	uint32_t header_timeout_ms;
	uint32_t idle_timeout_ms;
	/* XDP: off when xdp_iface is NULL */
	char *xdp_iface;
	enum xdp_path_mode xdp_mode;
	char *bpffs_dir;
	bool xdp_keep;
	uint32_t xdp_syn_limit; /* SYNs per second per source; 0: off */
	uint32_t xdp_syn_burst;
	/* run as this user (and group) once ports are bound and XDP attached;
	 * NULL: stay as started */
	char *run_user;
	char *run_group;
	/* /metrics, /healthz, /readyz on their own listener; NULL: off */
	char *metrics_listen;
	/* ranges data older than this is stale (warning, metric); 0: never */
	uint64_t ranges_max_age_s;
	/* `lookup` only: --json and the addresses; `xdp status`: --json */
	bool json;
	char **args;
	size_t args_count;
};

typedef const char *(*config_getenv_fn)(const char *name);

enum config_result { CONFIG_OK = 0, CONFIG_HELP = 1, CONFIG_ERROR = 2 };

/* Parses argv (argv[0] is the subcommand name, options follow) on top of the
 * environment. On CONFIG_ERROR err holds one line naming the bad value. */
enum config_result config_parse(struct config *config, int argc, char **argv,
				config_getenv_fn getenv_fn, char *err, size_t errlen);
void config_free(struct config *config);
/* "host:port", "[v6]:port", ":port" (*host NULL: every address). false on a
 * bad address, or with errno ENOMEM when the host could not be copied. */
bool config_parse_listen(const char *text, char **host, uint16_t *port);
void config_print_usage(FILE *out);

struct option_spec;
/* The option table of `archeio` (for tests that compare it with the README). */
const struct option_spec *config_option_table(size_t *count);

#endif
