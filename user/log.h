/* Levelled messages on stderr. Errors are one line starting "flowbatch: ";
 * debug output (libbpf's included) appears only with -v. */
#ifndef FB_LOG_H
#define FB_LOG_H
#include <stdarg.h>

enum fb_log_level { FB_LOG_ERR, FB_LOG_WARN, FB_LOG_INFO, FB_LOG_DEBUG };

void fb_log_set_level(enum fb_log_level level);
enum fb_log_level fb_log_level(void);
void fb_vlog(enum fb_log_level level, const char *fmt, va_list ap);
void fb_log(enum fb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fb_err(...) fb_log(FB_LOG_ERR, __VA_ARGS__)
#define fb_warn(...) fb_log(FB_LOG_WARN, __VA_ARGS__)
#define fb_info(...) fb_log(FB_LOG_INFO, __VA_ARGS__)
#define fb_dbg(...) fb_log(FB_LOG_DEBUG, __VA_ARGS__)

#endif
