#include "archeio/xdp/library_log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xdp/libxdp.h>

/* The one piece of process-wide state: libbpf_set_print()/libxdp_set_print()
 * offer no context pointer (see library_log.h). */
static const struct logger *library_logger;

static int forward(const char *library, enum log_level level, const char *fmt, va_list ap)
{
	if (!library_logger || !log_enabled(library_logger, level))
		return 0;
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (n > 0)
		log_msg(library_logger, level, "%s: %s", library, msg);
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
