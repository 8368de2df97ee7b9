#include "archeio/server/config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archeio/mirrorcheck/mirror_rules.h"
#include "archeio/core/oci.h"
#include "archeio/contract/uri.h"

enum {
	OPT_LISTEN = 256,
	OPT_UPSTREAM,
	OPT_UPSTREAM_PATH,
	OPT_SIGNATURE_UPSTREAM,
	OPT_DEFAULT_MIRROR,
	OPT_INFO_URL,
	OPT_PRIVACY_URL,
	OPT_RANGES,
	OPT_MIRRORS,
	OPT_TRUSTED_PROXY,
	OPT_XFF_HOPS,
	OPT_WORKERS,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_ACCESS_LOG,
	OPT_MIRROR_TIMEOUT,
	OPT_PRESENT_TTL,
	OPT_ABSENT_TTL,
	OPT_CACHE_ENTRIES,
	OPT_PROBE_INTERVAL,
	OPT_CA_FILE,
	OPT_HEADER_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_XDP_IFACE,
	OPT_XDP_MODE,
	OPT_BPFFS,
	OPT_XDP_KEEP,
	OPT_JSON,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"upstream-path", required_argument, NULL, OPT_UPSTREAM_PATH},
    {"signature-upstream", required_argument, NULL, OPT_SIGNATURE_UPSTREAM},
    {"default-mirror", required_argument, NULL, OPT_DEFAULT_MIRROR},
    {"info-url", required_argument, NULL, OPT_INFO_URL},
    {"privacy-url", required_argument, NULL, OPT_PRIVACY_URL},
    {"ranges", required_argument, NULL, OPT_RANGES},
    {"mirrors", required_argument, NULL, OPT_MIRRORS},
    {"trusted-proxy", required_argument, NULL, OPT_TRUSTED_PROXY},
    {"xff-hops", required_argument, NULL, OPT_XFF_HOPS},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"access-log", no_argument, NULL, OPT_ACCESS_LOG},
    {"mirror-timeout-ms", required_argument, NULL, OPT_MIRROR_TIMEOUT},
    {"mirror-present-ttl", required_argument, NULL, OPT_PRESENT_TTL},
    {"mirror-absent-ttl", required_argument, NULL, OPT_ABSENT_TTL},
    {"mirror-cache-entries", required_argument, NULL, OPT_CACHE_ENTRIES},
    {"mirror-probe-interval-ms", required_argument, NULL, OPT_PROBE_INTERVAL},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"header-timeout-ms", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"idle-timeout-ms", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"xdp-iface", required_argument, NULL, OPT_XDP_IFACE},
    {"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
    {"bpffs", required_argument, NULL, OPT_BPFFS},
    {"xdp-keep", no_argument, NULL, OPT_XDP_KEEP},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void config_print_usage(FILE *out)
{
	fputs(
	    "usage: archeio [serve] [flags]          run the redirector (default)\n"
	    "       archeio lookup [flags] IP...      print IP<TAB>cloud<TAB>region per address\n"
	    "       archeio xdp status [--bpffs DIR] [--json]\n"
	    "                                         XDP attachment, map sizes, counters\n"
	    "       archeio --help\n"
	    "\n"
	    "Flags (environment variable in brackets; flags win):\n"
	    "  --listen ADDR             [PORT, port only] listen address, default :8080\n"
	    "                            (\":PORT\" = all IPv4 and IPv6 addresses, "
	    "\"[::1]:PORT\")\n"
	    "  --upstream URL            [UPSTREAM_REGISTRY_ENDPOINT] "
	    "default " CONFIG_DEFAULT_UPSTREAM "\n"
	    "  --upstream-path PATH      [UPSTREAM_REGISTRY_PATH] "
	    "default " CONFIG_DEFAULT_UPSTREAM_PATH "\n"
	    "  --signature-upstream URL  [SIGNATURE_UPSTREAM_ENDPOINT] cosign signatures and\n"
	    "                            referrers go here; default off\n"
	    "  --default-mirror URL      [DEFAULT_AWS_BASE_URL] the '*' mirror of the built-in\n"
	    "                            rules; default " CONFIG_DEFAULT_MIRROR "\n"
	    "  --info-url URL            [INFO_URL] where / redirects\n"
	    "  --privacy-url URL         [PRIVACY_URL] where /privacy redirects\n"
	    "  --ranges PATH             [ARCHEIO_RANGES, colon-separated] provider ranges file\n"
	    "                            or directory (AWS, GCP, Azure JSON; text CIDR CLOUD "
	    "REGION);\n"
	    "                            repeatable; later files win for identical prefixes\n"
	    "  --mirrors FILE            [ARCHEIO_MIRRORS] mirror rules; default: gcp upstream,\n"
	    "                            * <default-mirror>\n"
	    "  --trusted-proxy CIDR      [ARCHEIO_TRUSTED_PROXIES, comma-separated] peers whose\n"
	    "                            X-Forwarded-For is believed; repeatable\n"
	    "  --xff-hops N              [ARCHEIO_XFF_HOPS] client is the entry N from the end\n"
	    "                            of X-Forwarded-For; default 2 (Google Cloud LB)\n"
	    "  --workers N               [ARCHEIO_WORKERS] event loops; default: CPUs\n"
	    "  --log-level LEVEL         [ARCHEIO_LOG_LEVEL] debug|info|warn|error; default info\n"
	    "  --log-format FORMAT       [ARCHEIO_LOG_FORMAT] text|json; default text\n"
	    "  --access-log              one line per request at info level\n"
	    "  --mirror-timeout-ms N     mirror HEAD check timeout; default 2000\n"
	    "  --mirror-present-ttl S    cache 'present' answers S seconds; default 3600\n"
	    "  --mirror-absent-ttl S     cache 'absent' answers S seconds; default 10\n"
	    "  --mirror-cache-entries N  cache size bound per worker; default 65536\n"
	    "  --mirror-probe-interval-ms N\n"
	    "                            re-check one cached blob per mirror this often; a\n"
	    "                            failing mirror loses its cached answers; default 5000\n"
	    "  --ca-file FILE            CA bundle for HTTPS mirror checks; default system\n"
	    "  --header-timeout-ms N     whole request header must arrive within; default 10000\n"
	    "  --idle-timeout-ms N       keep-alive idle connections close after; default 60000\n"
	    "  --xdp-iface IFACE         attach the XDP tagger to IFACE (needs root/CAP_BPF)\n"
	    "  --xdp-mode MODE           native|skb|auto; default auto (native, else skb)\n"
	    "  --bpffs DIR               pin maps here; default " CONFIG_DEFAULT_BPFFS "\n"
	    "  --xdp-keep                leave program attached and maps pinned on exit\n"
	    "  --json                    lookup/xdp status: JSON output\n"
	    "\n"
	    "Signals: SIGHUP rereads ranges and mirror rules (a bad file keeps the old state);\n"
	    "SIGTERM/SIGINT stop accepting, finish in-flight requests (5 s), exit 0.\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 bad flag, value or file.\n",
	    out);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int replace_string(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

static bool parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	if (!text || !*text || *text == '-' || *text == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool config_parse_listen(const char *text, char **host, uint16_t *port)
{
	const char *colon;
	char *h = NULL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return false;
		h = strndup(text + 1, (size_t)(close - text - 1));
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return false;
		if (colon != text)
			h = strndup(text, (size_t)(colon - text));
	}
	unsigned long p;
	struct ip_addr unused;
	if (!parse_uint(colon + 1, 0, 65535, &p) || (h && (!*h || !ip_parse(h, &unused)))) {
		free(h);
		return false;
	}
	free(*host);
	*host = h;
	*port = (uint16_t)p;
	return true;
}

static int add_string(char ***list, size_t *count, const char *value)
{
	char **grown = realloc(*list, (*count + 1) * sizeof(**list));
	if (!grown)
		return -1;
	*list = grown;
	if (!(grown[*count] = strdup(value)))
		return -1;
	(*count)++;
	return 0;
}

static void clear_strings(char ***list, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*count = 0;
}

static int add_proxy(struct config *config, const char *text, char *err, size_t errlen)
{
	struct ip_prefix prefix;
	if (!ip_prefix_parse(text, true, &prefix)) {
		set_err(err, errlen, "bad trusted proxy CIDR %s", text);
		return -1;
	}
	struct trusted_proxies *p = &config->proxies;
	struct ip_prefix *grown = realloc(p->prefixes, (p->count + 1) * sizeof(*grown));
	if (!grown) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	p->prefixes = grown;
	p->prefixes[p->count++] = prefix;
	return 0;
}

/* Splits a separated list (colon for paths, comma for CIDRs), skipping empty items. */
static int for_each_item(const char *list, char sep, struct config *config, char *err,
			 size_t errlen, int (*fn)(struct config *, const char *, char *, size_t))
{
	char *copy = strdup(list);
	if (!copy) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	char seps[2] = {sep, '\0'};
	char *save = NULL;
	for (char *item = strtok_r(copy, seps, &save); item && rc == 0;
	     item = strtok_r(NULL, seps, &save)) {
		while (*item == ' ')
			item++;
		char *end = item + strlen(item);
		while (end > item && end[-1] == ' ')
			*--end = '\0';
		if (*item)
			rc = fn(config, item, err, errlen);
	}
	free(copy);
	return rc;
}

static int add_range_path(struct config *config, const char *path, char *err, size_t errlen)
{
	if (add_string(&config->ranges, &config->ranges_count, path) != 0) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* base: the URL gets paths appended (upstreams, mirrors), so no query either. */
static int set_url(char **slot, const char *name, const char *value, bool base, char *err,
		   size_t errlen)
{
	if (!(base ? url_is_base_http(value) : url_is_absolute_http(value))) {
		set_err(err, errlen, "%s: not an absolute http(s) URL: %s", name, value);
		return -1;
	}
	if (replace_string(slot, value) != 0) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	size_t n = strlen(*slot);
	while (n > 0 && (*slot)[n - 1] == '/')
		(*slot)[--n] = '\0';
	return 0;
}

static int set_upstream_path(struct config *config, const char *value, char *err, size_t errlen)
{
	while (*value == '/')
		value++;
	size_t n = strlen(value);
	while (n > 0 && value[n - 1] == '/')
		n--;
	/* It is pasted into every Location, so it must be a valid repository path. */
	if (n > 0 && !oci_name_valid(value, n)) {
		set_err(err, errlen, "upstream path: not a valid repository path: %s", value);
		return -1;
	}
	char *copy = strndup(value, n);
	if (!copy) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	free(config->upstream_path);
	config->upstream_path = copy;
	return 0;
}

static int check_readable(const char *what, const char *path, bool dir_ok, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		set_err(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !(dir_ok && S_ISDIR(st.st_mode))) {
		set_err(err, errlen, "%s %s: not a regular file%s", what, path,
			dir_ok ? " or directory" : "");
		return -1;
	}
	return 0;
}

static void set_defaults(struct config *config)
{
	memset(config, 0, sizeof(*config));
	config->listen_port = 8080;
	config->xff_hops = 2;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	config->workers = cpus > 0 ? (unsigned)cpus : 1;
	config->log_level = LOG_INFO;
	config->log_format = LOG_FORMAT_TEXT;
	config->mirror_timeout_ms = 2000;
	config->present_ttl_s = 3600;
	config->absent_ttl_s = 10;
	config->cache_entries = 65536;
	config->probe_interval_ms = 5000;
	config->header_timeout_ms = 10000;
	config->idle_timeout_ms = 60000;
	config->xdp_mode = XDP_PATH_MODE_AUTO;
}

static int apply_defaults_strings(struct config *config)
{
	if ((!config->upstream && !(config->upstream = strdup(CONFIG_DEFAULT_UPSTREAM))) ||
	    (!config->upstream_path &&
	     !(config->upstream_path = strdup(CONFIG_DEFAULT_UPSTREAM_PATH))) ||
	    (!config->default_mirror &&
	     !(config->default_mirror = strdup(CONFIG_DEFAULT_MIRROR))) ||
	    (!config->info_url && !(config->info_url = strdup(CONFIG_DEFAULT_INFO_URL))) ||
	    (!config->privacy_url && !(config->privacy_url = strdup(CONFIG_DEFAULT_PRIVACY_URL))) ||
	    (!config->bpffs_dir && !(config->bpffs_dir = strdup(CONFIG_DEFAULT_BPFFS))))
		return -1;
	return 0;
}

/* One setting from either source; `source` names it in errors ("--upstream" or
 * "UPSTREAM_REGISTRY_ENDPOINT"). */
static int apply_option(struct config *config, int opt, const char *value, const char *source,
			char *err, size_t errlen)
{
	unsigned long n;
	switch (opt) {
	case OPT_LISTEN:
		if (!config_parse_listen(value, &config->listen_host, &config->listen_port)) {
			set_err(err, errlen,
				"%s: bad listen address %s (want HOST:PORT, :PORT or [V6]:PORT)",
				source, value);
			return -1;
		}
		return 0;
	case OPT_UPSTREAM:
		return set_url(&config->upstream, source, value, true, err, errlen);
	case OPT_UPSTREAM_PATH:
		return set_upstream_path(config, value, err, errlen);
	case OPT_SIGNATURE_UPSTREAM:
		if (!*value) {
			free(config->signature_upstream);
			config->signature_upstream = NULL;
			return 0;
		}
		return set_url(&config->signature_upstream, source, value, true, err, errlen);
	case OPT_DEFAULT_MIRROR:
		return set_url(&config->default_mirror, source, value, true, err, errlen);
	case OPT_INFO_URL:
		return set_url(&config->info_url, source, value, false, err, errlen);
	case OPT_PRIVACY_URL:
		return set_url(&config->privacy_url, source, value, false, err, errlen);
	case OPT_RANGES:
		return add_range_path(config, value, err, errlen);
	case OPT_MIRRORS:
		if (replace_string(&config->mirrors_file, value) != 0) {
			set_err(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	case OPT_TRUSTED_PROXY:
		return add_proxy(config, value, err, errlen);
	case OPT_XFF_HOPS:
		if (!parse_uint(value, 1, 64, &n))
			goto bad_number;
		config->xff_hops = (unsigned)n;
		return 0;
	case OPT_WORKERS:
		if (!parse_uint(value, 1, 256, &n))
			goto bad_number;
		config->workers = (unsigned)n;
		return 0;
	case OPT_LOG_LEVEL:
		if (!log_level_parse(value, &config->log_level)) {
			set_err(err, errlen, "%s: bad log level %s (debug|info|warn|error)", source,
				value);
			return -1;
		}
		return 0;
	case OPT_LOG_FORMAT:
		if (!log_format_parse(value, &config->log_format)) {
			set_err(err, errlen, "%s: bad log format %s (text|json)", source, value);
			return -1;
		}
		return 0;
	case OPT_MIRROR_TIMEOUT:
		if (!parse_uint(value, 1, 60000, &n))
			goto bad_number;
		config->mirror_timeout_ms = (uint32_t)n;
		return 0;
	case OPT_PRESENT_TTL:
		if (!parse_uint(value, 1, 86400 * 7, &n))
			goto bad_number;
		config->present_ttl_s = (uint32_t)n;
		return 0;
	case OPT_ABSENT_TTL:
		if (!parse_uint(value, 1, 86400, &n))
			goto bad_number;
		config->absent_ttl_s = (uint32_t)n;
		return 0;
	case OPT_CACHE_ENTRIES:
		if (!parse_uint(value, 1, 1u << 24, &n))
			goto bad_number;
		config->cache_entries = (uint32_t)n;
		return 0;
	case OPT_PROBE_INTERVAL:
		if (!parse_uint(value, 100, 3600000, &n))
			goto bad_number;
		config->probe_interval_ms = (uint32_t)n;
		return 0;
	case OPT_HEADER_TIMEOUT:
		if (!parse_uint(value, 100, 600000, &n))
			goto bad_number;
		config->header_timeout_ms = (uint32_t)n;
		return 0;
	case OPT_IDLE_TIMEOUT:
		if (!parse_uint(value, 100, 3600000, &n))
			goto bad_number;
		config->idle_timeout_ms = (uint32_t)n;
		return 0;
	case OPT_CA_FILE:
		if (check_readable("CA file", value, false, err, errlen) != 0)
			return -1;
		return replace_string(&config->ca_file, value);
	case OPT_XDP_IFACE:
		if (!*value || strlen(value) >= 16 || strchr(value, '/')) {
			set_err(err, errlen, "%s: bad interface name %s", source, value);
			return -1;
		}
		return replace_string(&config->xdp_iface, value);
	case OPT_XDP_MODE:
		if (!xdp_path_mode_parse(value, &config->xdp_mode)) {
			set_err(err, errlen, "%s: bad XDP mode %s (native|skb|auto)", source,
				value);
			return -1;
		}
		return 0;
	case OPT_BPFFS:
		if (value[0] != '/') {
			set_err(err, errlen, "%s: bpffs directory must be absolute: %s", source,
				value);
			return -1;
		}
		return replace_string(&config->bpffs_dir, value);
	case OPT_XDP_KEEP:
		config->xdp_keep = true;
		return 0;
	case OPT_ACCESS_LOG:
		config->access_log = true;
		return 0;
	case OPT_JSON:
		config->json = true;
		return 0;
	}
	set_err(err, errlen, "internal: unknown option %d", opt);
	return -1;
bad_number:
	set_err(err, errlen, "%s: bad number %s", source, value);
	return -1;
}

static int apply_environment(struct config *config, config_getenv_fn getenv_fn, char *err,
			     size_t errlen)
{
	static const struct {
		const char *name;
		int opt;
	} simple[] = {
	    {"UPSTREAM_REGISTRY_ENDPOINT", OPT_UPSTREAM},
	    {"UPSTREAM_REGISTRY_PATH", OPT_UPSTREAM_PATH},
	    {"SIGNATURE_UPSTREAM_ENDPOINT", OPT_SIGNATURE_UPSTREAM},
	    {"DEFAULT_AWS_BASE_URL", OPT_DEFAULT_MIRROR},
	    {"INFO_URL", OPT_INFO_URL},
	    {"PRIVACY_URL", OPT_PRIVACY_URL},
	    {"ARCHEIO_MIRRORS", OPT_MIRRORS},
	    {"ARCHEIO_XFF_HOPS", OPT_XFF_HOPS},
	    {"ARCHEIO_WORKERS", OPT_WORKERS},
	    {"ARCHEIO_LOG_LEVEL", OPT_LOG_LEVEL},
	    {"ARCHEIO_LOG_FORMAT", OPT_LOG_FORMAT},
	};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		const char *v = getenv_fn(simple[i].name);
		if (v &&
		    (*v || simple[i].opt == OPT_SIGNATURE_UPSTREAM ||
		     simple[i].opt == OPT_UPSTREAM_PATH) &&
		    apply_option(config, simple[i].opt, v, simple[i].name, err, errlen) != 0)
			return -1;
	}
	const char *port = getenv_fn("PORT");
	if (port && *port) {
		unsigned long p;
		if (!parse_uint(port, 0, 65535, &p)) {
			set_err(err, errlen, "PORT: bad port %s", port);
			return -1;
		}
		config->listen_port = (uint16_t)p;
	}
	const char *ranges = getenv_fn("ARCHEIO_RANGES");
	if (ranges && for_each_item(ranges, ':', config, err, errlen, add_range_path) != 0)
		return -1;
	const char *proxies = getenv_fn("ARCHEIO_TRUSTED_PROXIES");
	if (proxies && for_each_item(proxies, ',', config, err, errlen, add_proxy) != 0)
		return -1;
	return 0;
}

static const char *option_name(int opt)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

enum config_result config_parse(struct config *config, int argc, char **argv,
				config_getenv_fn getenv_fn, char *err, size_t errlen)
{
	set_defaults(config);
	if (apply_environment(config, getenv_fn, err, errlen) != 0)
		return CONFIG_ERROR;
	bool ranges_flag_seen = false, proxy_flag_seen = false;
	opterr = 0;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (opt == 'h')
			return CONFIG_HELP;
		if (opt == '?') {
			set_err(err, errlen, "unknown flag %s", argv[optind - 1]);
			return CONFIG_ERROR;
		}
		if (opt == ':') {
			set_err(err, errlen, "flag %s needs a value", argv[optind - 1]);
			return CONFIG_ERROR;
		}
		/* A flag replaces the environment's list instead of adding to it. */
		if (opt == OPT_RANGES && !ranges_flag_seen) {
			clear_strings(&config->ranges, &config->ranges_count);
			ranges_flag_seen = true;
		}
		if (opt == OPT_TRUSTED_PROXY && !proxy_flag_seen) {
			free(config->proxies.prefixes);
			config->proxies.prefixes = NULL;
			config->proxies.count = 0;
			proxy_flag_seen = true;
		}
		char source[64];
		snprintf(source, sizeof(source), "--%s", option_name(opt));
		if (apply_option(config, opt, optarg, source, err, errlen) != 0)
			return CONFIG_ERROR;
	}
	for (int i = optind; i < argc; i++) {
		if (add_string(&config->args, &config->args_count, argv[i]) != 0) {
			set_err(err, errlen, "out of memory");
			return CONFIG_ERROR;
		}
	}
	for (size_t i = 0; i < config->ranges_count; i++)
		if (check_readable("ranges", config->ranges[i], true, err, errlen) != 0)
			return CONFIG_ERROR;
	if (config->mirrors_file &&
	    check_readable("mirrors file", config->mirrors_file, false, err, errlen) != 0)
		return CONFIG_ERROR;
	if (apply_defaults_strings(config) != 0) {
		set_err(err, errlen, "out of memory");
		return CONFIG_ERROR;
	}
	return CONFIG_OK;
}

void config_free(struct config *config)
{
	free(config->listen_host);
	free(config->upstream);
	free(config->upstream_path);
	free(config->signature_upstream);
	free(config->default_mirror);
	free(config->info_url);
	free(config->privacy_url);
	clear_strings(&config->ranges, &config->ranges_count);
	free(config->mirrors_file);
	free(config->proxies.prefixes);
	free(config->ca_file);
	free(config->xdp_iface);
	free(config->bpffs_dir);
	clear_strings(&config->args, &config->args_count);
	memset(config, 0, sizeof(*config));
}
