#include "archeio/xdp/library_log.h"

#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xdp/libxdp.h>

/* Info and warning lines held between library_log_hold() and
 * library_log_release(): enough for libxdp's dispatcher probe and a verifier
 * complaint; beyond that, that lines were dropped is logged. */
#define HELD_MAX 32
/* A library message (cut at 1024 bytes) behind its library's name. */
#define LINE_SIZE (1024 + 16)

struct held_line {
	enum log_level level;
	char text[LINE_SIZE];
};

/* The one piece of process-wide state: libbpf_set_print()/libxdp_set_print()
 * offer no context pointer (see library_log.h). The lock covers the hold,
 * which a library call on another thread could otherwise write to. */
static const struct logger *library_logger;
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static bool holding;
static size_t held_count, held_dropped;
static struct held_line held[HELD_MAX];

/* The libraries start many messages with their own name; one prefix is ours. */
static const char *without_prefix(const char *library, const char *msg)
{
	size_t n = strlen(library);

	if (strncmp(msg, library, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

static void emit(enum log_level level, const char *line)
{
	if (log_enabled(library_logger, level))
		log_msg(library_logger, level, "%s", line);
}

static int forward(const char *library, enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024], line[LINE_SIZE];

	if (!library_logger)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (n == 0)
		return 0;
	snprintf(line, sizeof(line), "%s: %s", library, without_prefix(library, msg));
	pthread_mutex_lock(&held_lock);
	/* Debug lines are shown as they come: only the warnings and notes are
	 * judged by the outcome (and debug's volume would crowd them out). */
	if (!holding || level == LOG_DEBUG) {
		pthread_mutex_unlock(&held_lock);
		emit(level, line);
		return 0;
	}
	if (held_count < HELD_MAX) {
		held[held_count].level = level;
		snprintf(held[held_count].text, sizeof(held[held_count].text), "%s", line);
		held_count++;
	} else {
		held_dropped++;
	}
	pthread_mutex_unlock(&held_lock);
	return 0;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return forward("libbpf",
		       level == LIBBPF_WARN   ? LOG_WARN
		       : level == LIBBPF_INFO ? LOG_INFO
					      : LOG_DEBUG,
		       fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return forward("libxdp",
		       level == LIBXDP_WARN   ? LOG_WARN
		       : level == LIBXDP_INFO ? LOG_INFO
					      : LOG_DEBUG,
		       fmt, ap);
}

void library_log_install(const struct logger *log)
{
	library_logger = log;
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
}

void library_log_hold(void)
{
	pthread_mutex_lock(&held_lock);
	holding = true;
	held_count = held_dropped = 0;
	pthread_mutex_unlock(&held_lock);
}

void library_log_release(bool succeeded)
{
	pthread_mutex_lock(&held_lock);
	holding = false;
	for (size_t i = 0; i < held_count && library_logger; i++)
		emit(succeeded ? LOG_DEBUG : held[i].level, held[i].text);
	if (held_dropped && library_logger)
		emit(succeeded ? LOG_DEBUG : LOG_WARN, "libbpf/libxdp: more messages were dropped");
	held_count = held_dropped = 0;
	pthread_mutex_unlock(&held_lock);
}
