/* Stop flags: a volatile sig_atomic_t that a loop polls and a signal
 * handler, another thread or another process (through MAP_SHARED memory)
 * sets. volatile makes a plain access safe against a signal handler of the
 * same thread only; between threads a plain write and read are a data race
 * (C11 5.1.2.4), so both sides use these relaxed atomic accesses (plain
 * moves on x86-64 and arm64, no fence). A flag orders nothing else: who sees
 * it set must not rely on other data written before it was set. */
#ifndef RTV_UTIL_STOP_H
#define RTV_UTIL_STOP_H

#include <signal.h>
#include <stdbool.h>

static inline bool rtv_stop_read(const volatile sig_atomic_t *stop)
{
	return __atomic_load_n(stop, __ATOMIC_RELAXED);
}

static inline void rtv_stop_set(volatile sig_atomic_t *stop)
{
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
}

#endif
