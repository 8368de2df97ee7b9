#include "archeio/metrics/readiness.h"

#include <stdio.h>

bool metrics_ready(const struct metrics_readiness *in, char *reason, size_t cap)
{
	if (!in->serving) {
		snprintf(reason, cap, "not serving: the workers have not started or are stopping");
		return false;
	}
	if (in->ranges_given && in->prefixes == 0) {
		snprintf(reason, cap,
			 "no ranges loaded: the --ranges given hold no prefixes (every client "
			 "would get the * mirror rule)");
		return false;
	}
	if (in->xdp_iface && !in->xdp_attached) {
		snprintf(reason, cap, "XDP asked for on %s but the program is not attached",
			 in->xdp_iface);
		return false;
	}
	snprintf(reason, cap, "ok");
	return true;
}
