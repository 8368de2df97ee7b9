/* When and how long to wait before retrying a request. Pure. */
#ifndef ARCHEIO_MIRROR_BACKOFF_H
#define ARCHEIO_MIRROR_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* 408, 429 and 5xx other than 501/505 are worth retrying; 4xx are not. */
bool backoff_status_retryable(long status);

/* Delay before retry number attempt (0-based): base * 2^attempt, capped at
 * max_ms, then spread by jitter in [0, 1) over [delay/2, delay). */
uint64_t backoff_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms, double jitter);

/* A Retry-After value in delta-seconds as milliseconds, capped at max_ms;
 * 0 when absent or not a plain number (HTTP dates are not honoured). */
uint64_t backoff_retry_after_ms(const char *value, uint64_t max_ms);

#endif
