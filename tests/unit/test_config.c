/* Flags and environment: precedence, defaults, and one clear error per bad value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/server/config.h"
#include "server/config_log.h"

/* The fake environment of the current test (test-only state). */
static const char *const *fake_env;

static const char *env_lookup(const char *name)
{
	for (const char *const *e = fake_env; e && *e; e += 2)
		if (strcmp(e[0], name) == 0)
			return e[1];
	return NULL;
}

static enum config_result parse(struct config *c, const char *const *env, char *err, size_t len,
				int argc, const char **argv)
{
	fake_env = env;
	return config_parse(c, argc, (char **)argv, env_lookup, err, len);
}

#define PARSE(c, env, err, ...)                                                                    \
	parse(c, env, err, sizeof(err),                                                            \
	      (int)(sizeof((const char *[]){"serve", __VA_ARGS__}) / sizeof(const char *)),        \
	      (const char *[]){"serve", __VA_ARGS__})

static void defaults(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	const char *argv[] = {"serve"};
	assert_int_equal(parse(&c, NULL, err, sizeof(err), 1, argv), CONFIG_OK);
	assert_null(c.listen_host);
	assert_int_equal(c.listen_port, 8080);
	assert_string_equal(c.upstream, "https://us-central1-docker.pkg.dev");
	assert_string_equal(c.upstream_path, "k8s-artifacts-prod/images");
	assert_null(c.signature_upstream);
	assert_string_equal(c.default_mirror, "https://d1be1w964nk82h.cloudfront.net");
	assert_string_equal(c.info_url, "https://github.com/kubernetes/registry.k8s.io");
	assert_string_equal(c.privacy_url, "https://www.linuxfoundation.org/privacy-policy/");
	assert_int_equal(c.ranges_count, 0);
	assert_null(c.mirrors_file);
	assert_int_equal(c.proxies.count, 0);
	assert_int_equal(c.xff_hops, 2);
	assert_true(c.workers >= 1);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.log_format, LOG_FORMAT_TEXT);
	assert_int_equal(c.mirror_timeout_ms, 2000);
	assert_int_equal(c.probe_interval_ms, 5000);
	assert_null(c.xdp_iface);
	assert_string_equal(c.bpffs_dir, "/sys/fs/bpf/archeio");
	config_free(&c);
}

static void environment_is_read(void **state)
{
	(void)state;
	const char *env[] = {"PORT",
			     "9090",
			     "UPSTREAM_REGISTRY_ENDPOINT",
			     "http://127.0.0.1:5000/",
			     "UPSTREAM_REGISTRY_PATH",
			     "/mirror/images/",
			     "SIGNATURE_UPSTREAM_ENDPOINT",
			     "http://127.0.0.1:5001",
			     "DEFAULT_AWS_BASE_URL",
			     "http://127.0.0.1:8081",
			     "INFO_URL",
			     "http://127.0.0.1/info",
			     "PRIVACY_URL",
			     "http://127.0.0.1/privacy",
			     "ARCHEIO_RANGES",
			     "tests/unit:tests",
			     "ARCHEIO_TRUSTED_PROXIES",
			     "127.0.0.1/32, 10.0.0.0/8",
			     "ARCHEIO_XFF_HOPS",
			     "1",
			     "ARCHEIO_WORKERS",
			     "3",
			     "ARCHEIO_LOG_LEVEL",
			     "debug",
			     "ARCHEIO_LOG_FORMAT",
			     "json",
			     NULL};
	struct config c;
	char err[256];
	const char *argv[] = {"serve"};
	assert_int_equal(parse(&c, env, err, sizeof(err), 1, argv), CONFIG_OK);
	assert_int_equal(c.listen_port, 9090);
	assert_string_equal(c.upstream, "http://127.0.0.1:5000");
	assert_string_equal(c.upstream_path, "mirror/images");
	assert_string_equal(c.signature_upstream, "http://127.0.0.1:5001");
	assert_string_equal(c.default_mirror, "http://127.0.0.1:8081");
	assert_int_equal(c.ranges_count, 2);
	assert_string_equal(c.ranges[1], "tests");
	assert_int_equal(c.proxies.count, 2);
	assert_int_equal(c.xff_hops, 1);
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(c.log_format, LOG_FORMAT_JSON);
	config_free(&c);
}

