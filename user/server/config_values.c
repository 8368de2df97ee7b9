/* Option values that need their own parsing (see config_values.h). */
#include "config_values.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archeio/core/duration.h"
#include "archeio/core/url_check.h"
#include "archeio/core/oci.h"
#include "archeio/server/config.h"

static bool out_of_memory(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return false;
}

static bool set_url(void *target, const struct option_spec *spec, const char *value, bool base,
		    const char *source, char *err, size_t errlen)
{
	const char *problem = url_check_reason(value, base ? URL_BASE : URL_PAGE);
	if (problem) {
		snprintf(err, errlen, "%s: %s: %s", source, problem, value);
		return false;
	}
	char *copy = strdup(value);
	if (!copy)
		return out_of_memory(err, errlen);
	/* Paths are joined to a base, so its trailing slashes would double;
	 * a page URL is answered byte for byte, its slash is the operator's. */
	size_t n = strlen(copy);
	while (base && n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char **slot = option_field(target, spec);
	free(*slot);
	*slot = copy;
	return true;
}

bool config_set_base_url(void *target, const struct option_spec *spec, const char *value,
			 const char *source, char *err, size_t errlen)
{
	return set_url(target, spec, value, true, source, err, errlen);
}

bool config_set_optional_base_url(void *target, const struct option_spec *spec, const char *value,
				  const char *source, char *err, size_t errlen)
{
	if (*value)
		return set_url(target, spec, value, true, source, err, errlen);
	char **slot = option_field(target, spec);
	free(*slot);
	*slot = NULL;
	return true;
}

bool config_set_page_url(void *target, const struct option_spec *spec, const char *value,
			 const char *source, char *err, size_t errlen)
{
	return set_url(target, spec, value, false, source, err, errlen);
}

bool config_set_upstream_path(void *target, const struct option_spec *spec, const char *value,
			      const char *source, char *err, size_t errlen)
{
	(void)source;
	while (*value == '/')
		value++;
	size_t n = strlen(value);
	while (n > 0 && value[n - 1] == '/')
		n--;
	/* It is pasted into every Location, so it must be a valid repository path. */
	if (n > 0 && !oci_name_valid(value, n)) {
		snprintf(err, errlen, "upstream path: not a valid repository path: %s", value);
		return false;
	}
	char *copy = strndup(value, n);
	if (!copy)
		return out_of_memory(err, errlen);
	char **slot = option_field(target, spec);
	free(*slot);
	*slot = copy;
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
		if (!(h = strndup(text + 1, (size_t)(close - text - 1))))
			goto out_of_memory;
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return false;
		if (colon != text && !(h = strndup(text, (size_t)(colon - text))))
			goto out_of_memory;
	}
	unsigned long p;
	struct ip_addr unused;
	if (!options_parse_uint(colon + 1, 0, 65535, &p) || (h && (!*h || !ip_parse(h, &unused)))) {
		free(h);
		return false;
	}
	free(*host);
	*host = h;
	*port = (uint16_t)p;
	return true;
out_of_memory:
	/* Not "no host": that would mean every address. */
	errno = ENOMEM;
	return false;
}

bool config_set_listen(void *target, const struct option_spec *spec, const char *value,
		       const char *source, char *err, size_t errlen)
{
	(void)spec;
	struct config *config = target;
	errno = 0;
	if (!config_parse_listen(value, &config->listen_host, &config->listen_port)) {
		if (errno == ENOMEM)
			return false; /* the caller says "out of memory" */
		snprintf(err, errlen,
			 "%s: bad listen address %s (want HOST:PORT, :PORT or [V6]:PORT)", source,
			 value);
		return false;
	}
	return true;
}

void config_clear_listen(void *target, const struct option_spec *spec)
{
	(void)spec;
	struct config *config = target;
	free(config->listen_host);
	config->listen_host = NULL;
}

bool config_add_trusted_proxy(void *target, const struct option_spec *spec, const char *value,
			      const char *source, char *err, size_t errlen)
{
	struct ip_prefix prefix;
	if (!ip_prefix_parse(value, true, &prefix)) {
		/* Host bits set is the likely typo: say so, with the network meant. */
		if (ip_prefix_parse(value, false, &prefix)) {
			char net[64];
			ip_format(&prefix.addr, net, sizeof(net));
			snprintf(err, errlen, "%s: %s has host bits set (the network is %s/%u)",
				 source, value, net, (unsigned)prefix.len);
		} else {
			snprintf(err, errlen, "%s: bad CIDR %s", source, value);
		}
		return false;
	}
	struct trusted_proxies *proxies = option_field(target, spec);
	struct ip_prefix *grown =
	    realloc(proxies->prefixes, (proxies->count + 1) * sizeof(*proxies->prefixes));
	if (!grown)
		return out_of_memory(err, errlen);
	proxies->prefixes = grown;
	proxies->prefixes[proxies->count++] = prefix;
	return true;
}

void config_clear_trusted_proxies(void *target, const struct option_spec *spec)
{
	struct trusted_proxies *proxies = option_field(target, spec);
	free(proxies->prefixes);
	proxies->prefixes = NULL;
	proxies->count = 0;
}

#define DURATION_MAX_S ((uint64_t)3650 * 86400)

bool config_set_duration(void *target, const struct option_spec *spec, const char *value,
			 const char *source, char *err, size_t errlen)
{
	uint64_t seconds;
	if (!duration_parse_seconds(value, DURATION_MAX_S, &seconds)) {
		snprintf(err, errlen,
			 "%s: bad duration %s (want e.g. 7d, 12h, 30m, 3600s or seconds; at most "
			 "3650d)",
			 source, value);
		return false;
	}
	*(uint64_t *)option_field(target, spec) = seconds;
	return true;
}

bool config_check_listen_addr(const char *value, const char *source, char *err, size_t errlen)
{
	char *host = NULL;
	uint16_t port;
	errno = 0;
	bool ok = config_parse_listen(value, &host, &port);
	free(host);
	/* Out of memory is not a bad address: no message, the caller says it. */
	if (!ok && errno != ENOMEM)
		snprintf(err, errlen,
			 "%s: bad listen address %s (want HOST:PORT, :PORT or [V6]:PORT)", source,
			 value);
	return ok;
}

bool config_check_iface(const char *value, const char *source, char *err, size_t errlen)
{
	/* Linux interface names: 1..15 bytes (IFNAMSIZ with its NUL), no '/'. */
	if (!*value || strlen(value) >= 16 || strchr(value, '/')) {
		snprintf(err, errlen, "%s: bad interface name %s", source, value);
		return false;
	}
	return true;
}

bool config_check_bpffs(const char *value, const char *source, char *err, size_t errlen)
{
	if (value[0] != '/') {
		snprintf(err, errlen, "%s: bpffs directory must be absolute: %s", source, value);
		return false;
	}
	return true;
}

bool config_check_account(const char *value, const char *source, char *err, size_t errlen)
{
	if (!*value || strpbrk(value, ":/") || strlen(value) > 64) {
		snprintf(err, errlen, "%s: bad user or group name '%s'", source, value);
		return false;
	}
	return true;
}

bool config_check_ca_file(const char *value, const char *source, char *err, size_t errlen)
{
	(void)source;
	return config_check_readable("CA file", value, false, err, errlen);
}

bool config_check_readable(const char *what, const char *path, bool dir_ok, char *err,
			   size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode) && !(dir_ok && S_ISDIR(st.st_mode))) {
		snprintf(err, errlen, "%s %s: not a regular file%s", what, path,
			 dir_ok ? " or directory" : "");
		return false;
	}
	return true;
}
