#include "progress.h"
#include "eta.h"

#include <string.h>
#include <time.h>

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void progress_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* ", 1 image failed, 2 listings failed" for the kinds besides blobs that
 * failed; "" when none did. */
static void format_other_failures(const struct progress_counts *c, char *buf, size_t len)
{
	const struct {
		size_t n;
		const char *one, *many;
	} kinds[] = {
	    {c->images_failed, "image", "images"},
	    {c->listings_failed, "listing", "listings"},
	    {c->records_failed, "record", "records"},
	    {c->setup_failed, "setup step", "setup steps"},
	};
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && o < len; i++)
		if (kinds[i].n)
			o += (size_t)snprintf(buf + o, len - o, ", %zu %s failed", kinds[i].n,
					      kinds[i].n == 1 ? kinds[i].one : kinds[i].many);
}

void progress_format(const struct progress_counts *c, double elapsed_s, char *buf, size_t len)
{
	char done[32], total[32], rate[32], others[160];
	progress_format_bytes(c->bytes_done, done, sizeof(done));
	progress_format_bytes(c->bytes_total, total, sizeof(total));
	uint64_t per_s = elapsed_s > 0 ? (uint64_t)((double)c->bytes_done / elapsed_s) : 0;
	progress_format_bytes(per_s, rate, sizeof(rate));
	size_t finished =
	    c->blobs_copied + c->blobs_skipped + c->blobs_failed + c->blobs_would_copy;
	char would[96] = "";
	size_t used = 0;
	if (c->blobs_would_copy)
		used =
		    (size_t)snprintf(would, sizeof(would), ", %zu would copy", c->blobs_would_copy);
	if (c->blobs_repaired)
		snprintf(would + used, sizeof(would) - used, ", %zu repaired", c->blobs_repaired);
	format_other_failures(c, others, sizeof(others));
	snprintf(buf, len,
		 "blobs %zu/%zu (%zu copied, %zu present, %zu failed%s)%s, bytes %s/%s, %s/s, "
		 "%zu images already recorded",
		 finished, c->blobs_total, c->blobs_copied, c->blobs_skipped, c->blobs_failed,
		 would, others, done, total, rate, c->images_skipped);
}

void progress_format_live(const struct progress_counts *c, double elapsed_s, char *buf, size_t len)
{
	progress_format(c, elapsed_s, buf, len);
	uint64_t settled = c->bytes_done + c->bytes_present;
	uint64_t remaining = c->bytes_total > settled ? c->bytes_total - settled : 0;
	double rate = elapsed_s > 0 ? (double)c->bytes_done / elapsed_s : 0;
	char eta[48];
	eta_format(remaining, rate, eta, sizeof(eta));
	size_t used = strlen(buf);
	if (eta[0] && used < len)
		snprintf(buf + used, len - used, ", %s", eta);
}

void progress_init(struct progress *p, FILE *out, bool live)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->start_ns = monotonic_ns();
	p->out = out;
	p->live = live;
}

void progress_destroy(struct progress *p)
{
	pthread_mutex_destroy(&p->lock);
}

void progress_add_bytes(struct progress *p, int64_t delta)
{
	pthread_mutex_lock(&p->lock);
	if (delta < 0 && (uint64_t)-delta > p->counts.bytes_done)
		p->counts.bytes_done = 0;
	else
		p->counts.bytes_done += (uint64_t)delta;
	pthread_mutex_unlock(&p->lock);
}

void progress_snapshot(struct progress *p, struct progress_counts *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->counts;
	pthread_mutex_unlock(&p->lock);
}

static double elapsed_s(const struct progress *p)
{
	return (double)(monotonic_ns() - p->start_ns) / 1e9;
}

void progress_draw(struct progress *p)
{
	progress_draw_with(p, "");
}

void progress_draw_with(struct progress *p, const char *suffix)
{
	if (!p->live)
		return;
	struct progress_counts c;
	progress_snapshot(p, &c);
	char line[512];
	progress_format_live(&c, elapsed_s(p), line, sizeof(line));
	/* \033[K clears what a longer previous line left behind. */
	fprintf(p->out, "\r%s%s\033[K", line, suffix);
	fflush(p->out);
}

void progress_finish(struct progress *p, const char *prefix)
{
	struct progress_counts c;
	progress_snapshot(p, &c);
	char line[512];
	progress_format(&c, elapsed_s(p), line, sizeof(line));
	if (p->live)
		fprintf(p->out, "\r\033[K");
	fprintf(p->out, "%s%s\n", prefix, line);
	fflush(p->out);
}