static void flags_override_environment(void **state)
{
	(void)state;
	const char *env[] = {"UPSTREAM_REGISTRY_ENDPOINT",
			     "http://127.0.0.1:5000",
			     "ARCHEIO_RANGES",
			     "tests",
			     "ARCHEIO_TRUSTED_PROXIES",
			     "10.0.0.0/8",
			     "UPSTREAM_REGISTRY_PATH",
			     "x",
			     NULL};
	struct config c;
	char err[256];
	assert_int_equal(PARSE(&c, env, err, "--upstream", "https://127.0.0.2", "--ranges",
			       "tests/unit", "--ranges", "include", "--trusted-proxy", "::1",
			       "--upstream-path", "", "--listen", "[::1]:0", "--access-log"),
			 CONFIG_OK);
	assert_string_equal(c.upstream, "https://127.0.0.2");
	assert_int_equal(c.ranges_count, 2);
	assert_string_equal(c.ranges[0], "tests/unit");
	assert_int_equal(c.proxies.count, 1);
	assert_int_equal(c.proxies.prefixes[0].len, 128);
	assert_string_equal(c.upstream_path, "");
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 0);
	assert_true(c.access_log);
	config_free(&c);
}

/* Info and privacy URLs are answered byte for byte (a trailing slash or a
 * query kept), from flags and environment alike; passing the default
 * explicitly changes nothing. Only URLs that paths are joined to (upstreams,
 * mirror bases) lose their trailing slash. */
static void page_urls_are_kept_byte_for_byte(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	assert_int_equal(PARSE(&c, NULL, err, "--info-url", "https://example.org/", "--privacy-url",
			       "https://example.org/privacy/", "--upstream", "https://up.example/",
			       "--default-mirror", "https://cdn.example//"),
			 CONFIG_OK);
	assert_string_equal(c.info_url, "https://example.org/");
	assert_string_equal(c.privacy_url, "https://example.org/privacy/");
	assert_string_equal(c.upstream, "https://up.example");
	assert_string_equal(c.default_mirror, "https://cdn.example");
	config_free(&c);

	assert_int_equal(PARSE(&c, NULL, err, "--info-url", "http://127.0.0.1/info",
			       "--privacy-url", "https://example.org/p?lang=en"),
			 CONFIG_OK);
	assert_string_equal(c.info_url, "http://127.0.0.1/info");
	assert_string_equal(c.privacy_url, "https://example.org/p?lang=en");
	config_free(&c);

	const char *env[] = {"INFO_URL", "https://example.org/", "PRIVACY_URL",
			     "https://example.org/privacy/", NULL};
	const char *argv[] = {"serve"};
	assert_int_equal(parse(&c, env, err, sizeof(err), 1, argv), CONFIG_OK);
	assert_string_equal(c.info_url, "https://example.org/");
	assert_string_equal(c.privacy_url, "https://example.org/privacy/");
	config_free(&c);

	assert_int_equal(PARSE(&c, NULL, err, "--privacy-url", CONFIG_DEFAULT_PRIVACY_URL,
			       "--info-url", CONFIG_DEFAULT_INFO_URL),
			 CONFIG_OK);
	assert_string_equal(c.privacy_url, "https://www.linuxfoundation.org/privacy-policy/");
	assert_string_equal(c.info_url, "https://github.com/kubernetes/registry.k8s.io");
	config_free(&c);
}

static void expect_error(const char *flag, const char *value, const char *needle)
{
	struct config c;
	char err[256] = "";
	const char *argv[] = {"serve", flag, value};
	assert_int_equal(parse(&c, NULL, err, sizeof(err), value ? 3 : 2, argv), CONFIG_ERROR);
	if (!strstr(err, needle))
		fail_msg("error for %s %s was \"%s\", wanted it to mention \"%s\"", flag,
			 value ? value : "", err, needle);
	config_free(&c);
}

