/* Logging for the library: it never prints, it hands messages to a sink the
 * front end installs (libbpf's libbpf_set_print). */
#ifndef RTV_UTIL_LOG_H
#define RTV_UTIL_LOG_H

#include <stdarg.h>

enum rtv_log_level { RTV_LOG_ERROR, RTV_LOG_WARN, RTV_LOG_INFO, RTV_LOG_DEBUG };

typedef void (*rtv_log_fn)(enum rtv_log_level level, const char *fmt, va_list ap);

/* Install the sink; NULL silences the library. Returns the previous sink. */
rtv_log_fn rtv_log_set(rtv_log_fn fn);

void rtv_log(enum rtv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define rtv_err(...)   rtv_log(RTV_LOG_ERROR, __VA_ARGS__)
#define rtv_warn(...)  rtv_log(RTV_LOG_WARN, __VA_ARGS__)
#define rtv_info(...)  rtv_log(RTV_LOG_INFO, __VA_ARGS__)
#define rtv_debug(...) rtv_log(RTV_LOG_DEBUG, __VA_ARGS__)

#endif
