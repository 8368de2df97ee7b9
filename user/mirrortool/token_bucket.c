#include "token_bucket.h"

void token_bucket_init(struct token_bucket *tb, double rate, double burst, uint64_t now_ns)
{
	tb->rate = rate;
	tb->burst = burst < 1.0 ? 1.0 : burst;
	tb->tokens = tb->burst;
	tb->last_ns = now_ns;
}

uint64_t token_bucket_reserve(struct token_bucket *tb, uint64_t now_ns)
{
	if (tb->rate <= 0)
		return 0;
	/* A clock that went backwards adds nothing rather than wrapping. */
	if (now_ns > tb->last_ns) {
		tb->tokens += (double)(now_ns - tb->last_ns) * tb->rate / 1e9;
		if (tb->tokens > tb->burst)
			tb->tokens = tb->burst;
		tb->last_ns = now_ns;
	}
	tb->tokens -= 1.0;
	if (tb->tokens >= 0)
		return 0;
	return (uint64_t)(-tb->tokens / tb->rate * 1e9 + 0.5);
}
