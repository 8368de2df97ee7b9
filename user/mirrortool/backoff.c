#include "backoff.h"

#include <ctype.h>
#include <stddef.h>

bool backoff_status_retryable(long status)
{
	if (status == 408 || status == 429)
		return true;
	return status >= 500 && status <= 599 && status != 501 && status != 505;
}

uint64_t backoff_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms, double jitter)
{
	uint64_t delay = base_ms;
	for (unsigned i = 0; i < attempt && delay < max_ms; i++)
		delay *= 2;
	if (delay > max_ms)
		delay = max_ms;
	if (jitter < 0)
		jitter = 0;
	if (jitter >= 1)
		jitter = 0.999999;
	return delay / 2 + (uint64_t)((double)(delay - delay / 2) * jitter);
}

uint64_t backoff_retry_after_ms(const char *value, uint64_t max_ms)
{
	if (!value)
		return 0;
	while (*value == ' ')
		value++;
	if (!isdigit((unsigned char)*value))
		return 0;
	uint64_t seconds = 0;
	for (; isdigit((unsigned char)*value); value++) {
		seconds = seconds * 10 + (uint64_t)(*value - '0');
		if (seconds * 1000 >= max_ms)
			return max_ms;
	}
	while (*value == ' ')
		value++;
	if (*value != '\0')
		return 0;
	return seconds * 1000 < max_ms ? seconds * 1000 : max_ms;
}
