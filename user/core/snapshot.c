/* Reference-counted snapshots replaced by reloads (see snapshot.h). */
#include "archeio/core/snapshot.h"

#include <stddef.h>

void snapshot_holder_init(struct snapshot_holder *holder, void *initial,
			  void (*ref)(void *snapshot), void (*release)(void *snapshot))
{
	pthread_mutex_init(&holder->lock, NULL);
	holder->current = initial;
	holder->ref = ref;
	holder->release = release;
	atomic_init(&holder->generation, 1);
}

void snapshot_holder_publish(struct snapshot_holder *holder, void *next)
{
	pthread_mutex_lock(&holder->lock);
	void *old = holder->current;
	holder->current = next;
	atomic_fetch_add_explicit(&holder->generation, 1, memory_order_release);
	pthread_mutex_unlock(&holder->lock);
	holder->release(old);
}

void *snapshot_holder_acquire(struct snapshot_holder *holder, unsigned *generation)
{
	pthread_mutex_lock(&holder->lock);
	void *snapshot = holder->current;
	if (snapshot)
		holder->ref(snapshot);
	if (generation)
		*generation = atomic_load_explicit(&holder->generation, memory_order_acquire);
	pthread_mutex_unlock(&holder->lock);
	return snapshot;
}

void snapshot_holder_destroy(struct snapshot_holder *holder)
{
	holder->release(holder->current);
	holder->current = NULL;
	pthread_mutex_destroy(&holder->lock);
}
