/* Growable string list (see strlist.h). */
#include "archeio/core/strlist.h"

#include <stdlib.h>
#include <string.h>

bool strlist_append(char ***items, size_t *count, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return false;
	char **grown = realloc(*items, (*count + 1) * sizeof(**items));
	if (!grown) {
		free(copy);
		return false;
	}
	grown[*count] = copy;
	*items = grown;
	(*count)++;
	return true;
}

void strlist_free(char ***items, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*items)[i]);
	free(*items);
	*items = NULL;
	*count = 0;
}