static void bad_values_are_refused(void **state)
{
	(void)state;
	expect_error("--upstream", "ftp://x", "ftp://x");
	expect_error("--upstream", "example.com", "example.com");
	expect_error("--upstream", "http://127.0.0.1/?q=1", "?q=1");
	expect_error("--signature-upstream", "/relative", "/relative");
	expect_error("--default-mirror", "http://", "http://");
	expect_error("--info-url", "javascript:alert(1)", "javascript");
	expect_error("--upstream-path", "a/../b", "a/../b");
	expect_error("--upstream-path", "Upper/Case", "Upper/Case");
	expect_error("--trusted-proxy", "10.0.0.1/8", "10.0.0.1/8");
	expect_error("--trusted-proxy", "banana", "banana");
	expect_error("--xff-hops", "0", "0");
	expect_error("--xff-hops", "-1", "-1");
	expect_error("--workers", "many", "many");
	expect_error("--listen", "8080", "8080");
	expect_error("--listen", "1.2.3.4:99999", "99999");
	expect_error("--listen", "nohost:80", "nohost:80");
	expect_error("--log-level", "loud", "loud");
	expect_error("--log-format", "xml", "xml");
	expect_error("--ranges", "/nonexistent/ranges.json", "/nonexistent/ranges.json");
	expect_error("--mirrors", "tests", "not a regular file");
	expect_error("--upstream-rules", "tests", "not a regular file");
	expect_error("--upstream-rules", "/nonexistent/upstreams", "/nonexistent/upstreams");
	expect_error("--limits-file", "/nonexistent/limits", "limits file /nonexistent/limits");
	expect_error("--xdp-mode", "fast", "fast");
	expect_error("--mirror-probe-interval-ms", "5", "5");
	expect_error("--bpffs", "relative", "relative");
	expect_error("--no-such-flag", NULL, "--no-such-flag");
	expect_error("--upstream", NULL, "needs a value");
	expect_error("--metrics-listen", "9090", "9090");
	expect_error("--metrics-listen", "nohost:9090", "nohost:9090");
	expect_error("--ranges-max-age", "7 days", "7 days");
	expect_error("--ranges-max-age", "-1d", "-1d");
	expect_error("--ranges-max-age", "3651d", "3651d");
}

static void expect_exact_error(const char *flag, const char *value, const char *want)
{
	struct config c;
	char err[256] = "";
	const char *argv[] = {"serve", flag, value};
	assert_int_equal(parse(&c, NULL, err, sizeof(err), 3, argv), CONFIG_ERROR);
	assert_string_equal(err, want);
	config_free(&c);
}

/* A refusal names what is wrong with the value, not only that it is wrong. */
static void refusals_name_the_problem(void **state)
{
	(void)state;
	expect_exact_error("--upstream", "https://x/?a=1",
			   "--upstream: a query is not allowed (paths are appended to this URL): "
			   "https://x/?a=1");
	expect_exact_error("--default-mirror", "http://u:p@x",
			   "--default-mirror: user info (user:password@) is not allowed: "
			   "http://u:p@x");
	expect_exact_error("--trusted-proxy", "10.0.0.1/8",
			   "--trusted-proxy: 10.0.0.1/8 has host bits set (the network is "
			   "10.0.0.0/8)");
	expect_exact_error("--trusted-proxy", "2001:db8::1/32",
			   "--trusted-proxy: 2001:db8::1/32 has host bits set (the network is "
			   "2001:db8::/32)");
	expect_exact_error("--trusted-proxy", "banana", "--trusted-proxy: bad CIDR banana");
	expect_exact_error("--info-url", "https://example.org/#top",
			   "--info-url: a fragment (#) is not allowed: https://example.org/#top");
	expect_exact_error("--info-url", "https://example.org:99999/",
			   "--info-url: bad port (want 1 to 65535): https://example.org:99999/");
	expect_exact_error("--signature-upstream", "https://exa mple.org",
			   "--signature-upstream: spaces, control characters and non-ASCII bytes "
			   "are not allowed: https://exa mple.org");
	expect_exact_error("--upstream", "ftp://x",
			   "--upstream: not an absolute http(s) URL: ftp://x");
	/* A page URL may carry a query; only bases may not. */
	expect_exact_error("--privacy-url", "https://", "--privacy-url: no host: https://");
}

/* --metrics-listen is off unless given; --ranges-max-age is 7 days unless
 * given, as a duration with a unit or plain seconds (0: never stale). */
