/* SCHED_DEADLINE parameters and the host's admission test; see deadline.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/deadline.h"
#include "util/banned.h"
#include "util/file.h"
#include "util/parse.h"

#define RTV_DL_BW_SHIFT 20 /* the kernel's BW_SHIFT */

void rtv_dl_from_prm(const struct rtv_prm *r, struct rtv_dl_params *dl)
{
	dl->runtime_ns = r->budget_ns > 0 ? (uint64_t)r->budget_ns : 0;
	dl->deadline_ns = r->period_ns > 0 ? (uint64_t)r->period_ns : 0;
	dl->period_ns = dl->deadline_ns;
}

uint64_t rtv_dl_ratio(uint64_t period_ns, uint64_t runtime_ns)
{
	if (!period_ns)
		return 0;
	return (uint64_t)(((unsigned __int128)runtime_ns << RTV_DL_BW_SHIFT) / period_ns);
}

static int read_i64(const char *root, const char *name, int64_t *v)
{
	char path[4096], line[64], *end;
	long long x;
	int err;

	if (snprintf(path, sizeof(path), "%s/proc/sys/kernel/%s", root ? root : "", name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	err = rtv_file_read_line(path, line, sizeof(line));
	if (err < 0)
		return err;
	errno = 0;
	x = strtoll(line, &end, 10);
	if (errno || end == line || (*end && *end != ' ' && *end != '\t'))
		return -EINVAL;
	*v = x;
	return 0;
}

int rtv_dl_online_cpus(const char *root, cpu_set_t *cpus)
{
	char path[4096];

	CPU_ZERO(cpus);
	if (snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/online", root ? root : "") >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return rtv_file_read_cpulist(path, cpus);
}

/* Whether <root>/proc/sys/kernel/osrelease is 6.12 or later, the first
 * release with fair servers. */
static bool has_fair_servers(const char *root)
{
	char path[4096], line[128];
	int major = 0, minor = 0;

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root ? root : "");
	if (rtv_file_read_line(path, line, sizeof(line)) < 0 ||
	    sscanf(line, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 12);
}

/* <root>/sys/kernel/debug/sched/fair_server/cpuN/<name>, a whole number of ns */
static int read_fair(const char *root, int cpu, const char *name, long long min, long long *v)
{
	char path[4096], line[64];
	int err;

	snprintf(path, sizeof(path), "%s/sys/kernel/debug/sched/fair_server/cpu%d/%s",
		 root ? root : "", cpu, name);
	err = rtv_file_read_line(path, line, sizeof(line));
	return err < 0 ? err : rtv_parse_ll(line, min, INT64_MAX, v);
}

void rtv_dl_fair_servers_read(const char *root, const cpu_set_t *cpus,
			      struct rtv_dl_fair_servers *out)
{
	int n = 0;

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < CPU_SETSIZE; c++) {
		long long runtime, period;

		if (!CPU_ISSET(c, cpus))
			continue;
		n++;
		if (read_fair(root, c, "runtime", 0, &runtime) < 0 ||
		    read_fair(root, c, "period", 1, &period) < 0)
			continue;
		out->source = RTV_DL_FAIR_DEBUGFS;
		out->bw += rtv_dl_ratio((uint64_t)period, (uint64_t)runtime);
		out->cpus += (double)runtime / (double)period;
	}
	if (out->source == RTV_DL_FAIR_NONE && has_fair_servers(root)) {
		out->source = RTV_DL_FAIR_DEFAULT;
		out->bw = (uint64_t)n * rtv_dl_ratio(RTV_DL_FAIR_DEFAULT_PERIOD_NS,
						     RTV_DL_FAIR_DEFAULT_RUNTIME_NS);
		out->cpus = n * ((double)RTV_DL_FAIR_DEFAULT_RUNTIME_NS /
				 (double)RTV_DL_FAIR_DEFAULT_PERIOD_NS);
	}
}

const char *rtv_dl_fair_source_name(enum rtv_dl_fair_source source)
{
	switch (source) {
	case RTV_DL_FAIR_DEBUGFS:
		return "debugfs";
	case RTV_DL_FAIR_DEFAULT:
		return "default";
	default:
		return "none";
	}
}

int rtv_dl_admission_check(const char *root, const cpu_set_t *cpus, const struct rtv_dl_params *dl,
			   int n, struct rtv_dl_admission *out)
{
	int err, ncpus = CPU_COUNT(cpus);

	memset(out, 0, sizeof(*out));
	if (ncpus <= 0 || n < 0)
		return -EINVAL;
	out->ncpus = ncpus;
	err = read_i64(root, "sched_rt_runtime_us", &out->rt_runtime_us);
	if (err < 0)
		return err;
	err = read_i64(root, "sched_rt_period_us", &out->rt_period_us);
	if (err < 0)
		return err;
	if (out->rt_period_us <= 0 || out->rt_runtime_us < -1)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		out->total_bw += rtv_dl_ratio(dl[i].period_ns, dl[i].runtime_ns);
		if (dl[i].period_ns)
			out->total += (double)dl[i].runtime_ns / (double)dl[i].period_ns;
	}
	rtv_dl_fair_servers_read(root, cpus, &out->fair);
	if (out->rt_runtime_us == -1) {
		out->unlimited = true;
		out->admissible = true;
		out->cap = (double)ncpus;
		out->cap_bw = (uint64_t)ncpus << RTV_DL_BW_SHIFT;
		return 0;
	}
	out->cap_bw = (uint64_t)ncpus * rtv_dl_ratio((uint64_t)out->rt_period_us * 1000,
						     (uint64_t)out->rt_runtime_us * 1000);
	out->cap = (double)ncpus * (double)out->rt_runtime_us / (double)out->rt_period_us;
	/* the kernel refuses when cap < total + new (__dl_overflow) */
	out->admissible = out->total_bw + out->fair.bw <= out->cap_bw;
	return 0;
}
