/* A counter with one writer and any number of readers: the writer's thread
 * increments it with a plain load and store (no locked instruction, no
 * contention: on x86_64 this is an ordinary add to memory), readers on other
 * threads load it. Relaxed atomics rather than plain integers, so a read is
 * never torn and the sharing is not a data race; nothing else is ordered by
 * it. Two threads must never add to one counter: give each its own and sum
 * them when reading (the metrics do, per worker). */
#ifndef ARCHEIO_CORE_COUNTER_H
#define ARCHEIO_CORE_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t counter_t;

/* Only the counter's one writer may call this. */
static inline void counter_add(counter_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void counter_inc(counter_t *c)
{
	counter_add(c, 1);
}

/* Any thread. */
static inline uint64_t counter_read(const counter_t *c)
{
	return atomic_load_explicit((counter_t *)c, memory_order_relaxed);
}

#endif
