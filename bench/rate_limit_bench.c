/* Cost of the per-client request limit (server/rate_limit.c): nanoseconds per
 * rate_limiter_take() with one thread and with two threads (this VM's two
 * cores, as two workers), on many clients (each take its own bucket, the
 * common case) and on one client (both threads on one bucket: the worst
 * case for the compare-and-swap). Not built by the Makefile; from the repo
 * root:
 *   make build/libarcheio.a build/libcore.a
 *   cc -O2 -pthread -Iinclude -Iuser bench/rate_limit_bench.c build/libarcheio.a \
 *      build/libcore.a -o build/rate_limit_bench
 *   build/rate_limit_bench */
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "server/rate_limit.h"

#define TAKES 10000000u
#define CLIENTS (1u << 16)

static struct rate_limiter limiter;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct run {
	unsigned seed;
	int one_client;
};

static void *takes(void *arg)
{
	const struct run *run = arg;
	struct ip_addr a = {.family = AF_INET};
	uint64_t t = now_ns();
	for (unsigned i = 0; i < TAKES; i++) {
		unsigned c = run->one_client ? 7 : (i * 2654435761u + run->seed) % CLIENTS;
		a.bytes[0] = 10;
		a.bytes[1] = (uint8_t)(c >> 16);
		a.bytes[2] = (uint8_t)(c >> 8);
		a.bytes[3] = (uint8_t)c;
		/* the clock as the server reads it, once per request */
		rate_limiter_take(&limiter, &a, (i & 63) ? t : (t = now_ns()), NULL);
	}
	return NULL;
}

static double measure(int threads, int one_client)
{
	rate_limiter_init(&limiter, 1000000, 1000000, CLIENTS, 64);
	pthread_t tid[2];
	struct run runs[2] = {{1, one_client}, {12345, one_client}};
	uint64_t start = now_ns();
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, takes, &runs[i]);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	double ns = (double)(now_ns() - start) / TAKES;
	rate_limiter_free(&limiter);
	return ns;
}

int main(void)
{
	printf("1 thread, %u clients: %.1f ns per request\n", CLIENTS, measure(1, 0));
	printf("2 threads, %u clients: %.1f ns per request (wall time per thread's take)\n",
	       CLIENTS, measure(2, 0));
	printf("1 thread, 1 client: %.1f ns per request\n", measure(1, 1));
	printf("2 threads, 1 client: %.1f ns per request (one bucket, contended)\n", measure(2, 1));
	return 0;
}
