/* core/snapshot: readers keep what they took; publishing moves the
 * generation and drops the holder's reference to the old snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "archeio/core/snapshot.h"

struct counted {
	int refs;
};

static void ref(void *p)
{
	((struct counted *)p)->refs++;
}

static void release(void *p)
{
	if (p)
		((struct counted *)p)->refs--;
}

static void readers_keep_their_snapshot_across_a_publish(void **state)
{
	(void)state;
	struct counted a = {1}, b = {1};
	struct snapshot_holder h;
	snapshot_holder_init(&h, &a, ref, release);
	unsigned g1, g2;
	assert_ptr_equal(snapshot_holder_acquire(&h, &g1), &a);
	assert_int_equal(a.refs, 2);
	assert_false(snapshot_holder_moved(&h, g1));
	snapshot_holder_publish(&h, &b);
	assert_true(snapshot_holder_moved(&h, g1));
	assert_int_equal(a.refs, 1); /* the reader's reference is all that is left */
	assert_ptr_equal(snapshot_holder_acquire(&h, &g2), &b);
	assert_int_equal(b.refs, 2);
	assert_false(snapshot_holder_moved(&h, g2));
	release(&a);
	release(&b);
	snapshot_holder_destroy(&h);
	assert_int_equal(a.refs, 0);
	assert_int_equal(b.refs, 0);
}

static void an_empty_holder_gives_null(void **state)
{
	(void)state;
	struct snapshot_holder h;
	snapshot_holder_init(&h, NULL, ref, release);
	unsigned g = 0;
	assert_null(snapshot_holder_acquire(&h, &g));
	assert_int_equal(g, 1);
	snapshot_holder_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(readers_keep_their_snapshot_across_a_publish),
	    cmocka_unit_test(an_empty_holder_gives_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
