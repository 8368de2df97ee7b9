/* A reference-counted snapshot that a reload replaces while readers keep the
 * one they took: the serve state (ranges, rules) and the TLS certificates
 * both live in one. Readers compare `generation` (one atomic load) and take
 * a new reference only when it moved, so the request path takes no lock. */
#ifndef ARCHEIO_CORE_SNAPSHOT_H
#define ARCHEIO_CORE_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>

struct snapshot_holder {
	pthread_mutex_t lock;
	void *current;
	atomic_uint generation;
	void (*ref)(void *snapshot);	 /* takes one reference (snapshot not NULL) */
	void (*release)(void *snapshot); /* drops one (snapshot may be NULL) */
};

void snapshot_holder_init(struct snapshot_holder *holder, void *initial,
			  void (*ref)(void *snapshot), void (*release)(void *snapshot));
/* Publishes next (taking over its reference) and drops the old one. */
void snapshot_holder_publish(struct snapshot_holder *holder, void *next);
/* A new reference to the current snapshot (NULL if there is none). */
void *snapshot_holder_acquire(struct snapshot_holder *holder, unsigned *generation);
/* True when the holder has moved past `generation`. */
static inline int snapshot_holder_moved(struct snapshot_holder *holder, unsigned generation)
{
	return atomic_load_explicit(&holder->generation, memory_order_acquire) != generation;
}
void snapshot_holder_destroy(struct snapshot_holder *holder);

#endif
