#include "util/log.h"

#include <stddef.h>

static rtv_log_fn log_fn;

rtv_log_fn rtv_log_set(rtv_log_fn fn)
{
	rtv_log_fn old = log_fn;

	log_fn = fn;
	return old;
}

void rtv_log(enum rtv_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_fn)
		return;
	va_start(ap, fmt);
	log_fn(level, fmt, ap);
	va_end(ap);
}
