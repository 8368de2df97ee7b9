/* RFC 8288 Link headers, as registries paginate tags/list and _catalog:
 * `Link: </v2/name/tags/list?last=x&n=100>; rel="next"`. Pure. */
#ifndef ARCHEIO_MIRROR_LINK_H
#define ARCHEIO_MIRROR_LINK_H

/* The target of the first link whose rel contains "next" (rel may be quoted
 * and hold several space-separated types), as written (possibly relative);
 * NULL when there is none or the header is malformed. The caller frees. */
char *link_next_target(const char *value);

#endif
