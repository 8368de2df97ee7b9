/* process_* metrics from /proc (see process.h). */
#include "archeio/metrics/process.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

bool metrics_process_parse_stat(const char *line, long ticks_per_second, long page_size,
				uint64_t boot_time_s, struct metrics_process *out)
{
	const char *close = strrchr(line, ')');
	if (!close || ticks_per_second <= 0 || page_size <= 0)
		return false;
	/* After ")": field 3 (state) onwards. */
	unsigned long long utime, stime, starttime, vsize;
	long long rss;
	int n = sscanf(close + 1,
		       " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
		       "%*d %*d %llu %llu %lld",
		       &utime, &stime, &starttime, &vsize, &rss);
	if (n != 5)
		return false;
	uint64_t tps = (uint64_t)ticks_per_second;
	out->cpu_us = (utime + stime) * 1000000 / tps;
	out->start_time_us = boot_time_s * 1000000 + starttime * 1000000 / tps;
	out->virtual_bytes = vsize;
	out->resident_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page_size : 0;
	return true;
}

/* "btime N" of /proc/stat: when the machine booted, Unix seconds. */
static uint64_t boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	unsigned long long btime = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	if (f)
		fclose(f);
	return btime;
}

static uint64_t count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	uint64_t n = 0;
	if (!dir)
		return 0;
	for (struct dirent *e; (e = readdir(dir));)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n > 0 ? n - 1 : 0; /* not the directory's own descriptor */
}

void metrics_process_read(struct metrics_process *out)
{
	*out = (struct metrics_process){0};
	FILE *f = fopen("/proc/self/stat", "re");
	char line[1024];
	bool read = f && fgets(line, sizeof(line), f);
	if (f)
		fclose(f);
	if (!read || !metrics_process_parse_stat(line, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
						 boot_time(), out))
		return;
	out->open_fds = count_fds();
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
		out->max_fds = limit.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)limit.rlim_cur;
	out->ok = true;
}
