/* The hogs probe: one SCHED_OTHER busy loop per CPU of a set (nice 0, as any
 * tenant's batch job), the CPU load of the protection experiments. It takes
 * its fair share from SCHED_OTHER tasks and nothing from SCHED_FIFO or
 * SCHED_DEADLINE ones, so what priorities and reservations protect is
 * visible. Its processes are journaled (a crash leaves none behind) and
 * named "rtv-hog". It measures nothing. */
#include <errno.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "probe/probe.h"

/* arg: the hog's CPU, in the parent's memory as it was at the fork */
static int hog_main(void *arg)
{
	struct sched_param sp = { .sched_priority = 0 };
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(*(const int *)arg, &one);
	sched_setaffinity(0, sizeof(one), &one);
	sched_setscheduler(0, SCHED_OTHER, &sp);
	setpriority(PRIO_PROCESS, 0, 0);
	prctl(PR_SET_NAME, "rtv-hog");
	for (;;) /* until the engine ends it */
		__asm__ volatile("" ::: "memory");
	return 0;
}

static int hogs_check(const void *cfgp, char *why, size_t len)
{
	const struct rtv_hogs_cfg *cfg = cfgp;

	if (!cfg || !CPU_COUNT(&cfg->cpus)) {
		snprintf(why, len, "no CPU to load");
		return -EINVAL;
	}
	return 0;
}

static int hogs_start(struct rtv_pctx *c)
{
	const struct rtv_hogs_cfg *cfg = c->cfg;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		int err;

		if (!CPU_ISSET(cpu, &cfg->cpus))
			continue;
		err = rtv_probe_spawn(c, NULL, RTV_ROLE_OTHER, hog_main, &cpu, NULL);
		if (err < 0)
			return err;
	}
	return 0;
}

const struct rtv_probe rtv_probe_hogs = {
	.name = "hogs",
	.summary = "a SCHED_OTHER busy loop on each CPU of a set",
	.role = RTV_PROBE_LOAD,
	.check = hogs_check,
	.start = hogs_start,
};
