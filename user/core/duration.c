#include "archeio/core/duration.h"

#include <stddef.h>

static uint64_t unit_seconds(char unit)
{
	switch (unit) {
	case '\0':
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	default:
		return 0;
	}
}

bool duration_parse_seconds(const char *text, uint64_t max_seconds, uint64_t *seconds)
{
	if (!text || text[0] < '0' || text[0] > '9')
		return false;
	uint64_t value = 0;
	size_t i = 0;
	for (; text[i] >= '0' && text[i] <= '9'; i++) {
		uint64_t digit = (uint64_t)(text[i] - '0');
		/* Overflow is refused, not wrapped: "max" must mean max. */
		if (value > (UINT64_MAX - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	uint64_t unit = unit_seconds(text[i]);
	if (unit == 0 || (text[i] != '\0' && text[i + 1] != '\0'))
		return false;
	if (value > max_seconds / unit)
		return false;
	*seconds = value * unit;
	return true;
}
