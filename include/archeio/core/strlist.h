/* A growable list of strings kept as two fields (char **items, size_t
 * count), the shape both binaries' option structs use for repeatable flags
 * and arguments. */
#ifndef ARCHEIO_CORE_STRLIST_H
#define ARCHEIO_CORE_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

/* Appends a copy of value; false (list unchanged) when memory ran out. */
bool strlist_append(char ***items, size_t *count, const char *value);
/* Frees every item and the array; leaves an empty list. */
void strlist_free(char ***items, size_t *count);

#endif