static void metrics_and_ranges_age_flags(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	assert_int_equal(PARSE(&c, NULL, err, "--workers", "1"), CONFIG_OK);
	assert_null(c.metrics_listen);
	assert_int_equal(c.ranges_max_age_s, 7 * 86400);
	config_free(&c);
	assert_int_equal(
	    PARSE(&c, NULL, err, "--metrics-listen", ":9090", "--ranges-max-age", "12h"),
	    CONFIG_OK);
	assert_string_equal(c.metrics_listen, ":9090");
	assert_int_equal(c.ranges_max_age_s, 12 * 3600);
	config_free(&c);
	const char *env[] = {"ARCHEIO_RANGES_MAX_AGE", "3600", "ARCHEIO_METRICS_LISTEN",
			     "[::1]:9091", NULL};
	assert_int_equal(PARSE(&c, env, err, "--workers", "1"), CONFIG_OK);
	assert_int_equal(c.ranges_max_age_s, 3600);
	assert_string_equal(c.metrics_listen, "[::1]:9091");
	config_free(&c);
	assert_int_equal(PARSE(&c, env, err, "--ranges-max-age", "0"), CONFIG_OK);
	assert_int_equal(c.ranges_max_age_s, 0);
	config_free(&c);
	expect_exact_error("--ranges-max-age", "1h30m",
			   "--ranges-max-age: bad duration 1h30m (want e.g. 7d, 12h, 30m, 3600s or "
			   "seconds; at most 3650d)");
}

static void bad_environment_is_refused(void **state)
{
	(void)state;
	const char *env[] = {"PORT", "http", NULL};
	struct config c;
	char err[256];
	const char *argv[] = {"serve"};
	assert_int_equal(parse(&c, env, err, sizeof(err), 1, argv), CONFIG_ERROR);
	assert_non_null(strstr(err, "PORT"));
	config_free(&c);
	const char *env2[] = {"UPSTREAM_REGISTRY_ENDPOINT", "gopher://x", NULL};
	assert_int_equal(parse(&c, env2, err, sizeof(err), 1, argv), CONFIG_ERROR);
	assert_non_null(strstr(err, "UPSTREAM_REGISTRY_ENDPOINT"));
	config_free(&c);
}

static void help_and_arguments(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	assert_int_equal(PARSE(&c, NULL, err, "--help"), CONFIG_HELP);
	config_free(&c);
	assert_int_equal(PARSE(&c, NULL, err, "1.2.3.4", "--json", "::1"), CONFIG_OK);
	assert_int_equal(c.args_count, 2);
	assert_string_equal(c.args[1], "::1");
	assert_true(c.json);
	config_free(&c);
}

static void tuning_flags(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	assert_int_equal(PARSE(&c, NULL, err, "--mirror-timeout-ms", "250", "--mirror-present-ttl",
			       "60", "--mirror-absent-ttl", "5", "--mirror-cache-entries", "100",
			       "--header-timeout-ms", "300", "--idle-timeout-ms", "400",
			       "--ca-file", "Makefile", "--xdp-iface", "veth0", "--xdp-mode", "skb",
			       "--bpffs", "/sys/fs/bpf/x", "--xdp-keep", "--signature-upstream",
			       ""),
			 CONFIG_OK);
	assert_int_equal(c.mirror_timeout_ms, 250);
	assert_int_equal(c.present_ttl_s, 60);
	assert_int_equal(c.absent_ttl_s, 5);
	assert_int_equal(c.cache_entries, 100);
	assert_int_equal(c.header_timeout_ms, 300);
	assert_int_equal(c.idle_timeout_ms, 400);
	assert_string_equal(c.ca_file, "Makefile");
	assert_string_equal(c.xdp_iface, "veth0");
	assert_int_equal(c.xdp_mode, XDP_PATH_MODE_SKB);
	assert_string_equal(c.bpffs_dir, "/sys/fs/bpf/x");
	assert_true(c.xdp_keep);
	assert_null(c.signature_upstream); /* empty turns it off */
	config_free(&c);
}

