/* The SIGHUP reload's parse on a low-priority thread. The main thread waits
 * for it (it has nothing else to do meanwhile but signals and the metrics
 * port, as before); what changes is who gets the CPU first when the workers
 * and the reload want it at once: nice is per thread on Linux, and a thread
 * may always raise its own. The workers and the main thread keep theirs. */
#include "reload_load.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct reload_job {
	const struct config *config;
	const struct serve_state *previous;
	struct serve_state *state;
	struct reload_stats stats;
	char *err;
	size_t errlen;
};

/* This thread's niceness, raised by RELOAD_NICE (capped at 19). */
static int lower_own_priority(void)
{
	id_t tid = (id_t)syscall(SYS_gettid);
	errno = 0;
	int now = getpriority(PRIO_PROCESS, tid);
	if (now == -1 && errno != 0)
		return 0;
	int want = now + RELOAD_NICE > 19 ? 19 : now + RELOAD_NICE;
	if (setpriority(PRIO_PROCESS, tid, want) != 0)
		return now;
	return want;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void load(struct reload_job *job)
{
	int64_t start = thread_cpu_ns();
	job->state = serve_state_load(job->config, job->previous, job->err, job->errlen);
	job->stats.cpu_ns = thread_cpu_ns() - start;
}

static void *run_job(void *arg)
{
	struct reload_job *job = arg;
	job->stats.nice = lower_own_priority();
	load(job);
	return NULL;
}

struct serve_state *reload_load(const struct config *config, const struct serve_state *previous,
				struct reload_stats *stats, char *err, size_t errlen)
{
	struct reload_job job = {
	    .config = config, .previous = previous, .err = err, .errlen = errlen};
	pthread_t thread;
	if (pthread_create(&thread, NULL, run_job, &job) != 0) {
		errno = 0;
		job.stats.nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
		load(&job);
	} else {
		pthread_join(thread, NULL);
	}
	if (stats)
		*stats = job.stats;
	return job.state;
}
