#include "eta.h"

#include <stdio.h>

#define ETA_MAX_S (99.0 * 3600)

void eta_format(uint64_t remaining_bytes, double bytes_per_s, char *buf, size_t len)
{
	buf[0] = '\0';
	if (remaining_bytes == 0 || !(bytes_per_s > 0))
		return;
	double secs = (double)remaining_bytes / bytes_per_s;
	if (secs >= ETA_MAX_S) {
		snprintf(buf, len, "more than 99h left");
		return;
	}
	/* Rounded up: "0s left" while bytes remain would be a lie. */
	unsigned long s = (unsigned long)secs + ((double)(unsigned long)secs < secs ? 1 : 0);
	if (s < 60)
		snprintf(buf, len, "about %lus left", s);
	else if (s < 3600)
		snprintf(buf, len, "about %lum%02lus left", s / 60, s % 60);
	else
		snprintf(buf, len, "about %luh%02lum left", s / 3600, (s % 3600) / 60);
}
