/* The limits the server enforces, from the flags and --limits-file: loaded
 * at start (a bad file stops the start) and again on every SIGHUP, where a
 * bad file is logged with its line, counted, and changes nothing. A good
 * one is applied whole: the XDP SYN limit and exempt tries in the kernel
 * (no reattach), then the request limiter's snapshot for the workers. */
#ifndef ARCHEIO_SERVER_SERVER_LIMITS_H
#define ARCHEIO_SERVER_SERVER_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/core/ip.h"
#include "limits_state.h"

struct config;
struct logger;
struct xdp_path;

struct server_limits {
	const struct config *config;
	const struct logger *log;
	struct limits_holder holder;
	bool open;
	/* SIGHUP reloads of --limits-file (main thread only, like the ranges'). */
	uint64_t reloads_ok, reloads_failed;
};

/* -1 (logged: "FILE:LINE: message") when the file or a value is bad or
 * memory is short. */
int server_limits_open(struct server_limits *s, const struct config *config,
		       const struct logger *log);
/* A reference to the limits in force (release with limits_state_release()). */
struct limits_state *server_limits_current(struct server_limits *s);
/* The CIDRs the XDP SYN limit leaves alone under state: its exempt CIDRs and
 * the trusted proxies (every client behind a balancer connects from its few
 * addresses). *out is malloc'd (NULL when *count is 0); -1: out of memory. */
int server_limits_syn_exempt(const struct limits_state *state, const struct config *config,
			     struct ip_prefix **out, size_t *count);
/* Rereads --limits-file (nothing without it) and applies it; xdp may be NULL. */
void server_limits_reload(struct server_limits *s, struct xdp_path *xdp);
void server_limits_close(struct server_limits *s);

#endif