/* Each numeric flag refuses values outside its range, naming flag and value. */
static void tuning_flags_out_of_range(void **state)
{
	(void)state;
	expect_error("--mirror-timeout-ms", "0", "--mirror-timeout-ms: bad number 0");
	expect_error("--mirror-timeout-ms", "60001", "60001");
	expect_error("--mirror-present-ttl", "604801", "--mirror-present-ttl: bad number 604801");
	expect_error("--mirror-absent-ttl", "86401", "--mirror-absent-ttl: bad number 86401");
	expect_error("--mirror-cache-entries", "16777217", "--mirror-cache-entries: bad number");
	expect_error("--header-timeout-ms", "99", "--header-timeout-ms: bad number 99");
	expect_error("--idle-timeout-ms", "3600001", "--idle-timeout-ms: bad number 3600001");
	expect_error("--workers", "257", "--workers: bad number 257");
	expect_error("--workers", "+3", "+3");
	expect_error("--workers", "99999999999999999999999", "99999999999999999999999");
	expect_error("--ca-file", "/nonexistent/ca.pem",
		     "CA file /nonexistent/ca.pem: No such file");
	expect_error("--ca-file", "tests", "CA file tests: not a regular file");
	expect_error("--xdp-iface", "", "--xdp-iface: bad interface name");
	expect_error("--xdp-iface", "a-name-of-16-chr", "a-name-of-16-chr");
	expect_error("--xdp-iface", "eth0/1", "eth0/1");
	expect_error("--rate-limit-exempt", "10.0.0.1/8", "10.0.0.1/8 is neither a CIDR");
	expect_error("--rate-limit-exempt", "aws:", "aws:");
	expect_error("--rate-limit-v6-prefix", "65", "--rate-limit-v6-prefix: bad number 65");
	expect_error("--rate-burst", "0", "--rate-burst: bad number 0");
	expect_error("--xdp-syn-limit", "100", "--xdp-syn-limit needs --xdp-iface");
	expect_error("--ranges", "/dev/null", "ranges /dev/null: not a regular file or directory");
}

/* Comma lists from the environment: spaces and empty items are skipped. */
static void proxy_list_from_environment(void **state)
{
	(void)state;
	const char *env[] = {"ARCHEIO_TRUSTED_PROXIES", " 127.0.0.1/32 ,, ::1 , ", "ARCHEIO_RANGES",
			     "::tests::", NULL};
	struct config c;
	char err[256];
	const char *argv[] = {"serve"};
	assert_int_equal(parse(&c, env, err, sizeof(err), 1, argv), CONFIG_OK);
	assert_int_equal(c.proxies.count, 2);
	assert_int_equal(c.proxies.prefixes[0].len, 32);
	assert_int_equal(c.proxies.prefixes[1].len, 128);
	assert_int_equal(c.ranges_count, 1);
	assert_string_equal(c.ranges[0], "tests");
	config_free(&c);

	const char *bad[] = {"ARCHEIO_TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.1/8", NULL};
	assert_int_equal(parse(&c, bad, err, sizeof(err), 1, argv), CONFIG_ERROR);
	assert_string_equal(err, "ARCHEIO_TRUSTED_PROXIES: 10.0.0.1/8 has host bits set (the "
				 "network is 10.0.0.0/8)");
	config_free(&c);

	/* Empty variables are unset, except the two where empty means "none". */
	const char *empty[] = {"ARCHEIO_WORKERS",
			       "",
			       "UPSTREAM_REGISTRY_PATH",
			       "",
			       "SIGNATURE_UPSTREAM_ENDPOINT",
			       "",
			       "PORT",
			       "",
			       NULL};
	assert_int_equal(parse(&c, empty, err, sizeof(err), 1, argv), CONFIG_OK);
	assert_true(c.workers >= 1);
	assert_string_equal(c.upstream_path, "");
	assert_null(c.signature_upstream);
	assert_int_equal(c.listen_port, 8080);
	config_free(&c);

	const char *bad_env_value[] = {"ARCHEIO_LOG_LEVEL", "chatty", NULL};
	assert_int_equal(parse(&c, bad_env_value, err, sizeof(err), 1, argv), CONFIG_ERROR);
	assert_string_equal(err, "ARCHEIO_LOG_LEVEL: bad log level chatty (debug|info|warn|error)");
	config_free(&c);
}

