#include "archeio/xdp_path.h"
#include "archeio/xdp_status.h"
#include <stdio.h>
struct xdp_path *xdp_path_open(const struct xdp_path_options *o, const struct range_set *s, const struct region_table *r, char *err, size_t n) { (void)o; (void)s; (void)r; snprintf(err, n, "stub"); return NULL; }
int xdp_path_reload(struct xdp_path *p, const struct range_set *s, const struct region_table *r, char *err, size_t n) { (void)p; (void)s; (void)r; (void)err; (void)n; return -1; }
bool xdp_path_take_conn_tag(struct xdp_path *p, const struct conn_tuple *t, uint32_t *id) { (void)p; (void)t; (void)id; return false; }
uint32_t xdp_path_lookup(struct xdp_path *p, const struct ip_addr *a) { (void)p; (void)a; return 0; }
void xdp_path_close(struct xdp_path *p) { (void)p; }
int xdp_status_run(const char *d, bool j, FILE *o, char *err, size_t n) { (void)d; (void)j; (void)o; snprintf(err, n, "stub"); return 1; }
struct xdp_pinned *xdp_pinned_open(const char *d, char *err, size_t n) { (void)d; snprintf(err, n, "stub"); return NULL; }
bool xdp_pinned_lookup(struct xdp_pinned *p, const struct ip_addr *a, struct region_name *r) { (void)p; (void)a; (void)r; return false; }
void xdp_pinned_close(struct xdp_pinned *p) { (void)p; }
