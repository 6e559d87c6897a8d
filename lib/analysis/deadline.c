/* SCHED_DEADLINE parameters and the host's admission test; see deadline.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/deadline.h"
#include "util/banned.h"
#include "util/file.h"

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

int rtv_dl_admission_check(const char *root, int ncpus, const struct rtv_dl_params *dl, int n,
			   struct rtv_dl_admission *out)
{
	int err;

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
	out->admissible = out->total_bw <= out->cap_bw;
	return 0;
}
