/* The names archeio pins under its bpffs directory, and removing them: one
 * list for the server's own unpinning and for `archeio xdp detach`. */
#ifndef ARCHEIO_XDP_PINS_H
#define ARCHEIO_XDP_PINS_H

#include <stdbool.h>
#include <stddef.h>

/* Maps pinned under their BPF names (docs/xdp.md, "Maps"). */
extern const char *const xdp_pinned_map_names[];
extern const size_t xdp_pinned_map_count;

/* The live tries, re-pinned at each reload, and the names a reload pins them
 * under before renaming. */
extern const char *const xdp_trie_pin_names[2];
extern const char *const xdp_trie_next_pin_names[2];

/* Called with each pin removed. */
typedef void (*xdp_pin_removed_fn)(void *ctx, const char *name);

/* Removes every archeio pin in dir (anything else there stays), then, with
 * remove_dir, dir when that left it empty. Returns how many pins were removed. */
size_t xdp_pins_remove(const char *dir, bool remove_dir, xdp_pin_removed_fn removed, void *ctx);

/* The same through the open directory dirfd (no directory removed): what the
 * server pinned in, whatever its path names now. */
size_t xdp_pins_remove_at(int dirfd);

#endif
