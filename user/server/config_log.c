#include "config_log.h"

void config_log(const struct config *config, const struct logger *log)
{
	const struct config *c = config;
	const struct log_field fields[] = {
	    LOG_TEXT("upstream", c->upstream),
	    LOG_TEXT("upstream_path", c->upstream_path),
	    LOG_TEXT("signature_upstream", c->signature_upstream),
	    LOG_TEXT("default_mirror", c->default_mirror),
	    LOG_TEXT("info_url", c->info_url),
	    LOG_TEXT("privacy_url", c->privacy_url),
	    LOG_TEXT("mirrors", c->mirrors_file ? c->mirrors_file : "built-in"),
	    LOG_TEXT("upstream_rules", c->upstream_rules_file),
	    LOG_TEXT("limits_file", c->limits_file),
	    LOG_NUMBER("ranges", c->ranges_count),
	    LOG_NUMBER("trusted_proxies", c->proxies.count),
	    LOG_NUMBER("xff_hops", c->xff_hops),
	    LOG_TEXT("proxy_protocol", c->proxy_protocol ? "on" : "off"),
	    LOG_NUMBER("workers", c->workers),
	    LOG_TEXT("access_log", c->access_log ? "on" : "off"),
	    LOG_TEXT("xdp", c->xdp_iface),
	};
	log_record(log, LOG_INFO, "config", fields, sizeof(fields) / sizeof(fields[0]));
}
