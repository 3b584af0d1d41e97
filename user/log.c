/* The logger: a level and a printf to stderr. The level is process-wide
 * state by nature (libbpf's print callback has no context pointer). */
#include <stdio.h>
#include "log.h"

static enum fb_log_level cur_level = FB_LOG_WARN;

void fb_log_set_level(enum fb_log_level level)
{
	cur_level = level;
}

enum fb_log_level fb_log_level(void)
{
	return cur_level;
}

void fb_vlog(enum fb_log_level level, const char *fmt, va_list ap)
{
	if (level > cur_level)
		return;
	fputs(level == FB_LOG_DEBUG ? "flowbatch: debug: " : "flowbatch: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void fb_log(enum fb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fb_vlog(level, fmt, ap);
	va_end(ap);
}