static void run_as_user(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	const char *argv[] = {"serve"};
	assert_int_equal(parse(&c, NULL, err, sizeof(err), 1, argv), CONFIG_OK);
	assert_null(c.run_user);
	assert_null(c.run_group);
	config_free(&c);

	assert_int_equal(PARSE(&c, NULL, err, "--user", "nobody", "--group", "nogroup"), CONFIG_OK);
	assert_string_equal(c.run_user, "nobody");
	assert_string_equal(c.run_group, "nogroup");
	config_free(&c);

	const char *env[] = {"ARCHEIO_USER", "archeio", "ARCHEIO_GROUP", "65534", NULL};
	assert_int_equal(parse(&c, env, err, sizeof(err), 1, argv), CONFIG_OK);
	assert_string_equal(c.run_user, "archeio");
	assert_string_equal(c.run_group, "65534");
	config_free(&c);
	assert_int_equal(PARSE(&c, env, err, "--user", "nobody"), CONFIG_OK);
	assert_string_equal(c.run_user, "nobody");
	config_free(&c);

	/* Whether the names exist is looked up when the server starts. */
	assert_int_equal(PARSE(&c, NULL, err, "--group", "nogroup"), CONFIG_ERROR);
	assert_string_equal(err, "--group needs --user");
	config_free(&c);
	assert_int_equal(PARSE(&c, NULL, err, "--user", ""), CONFIG_ERROR);
	assert_string_equal(err, "--user: bad user or group name ''");
	config_free(&c);
	assert_int_equal(PARSE(&c, NULL, err, "--user", "a:b"), CONFIG_ERROR);
	assert_string_equal(err, "--user: bad user or group name 'a:b'");
	config_free(&c);
	assert_int_equal(PARSE(&c, NULL, err, "--user", "nobody", "--group", "x/y"), CONFIG_ERROR);
	assert_string_equal(err, "--group: bad user or group name 'x/y'");
	config_free(&c);
}

/* TLS pairs and extra plain listeners are checked on the whole result: the
 * counts must match and stay within bounds, the files must be there. */
static void tls_and_plain_listens_are_checked_whole(void **state)
{
	(void)state;
	struct config c;
	char err[256] = "";
	assert_int_equal(PARSE(&c, NULL, err, "--tls-cert", "README.md"), CONFIG_ERROR);
	assert_string_equal(err,
			    "--tls-cert and --tls-key come in pairs: 1 certificate(s), 0 key(s)");
	config_free(&c);
	assert_int_equal(
	    PARSE(&c, NULL, err, "--tls-cert", "README.md", "--tls-key", "/nonexistent/a.key"),
	    CONFIG_ERROR);
	assert_non_null(strstr(err, "/nonexistent/a.key"));
	config_free(&c);
	assert_int_equal(PARSE(&c, NULL, err, "--tls-ktls"), CONFIG_ERROR);
	assert_string_equal(err, "--tls-ktls needs --tls-cert and --tls-key");
	config_free(&c);
	assert_int_equal(
	    PARSE(&c, NULL, err, "--tls-cert", "README.md", "--tls-key", "README.md", "--tls-ktls"),
	    CONFIG_OK);
	assert_true(c.tls_ktls);
	config_free(&c);

	/* 17 pairs through the environment (':'-separated lists). */
	char list[17 * 10 + 1] = "";
	for (int i = 0; i < 17; i++)
		strcat(list, i ? ":README.md" : "README.md");
	const char *env[] = {"ARCHEIO_TLS_CERT", list, "ARCHEIO_TLS_KEY", list, NULL};
	const char *argv[] = {"serve"};
	assert_int_equal(parse(&c, env, err, sizeof(err), 1, argv), CONFIG_ERROR);
	assert_string_equal(err, "--tls-cert: at most 16 certificates");
	config_free(&c);

	assert_int_equal(PARSE(&c, NULL, err, "--plain-listen", "127.0.0.1"), CONFIG_ERROR);
	assert_string_equal(err, "--plain-listen: bad address \"127.0.0.1\"");
	config_free(&c);
	const char *nine[19] = {"serve"};
	for (int i = 0; i < 9; i++) {
		nine[1 + 2 * i] = "--plain-listen";
		nine[2 + 2 * i] = "127.0.0.1:8080";
	}
	assert_int_equal(parse(&c, NULL, err, sizeof(err), 19, nine), CONFIG_ERROR);
	assert_string_equal(err, "--plain-listen: at most 8");
	config_free(&c);
	assert_int_equal(parse(&c, NULL, err, sizeof(err), 17, nine), CONFIG_OK);
	assert_int_equal(c.plain_listen_count, 8);
	config_free(&c);
}

