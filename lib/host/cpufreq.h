/* CPU frequency control around a polling thread's sleep, as EE-KBP does
 * (Algorithm 1: the frequency goes to the minimum just before the thread
 * sleeps and back to the maximum when the interrupt wakes it).
 *
 * The files are those of cpufreq under a sysfs root that is a parameter
 * (real: "/sys/devices/system/cpu"), so the logic can be tested on a fake
 * tree: ROOT/cpuN/cpufreq/{scaling_governor, scaling_setspeed,
 * scaling_max_freq, cpuinfo_min_freq, cpuinfo_max_freq}, in kHz.
 *
 * Two ways to set the frequency:
 * - scaling_setspeed sets an exact frequency, but only under the "userspace"
 *   governor (EE-KBP's choice). intel_pstate in active mode has no userspace
 *   governor at all (only "performance" and "powersave"); switch it to
 *   passive mode (intel_pstate=passive, or write "passive" to
 *   /sys/devices/system/cpu/intel_pstate/status) to get one.
 * - scaling_min_freq/scaling_max_freq work under any governor, including
 *   intel_pstate's: with any governor other than userspace this module caps
 *   scaling_max_freq (low: cpuinfo_min_freq, high: cpuinfo_max_freq).
 *
 * Virtual machines and many containers have no cpufreq: the probe says so
 * with -ENOENT and the caller reports it. The module never prints. */
#ifndef RTV_HOST_CPUFREQ_H
#define RTV_HOST_CPUFREQ_H

#include <stdbool.h>
#include <stdint.h>

#define RTV_CPUFREQ_ROOT "/sys/devices/system/cpu"

struct rtv_cpufreq {
	char root[256];      /* the sysfs root given to the probe */
	int cpu;
	char governor[32];   /* scaling_governor, without the newline */
	uint32_t min_khz, max_khz; /* cpuinfo_min_freq, cpuinfo_max_freq */
	bool has_setspeed;   /* governor is "userspace": scaling_setspeed is used */
};

/* Writes one value to one file; returns 0 or -errno. `path` is the full path
 * (ROOT/cpuN/cpufreq/FILE), `value` a decimal number of kHz without newline.
 * The real caller passes a function that calls rtv_host_write()
 * (host/journal.h) so that the original value is restored when rtvnet exits;
 * note that rtv_host_write journals every call, so a sleep/wake loop should
 * rather save the file once (rtv_journal_save_file) and then write plainly. */
typedef int (*rtv_cpufreq_write_fn)(void *arg, const char *path, const char *value);

/* Read the governor and the hardware limits of `cpu` under `root`.
 * Returns 0, -ENOENT when ROOT/cpuN/cpufreq is absent (no cpufreq on this
 * machine or for this CPU), -ENAMETOOLONG for a root that does not fit,
 * -EINVAL when a limit is not a number or min > max, or the -errno of a
 * failed read. `cf` is filled only as far as the probe got on error. */
int rtv_cpufreq_probe(const char *root, int cpu, struct rtv_cpufreq *cf);

/* Before sleep: scaling_setspeed = min_khz with the userspace governor,
 * otherwise scaling_max_freq = min_khz. One write through `w`; returns its
 * result, -EINVAL for a NULL argument, -ENAMETOOLONG. */
int rtv_cpufreq_set_low(const struct rtv_cpufreq *cf, rtv_cpufreq_write_fn w, void *arg);
/* On wake: the same file, max_khz. */
int rtv_cpufreq_set_high(const struct rtv_cpufreq *cf, rtv_cpufreq_write_fn w, void *arg);

/* An rtv_cpufreq_write_fn that writes the file directly, unjournaled; the
 * file must exist (no O_CREAT, as in sysfs). `arg` is unused. */
int rtv_cpufreq_write_plain(void *arg, const char *path, const char *value);

#endif