static void usage_documents_every_flag(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	config_print_usage(out);
	fclose(out);
	static const char *const flags[] = {
	    "--listen",
	    "--upstream ",
	    "--upstream-path",
	    "--signature-upstream",
	    "--default-mirror",
	    "--info-url",
	    "--privacy-url",
	    "--ranges",
	    "--mirrors",
	    "--trusted-proxy",
	    "--xff-hops",
	    "--workers",
	    "--log-level",
	    "--log-format",
	    "--access-log",
	    "--mirror-timeout-ms",
	    "--mirror-present-ttl",
	    "--mirror-absent-ttl",
	    "--mirror-cache-entries",
	    "--ca-file",
	    "--header-timeout-ms",
	    "--idle-timeout-ms",
	    "--xdp-iface",
	    "--xdp-mode",
	    "--bpffs",
	    "--xdp-keep",
	    "--user",
	    "--group",
	    "--json",
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strstr(text, flags[i]))
			fail_msg("usage does not mention %s", flags[i]);
	free(text);
}

static void listen_forms(void **state)
{
	(void)state;
	char *host = NULL;
	uint16_t port = 0;
	assert_true(config_parse_listen(":80", &host, &port));
	assert_null(host);
	assert_int_equal(port, 80);
	assert_true(config_parse_listen("127.0.0.1:81", &host, &port));
	assert_string_equal(host, "127.0.0.1");
	assert_true(config_parse_listen("[2001:db8::1]:82", &host, &port));
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 82);
	assert_false(config_parse_listen("2001:db8::1:82", &host, &port));
	assert_false(config_parse_listen("[::1]82", &host, &port));
	assert_false(config_parse_listen(":", &host, &port));
	free(host);
}

/* The start-up configuration is one record of fields: numbers are JSON
 * numbers, what is off is "-". */
static void configuration_is_logged_as_fields(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	assert_int_equal(PARSE(&c, NULL, err, "--upstream", "http://127.0.0.1:5000/",
			       "--upstream-path", "", "--workers", "3", "--trusted-proxy",
			       "10.0.0.0/8", "--info-url", "http://127.0.0.1/i/"),
			 CONFIG_OK);
	char *text = NULL;
	size_t len = 0;
	struct logger log = {.level = LOG_INFO, .format = LOG_FORMAT_JSON};
	log.out = open_memstream(&text, &len);
	config_log(&c, &log);
	fclose(log.out);
	assert_non_null(strstr(
	    text,
	    "\"msg\":\"config\",\"upstream\":\"http://127.0.0.1:5000\","
	    "\"upstream_path\":\"\",\"signature_upstream\":\"-\","
	    "\"default_mirror\":\"https://d1be1w964nk82h.cloudfront.net\","
	    "\"info_url\":\"http://127.0.0.1/i/\","
	    "\"privacy_url\":\"https://www.linuxfoundation.org/privacy-policy/\","
	    "\"mirrors\":\"built-in\",\"upstream_rules\":\"-\",\"limits_file\":\"-\",\"ranges\":0,"
	    "\"trusted_proxies\":1,"
	    "\"xff_hops\":2,\"proxy_protocol\":\"off\",\"workers\":3,\"access_log\":\"off\","
	    "\"xdp\":\"-\"}\n"));
	free(text);
	log.format = LOG_FORMAT_TEXT;
	log.out = open_memstream(&text, &len);
	config_log(&c, &log);
	fclose(log.out);
	assert_non_null(strstr(text,
			       " info config upstream=http://127.0.0.1:5000 upstream_path=\"\" "
			       "signature_upstream=- "));
	assert_non_null(strstr(text, " workers=3 access_log=off xdp=-\n"));
	free(text);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults),
	    cmocka_unit_test(environment_is_read),
	    cmocka_unit_test(flags_override_environment),
	    cmocka_unit_test(bad_values_are_refused),
	    cmocka_unit_test(metrics_and_ranges_age_flags),
	    cmocka_unit_test(bad_environment_is_refused),
	    cmocka_unit_test(refusals_name_the_problem),
	    cmocka_unit_test(help_and_arguments),
	    cmocka_unit_test(listen_forms),
	    cmocka_unit_test(tuning_flags),
	    cmocka_unit_test(tuning_flags_out_of_range),
	    cmocka_unit_test(proxy_list_from_environment),
	    cmocka_unit_test(usage_documents_every_flag),
	    cmocka_unit_test(page_urls_are_kept_byte_for_byte),
	    cmocka_unit_test(configuration_is_logged_as_fields),
	    cmocka_unit_test(run_as_user),
	    cmocka_unit_test(tls_and_plain_listens_are_checked_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
