/* Unit tests for lib/analysis: exact values of sbf, lsbf, dbf, rbf, the
 * least budgets, the interfaces (Abeni 2024, Table 4), the MPR analysis,
 * partitioning and the SCHED_DEADLINE admission check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/deadline.h"
#include "analysis/mpr.h"
#include "analysis/partition.h"
#include "analysis/prm.h"
#include "util/time.h"

#include "fixture.h"

#define MS RTV_NS_PER_MS

/* C and T in µs, so that Table 4's WCETs (10.321 ms) are exact */
static struct rtv_task task_us(int64_t c_us, int64_t t_us, int cpu)
{
	struct rtv_task t;

	memset(&t, 0, sizeof(t));
	t.wcet_ns = c_us * 1000;
	t.period_ns = t_us * 1000;
	t.deadline_ns = t.period_ns;
	t.cpu = cpu;
	t.prio = -1;
	return t;
}

/* Abeni 2024, Table 4 (C, T in µs) and the paper's partition */
static const int64_t t4_c[10] = { 10321, 1570, 6300, 1720, 14712, 19691, 3440, 23266, 89843, 20937 };
static const int64_t t4_t[10] = { 34000, 40000, 65000, 90000, 98000, 123000, 128000, 164000, 236000, 257000 };
static const int t4_vcpu[10] = { 0, 1, 1, 0, 0, 1, 1, 0, 1, 1 };

static int table4_part(int vcpu, struct rtv_task *out)
{
	int k = 0;

	for (int i = 0; i < 10; i++)
		if (t4_vcpu[i] == vcpu)
			out[k++] = task_us(t4_c[i], t4_t[i], -1);
	return k;
}

static void test_sbf(void **state)
{
	(void)state;
	/* Π = 10, Θ = 4: blackout 2·6 = 12, then 4 of each 10 */
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 0), 0);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 6 * MS), 0);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 12 * MS), 0);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 14 * MS), 2 * MS);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 16 * MS), 4 * MS);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 22 * MS), 4 * MS);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 25 * MS), 7 * MS);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 26 * MS), 8 * MS);
	assert_int_equal(rtv_prm_sbf(10 * MS, 4 * MS, 36 * MS), 12 * MS);
	/* a whole CPU, nothing, and the paper's reservation */
	assert_int_equal(rtv_prm_sbf(10 * MS, 10 * MS, 7 * MS), 7 * MS);
	assert_int_equal(rtv_prm_sbf(10 * MS, 0, 100 * MS), 0);
	assert_int_equal(rtv_prm_sbf(11 * MS, 7500000, 34 * MS), 20 * MS); /* 2·7.5 + (34 − 7 − 22) */
}

static void test_lsbf(void **state)
{
	(void)state;
	assert_true(rtv_prm_lsbf(10 * MS, 4 * MS, 22 * MS) == 4.0 * MS);
	assert_true(fabs(rtv_prm_lsbf(10 * MS, 4 * MS, 30 * MS) - 7.2 * MS) < 1e-6);
	assert_true(fabs(rtv_prm_lsbf(10 * MS, 4 * MS, 0) + 4.8 * MS) < 1e-6);
	assert_true(rtv_prm_lsbf(10 * MS, 10 * MS, 3 * MS) == 3.0 * MS);
	/* never above the exact sbf */
	for (int64_t t = 0; t < 100 * MS; t += MS / 4)
		assert_true(rtv_prm_lsbf(10 * MS, 4 * MS, t) <= (double)rtv_prm_sbf(10 * MS, 4 * MS, t));
}

static void test_dbf_rbf(void **state)
{
	struct rtv_task ts[3] = { task_us(1000, 4000, -1), task_us(2000, 6000, -1),
				  task_us(3000, 12000, -1) };

	(void)state;
	assert_int_equal(rtv_dbf(ts, 2, 3 * MS), 0);
	assert_int_equal(rtv_dbf(ts, 2, 5 * MS), 1 * MS);
	assert_int_equal(rtv_dbf(ts, 2, 12 * MS), 7 * MS);
	assert_int_equal(rtv_dbf(ts, 3, 12 * MS), 10 * MS);
	ts[0].deadline_ns = 3 * MS; /* D < T: deadlines at 3, 7, 11 */
	assert_int_equal(rtv_dbf(ts, 1, 3 * MS), 1 * MS);
	assert_int_equal(rtv_dbf(ts, 1, 7 * MS), 2 * MS);
	assert_int_equal(rtv_dbf(ts, 1, 10 * MS), 2 * MS);
	ts[0].deadline_ns = 4 * MS;
	/* in RM order; rbf_i(t) = C_i + Σ_{j<i} ⌈t/T_j⌉ C_j */
	assert_int_equal(rtv_rbf(ts, 0, 5 * MS), 1 * MS);
	assert_int_equal(rtv_rbf(ts, 1, 6 * MS), 4 * MS);
	assert_int_equal(rtv_rbf(ts, 2, 12 * MS), 10 * MS);
	assert_int_equal(rtv_rbf(ts, 2, 8 * MS), 9 * MS);
}

static void test_order(void **state)
{
	struct rtv_task in[3] = { task_us(1, 30, -1), task_us(1, 10, -1), task_us(1, 20, -1) }, out[3];
	int idx[3];

	(void)state;
	in[0].deadline_ns = 5000;
	rtv_prm_order(in, 3, RTV_ALG_RM, out, idx);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 0);
	rtv_prm_order(in, 3, RTV_ALG_DM, out, idx);
	assert_int_equal(idx[0], 0);
	assert_int_equal(out[0].deadline_ns, 5000);
	assert_int_equal(idx[1], 1);
}

static void test_min_budget_table4(void **state)
{
	struct rtv_task a[10], b[10];
	struct rtv_prm_params p;
	int na = table4_part(0, a), nb = table4_part(1, b);
	int64_t q;

	(void)state;
	rtv_prm_params_init(&p);
	assert_int_equal(p.grid_ns, 500000);
	assert_int_equal(p.period_min_ns, 10 * MS);
	assert_int_equal(na, 4);
	assert_int_equal(nb, 6);
	/* RM, exact sbf, 0.5 ms grid, at the paper's periods */
	assert_int_equal(rtv_prm_min_budget(a, na, &p, 11 * MS, &q), 0);
	assert_int_equal(q, 7500000);
	assert_int_equal(rtv_prm_min_budget(b, nb, &p, 33 * MS, &q), 0);
	assert_int_equal(q, 27500000);
	/* EDF with the exact sbf: 7.0 and 26.0 */
	p.sched = RTV_ALG_EDF;
	assert_int_equal(rtv_prm_min_budget(a, na, &p, 11 * MS, &q), 0);
	assert_int_equal(q, 7 * MS);
	assert_int_equal(rtv_prm_min_budget(b, nb, &p, 33 * MS, &q), 0);
	assert_int_equal(q, 26 * MS);
	/* RM with the linear bound: 8.0 and 28.0 */
	p.sched = RTV_ALG_RM;
	p.supply = RTV_SUPPLY_LINEAR;
	assert_int_equal(rtv_prm_min_budget(a, na, &p, 11 * MS, &q), 0);
	assert_int_equal(q, 8 * MS);
	assert_int_equal(rtv_prm_min_budget(b, nb, &p, 33 * MS, &q), 0);
	assert_int_equal(q, 28 * MS);
	/* without the grid (1 ns): the exact least budget, and the test
	 * flips between it and 1 ns less */
	p.supply = RTV_SUPPLY_EXACT;
	p.grid_ns = 1;
	assert_int_equal(rtv_prm_min_budget(a, na, &p, 11 * MS, &q), 0);
	assert_true(q > 7 * MS && q <= 7500000);
	assert_int_equal(rtv_prm_schedulable(a, na, &p, 11 * MS, q), 1);
	assert_int_equal(rtv_prm_schedulable(a, na, &p, 11 * MS, q - 1), 0);
	/* more than a CPU */
	a[0].wcet_ns = a[0].period_ns;
	assert_int_equal(rtv_prm_min_budget(a, na, &p, 11 * MS, &q), -ENOSPC);
	/* nothing */
	assert_int_equal(rtv_prm_min_budget(a, 0, &p, 11 * MS, &q), 0);
	assert_int_equal(q, 0);
}

static void test_interface_table4(void **state)
{
	struct rtv_task a[10], b[10];
	struct rtv_prm_params p;
	int na = table4_part(0, a), nb = table4_part(1, b);
	struct rtv_prm r;

	(void)state;
	rtv_prm_params_init(&p);
	assert_int_equal(rtv_prm_interface(a, na, &p, &r), 0);
	assert_int_equal(r.budget_ns, 7500000);
	assert_int_equal(r.period_ns, 11 * MS);
	assert_int_equal(rtv_prm_interface(b, nb, &p, &r), 0);
	assert_int_equal(r.budget_ns, 27500000);
	assert_int_equal(r.period_ns, 33 * MS);
	/* the other tie rule: (10, 12) ties 27.5/33 */
	p.tie = RTV_TIE_SMALLER_PERIOD;
	assert_int_equal(rtv_prm_interface(b, nb, &p, &r), 0);
	assert_int_equal(r.budget_ns, 10 * MS);
	assert_int_equal(r.period_ns, 12 * MS);
	assert_int_equal(rtv_prm_interface(a, na, &p, &r), 0);
	assert_int_equal(r.budget_ns, 7500000);
	assert_int_equal(r.period_ns, 11 * MS);
	/* a fixed period */
	p.tie = RTV_TIE_LARGER_PERIOD;
	p.period_min_ns = p.period_max_ns = 33 * MS;
	assert_int_equal(rtv_prm_interface(b, nb, &p, &r), 0);
	assert_int_equal(r.budget_ns, 27500000);
	/* empty */
	rtv_prm_params_init(&p);
	assert_int_equal(rtv_prm_interface(b, 0, &p, &r), 0);
	assert_int_equal(r.budget_ns, 0);
	assert_true(rtv_prm_bandwidth(&r) == 0);
}

static void test_mpr(void **state)
{
	struct rtv_task ts[10];
	struct rtv_mpr r = { 10 * MS, 17500000, 2 }, q;
	struct rtv_prm split[2];

	(void)state;
	for (int i = 0; i < 10; i++)
		ts[i] = task_us(t4_c[i], t4_t[i], -1);
	/* 2·sbf(t; 10, 8.75): blackout 2·1.25 = 2.5 ms */
	assert_int_equal(rtv_mpr_sbf(&r, 1 * MS), 0);
	assert_int_equal(rtv_mpr_sbf(&r, 2500000), 0);
	assert_int_equal(rtv_mpr_sbf(&r, 5 * MS), 5 * MS);
	assert_int_equal(rtv_mpr_sbf(&r, 11250000), 17500000);
	assert_int_equal(rtv_mpr_sbf(&r, 12500000), 17500000);
	assert_int_equal(rtv_mpr_sbf(&r, 13 * MS), 18500000);
	assert_true(rtv_mpr_lsbf(&r, 5 * MS) == 1.75 * 2.5 * MS);
	/* the global EDF test and the interface: Θ = 17.5 every Π = 10 */
	assert_int_equal(rtv_mpr_gedf_schedulable(ts, 10, &r), 1);
	r.budget_ns = 17 * MS;
	assert_int_equal(rtv_mpr_gedf_schedulable(ts, 10, &r), 0);
	assert_int_equal(rtv_mpr_interface(ts, 10, 10 * MS, MS / 2, 0, &q), 0);
	assert_int_equal(q.period_ns, 10 * MS);
	assert_int_equal(q.budget_ns, 17500000);
	assert_int_equal(q.cpus, 2);
	assert_int_equal(rtv_mpr_split(&q, split), 2);
	assert_int_equal(split[0].budget_ns, 8750000);
	assert_int_equal(split[1].budget_ns, 8750000);
	assert_int_equal(split[1].period_ns, 10 * MS);
	/* only one CPU allowed: none */
	assert_int_equal(rtv_mpr_interface(ts, 10, 10 * MS, MS / 2, 1, &q), -ENOSPC);
	/* one task alone on m′ = 1: a plain periodic resource under EDF */
	assert_int_equal(rtv_mpr_interface(ts, 1, 10 * MS, MS / 2, 0, &q), 0);
	assert_int_equal(q.cpus, 1);
	assert_true(q.budget_ns > 3035588); /* > U·Π */
}

static struct rtv_taskset make_set(struct rtv_task *t, int n)
{
	struct rtv_taskset ts = { .n = n, .task = t };

	return ts;
}

static void test_partition_simple(void **state)
{
	struct rtv_task t[4];
	struct rtv_taskset ts;
	struct rtv_partition part;
	struct rtv_prm_params p;
	int failed = -1;

	(void)state;
	rtv_prm_params_init(&p);
	for (int i = 0; i < 4; i++)
		t[i] = task_us(5000, 10000, -1);
	ts = make_set(t, 4);
	/* first-fit fills vCPU 0 first */
	assert_int_equal(rtv_partition_run(&ts, 2, RTV_FIT_FIRST, &p, &part, &failed), 0);
	assert_int_equal(part.nvcpus, 2);
	assert_int_equal(part.vcpu[0], 0);
	assert_int_equal(part.vcpu[1], 0);
	assert_int_equal(part.vcpu[2], 1);
	assert_int_equal(part.vcpu[3], 1);
	assert_int_equal(part.iface[0].budget_ns, 10 * MS);
	assert_int_equal(part.iface[0].period_ns, 10 * MS);
	assert_true(rtv_partition_bandwidth(&part) == 2.0);
	rtv_partition_release(&part);
	/* worst-fit alternates */
	assert_int_equal(rtv_partition_run(&ts, 2, RTV_FIT_WORST, &p, &part, &failed), 0);
	assert_int_equal(part.vcpu[0], 0);
	assert_int_equal(part.vcpu[1], 1);
	assert_int_equal(part.vcpu[2], 0);
	assert_int_equal(part.vcpu[3], 1);
	rtv_partition_release(&part);
	/* one vCPU is not enough */
	assert_int_equal(rtv_partition_run(&ts, 1, RTV_FIT_BEST, &p, &part, &failed), -ENOSPC);
	assert_int_equal(failed, 2);
	rtv_partition_release(&part);
	rtv_partition_release(NULL);
	/* a task pinned beyond the vCPUs */
	t[3].cpu = 5;
	assert_int_equal(rtv_partition_run(&ts, 2, RTV_FIT_FIRST, &p, &part, &failed), -ERANGE);
	assert_int_equal(failed, 3);
}

static void test_partition_table4(void **state)
{
	struct rtv_task t[10];
	struct rtv_taskset ts;
	struct rtv_partition part;
	struct rtv_prm_params p;
	double u = 0;

	(void)state;
	rtv_prm_params_init(&p);
	for (int i = 0; i < 10; i++) {
		t[i] = task_us(t4_c[i], t4_t[i], t4_vcpu[i]);
		u += (double)t4_c[i] / (double)t4_t[i];
	}
	ts = make_set(t, 10);
	/* pinned as in the paper: the paper's reservations, whatever the
	 * heuristic */
	for (int h = 0; h < RTV_HEURISTIC_COUNT; h++) {
		assert_int_equal(rtv_partition_run(&ts, 2, (enum rtv_heuristic)h, &p, &part, NULL), 0);
		assert_int_equal(part.nvcpus, 2);
		for (int i = 0; i < 10; i++)
			assert_int_equal(part.vcpu[i], t4_vcpu[i]);
		assert_int_equal(part.iface[0].budget_ns, 7500000);
		assert_int_equal(part.iface[0].period_ns, 11 * MS);
		assert_int_equal(part.iface[1].budget_ns, 27500000);
		assert_int_equal(part.iface[1].period_ns, 33 * MS);
		assert_true(fabs(rtv_partition_bandwidth(&part) - (7.5 / 11 + 27.5 / 33)) < 1e-12);
		rtv_partition_release(&part);
	}
	/* free: every heuristic finds a partition on 2 vCPUs; each vCPU's
	 * interface passes its own test and costs at least its utilization */
	for (int i = 0; i < 10; i++)
		t[i].cpu = -1;
	for (int h = 0; h < RTV_HEURISTIC_COUNT; h++) {
		double bw;

		assert_int_equal(rtv_partition_run(&ts, 2, (enum rtv_heuristic)h, &p, &part, NULL), 0);
		bw = rtv_partition_bandwidth(&part);
		assert_true(bw >= u);
		assert_true(bw <= 2.0);
		for (int v = 0; v < part.nvcpus; v++) {
			struct rtv_task sub[10];
			int k = 0;

			for (int i = 0; i < 10; i++)
				if (part.vcpu[i] == v)
					sub[k++] = t[i];
			assert_int_equal(rtv_prm_schedulable(sub, k, &p, part.iface[v].period_ns,
							     part.iface[v].budget_ns),
					 1);
			assert_true(part.util[v] <= 1.0);
		}
		rtv_partition_release(&part);
	}
	/* least-bw exactly: τ8 (U 0.38) alone first, then the rest */
	assert_int_equal(rtv_partition_run(&ts, 2, RTV_FIT_LEAST_BW, &p, &part, NULL), 0);
	assert_true(rtv_partition_bandwidth(&part) < 1.6);
	rtv_partition_release(&part);
}

static char fake_root[64];

/* CPUs 0..n-1 */
static cpu_set_t first_cpus(int n)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < n; c++)
		CPU_SET(c, &set);
	return set;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_deadline(void **state)
{
	struct rtv_prm r[2] = { { 11 * MS, 7500000 }, { 33 * MS, 27500000 } };
	struct rtv_dl_params dl[2];
	struct rtv_dl_admission adm;
	cpu_set_t one = first_cpus(1), two = first_cpus(2), none = first_cpus(0);
	char path[128];

	(void)state;
	rtv_dl_from_prm(&r[0], &dl[0]);
	rtv_dl_from_prm(&r[1], &dl[1]);
	assert_int_equal(dl[0].runtime_ns, 7500000);
	assert_int_equal(dl[0].deadline_ns, 11000000);
	assert_int_equal(dl[0].period_ns, 11000000);
	assert_int_equal(rtv_dl_ratio(11 * MS, 7500000), 714938);
	assert_int_equal(rtv_dl_ratio(33 * MS, 27500000), 873813);

	snprintf(fake_root, sizeof(fake_root), "/tmp/rtv-test-analysis-XXXXXX");
	assert_non_null(mkdtemp(fake_root));
	snprintf(path, sizeof(path), "%s/proc", fake_root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/sys", fake_root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel", fake_root);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(fake_root, "sched_rt_runtime_us", "950000\n");
	write_file(fake_root, "sched_rt_period_us", "1000000\n");
	/* 1.515 ≤ 2 · 0.95 */
	assert_int_equal(rtv_dl_admission_check(fake_root, &two, dl, 2, &adm), 0);
	assert_true(adm.admissible);
	assert_false(adm.unlimited);
	assert_int_equal(adm.rt_runtime_us, 950000);
	assert_int_equal(adm.total_bw, 714938 + 873813);
	assert_int_equal(adm.cap_bw, 1992294);
	assert_true(fabs(adm.cap - 1.9) < 1e-12);
	/* no osrelease, no debugfs: no fair server */
	assert_int_equal(adm.fair.source, RTV_DL_FAIR_NONE);
	assert_int_equal(adm.fair.bw, 0);
	assert_true(adm.fair.cpus == 0);
	assert_int_equal(rtv_dl_admission_check(fake_root, &none, dl, 2, &adm), -EINVAL);
	/* 1.515 > 1 · 0.95 */
	assert_int_equal(rtv_dl_admission_check(fake_root, &one, dl, 2, &adm), 0);
	assert_false(adm.admissible);
	/* no limit */
	write_file(fake_root, "sched_rt_runtime_us", "-1\n");
	assert_int_equal(rtv_dl_admission_check(fake_root, &one, dl, 2, &adm), 0);
	assert_true(adm.admissible);
	assert_true(adm.unlimited);
	/* garbage, and a missing file */
	write_file(fake_root, "sched_rt_runtime_us", "lots\n");
	assert_int_equal(rtv_dl_admission_check(fake_root, &one, dl, 2, &adm), -EINVAL);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/sched_rt_runtime_us", fake_root);
	unlink(path);
	assert_int_equal(rtv_dl_admission_check(fake_root, &one, dl, 2, &adm), -ENOENT);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/sched_rt_period_us", fake_root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel", fake_root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/proc/sys", fake_root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/proc", fake_root);
	rmdir(path);
	rmdir(fake_root);
}

/* ---- the fair servers and the admission test with them, on a fake tree ---- */

static int tree_setup(void **state)
{
	return rtv_test_tree_setup(state, "analysis");
}

static int tree_teardown(void **state)
{
	return rtv_test_tree_teardown(state);
}

/* ROOT/proc/sys/kernel with the default limits (0.95 of each CPU), and
 * the fair_server folders of CPUs 0..3 (empty). */
static void fake_host(const char *root, const char *osrelease)
{
	static const char *const dirs[] = { "proc", "proc/sys", "proc/sys/kernel", "sys",
					    "sys/devices", "sys/devices/system",
					    "sys/devices/system/cpu", "sys/kernel", "sys/kernel/debug",
					    "sys/kernel/debug/sched", "sys/kernel/debug/sched/fair_server",
					    "sys/kernel/debug/sched/fair_server/cpu0",
					    "sys/kernel/debug/sched/fair_server/cpu1",
					    "sys/kernel/debug/sched/fair_server/cpu2",
					    "sys/kernel/debug/sched/fair_server/cpu3", NULL };

	for (int i = 0; dirs[i]; i++)
		rtv_test_mkdir_in(root, dirs[i]);
	rtv_test_put_in(root, "proc/sys/kernel/sched_rt_runtime_us", "950000\n");
	rtv_test_put_in(root, "proc/sys/kernel/sched_rt_period_us", "1000000\n");
	if (osrelease)
		rtv_test_put_in(root, "proc/sys/kernel/osrelease", osrelease);
}

static void fair(const char *root, int cpu, const char *runtime, const char *period)
{
	char name[128];

	snprintf(name, sizeof(name), "sys/kernel/debug/sched/fair_server/cpu%d/runtime", cpu);
	rtv_test_put_in(root, name, runtime);
	snprintf(name, sizeof(name), "sys/kernel/debug/sched/fair_server/cpu%d/period", cpu);
	rtv_test_put_in(root, name, period);
}

static void test_dl_online_cpus(void **state)
{
	struct rtv_test_tree *t = *state;
	cpu_set_t set;

	fake_host(t->root, NULL);
	assert_int_equal(rtv_dl_online_cpus(t->root, &set), -ENOENT);
	assert_int_equal(CPU_COUNT(&set), 0);
	rtv_test_put_in(t->root, "sys/devices/system/cpu/online", "0,2-3\n");
	assert_int_equal(rtv_dl_online_cpus(t->root, &set), 0);
	assert_int_equal(CPU_COUNT(&set), 3);
	assert_true(CPU_ISSET(0, &set) && !CPU_ISSET(1, &set) && CPU_ISSET(3, &set));
	rtv_test_put_in(t->root, "sys/devices/system/cpu/online", "zero\n");
	assert_int_equal(rtv_dl_online_cpus(t->root, &set), -EINVAL);
}

static void test_dl_fair_servers(void **state)
{
	struct rtv_test_tree *t = *state;
	struct rtv_dl_fair_servers fs;
	cpu_set_t two = first_cpus(2), cpu1;

	CPU_ZERO(&cpu1);
	CPU_SET(1, &cpu1);
	assert_string_equal(rtv_dl_fair_source_name(RTV_DL_FAIR_NONE), "none");
	assert_string_equal(rtv_dl_fair_source_name(RTV_DL_FAIR_DEBUGFS), "debugfs");
	assert_string_equal(rtv_dl_fair_source_name(RTV_DL_FAIR_DEFAULT), "default");

	/* an older kernel, nothing in debugfs: none */
	fake_host(t->root, "6.1.0-18-amd64\n");
	rtv_dl_fair_servers_read(t->root, &two, &fs);
	assert_int_equal(fs.source, RTV_DL_FAIR_NONE);
	assert_int_equal(fs.bw, 0);
	assert_true(fs.cpus == 0);

	/* 6.12 or later without debugfs: the default 50 ms / 1 s on each CPU,
	 * (50000000 << 20) / 1000000000 = 52428.8, truncated */
	rtv_test_put_in(t->root, "proc/sys/kernel/osrelease", "6.12.0\n");
	rtv_dl_fair_servers_read(t->root, &two, &fs);
	assert_int_equal(fs.source, RTV_DL_FAIR_DEFAULT);
	assert_int_equal(fs.bw, 2 * 52428);
	assert_true(fabs(fs.cpus - 0.1) < 1e-12);
	rtv_test_put_in(t->root, "proc/sys/kernel/osrelease", "7.0.1\n");
	rtv_dl_fair_servers_read(t->root, &cpu1, &fs);
	assert_int_equal(fs.source, RTV_DL_FAIR_DEFAULT);
	assert_int_equal(fs.bw, 52428);

	/* debugfs as tuned: off on CPU 0, 100 ms on CPU 1 (104857.6), and
	 * a third on CPU 2 (34952.5), outside the set */
	fair(t->root, 0, "0\n", "1000000000\n");
	fair(t->root, 1, "100000000\n", "1000000000\n");
	fair(t->root, 2, "33333333\n", "1000000000\n");
	rtv_dl_fair_servers_read(t->root, &two, &fs);
	assert_int_equal(fs.source, RTV_DL_FAIR_DEBUGFS);
	assert_int_equal(fs.bw, 104857);
	assert_true(fabs(fs.cpus - 0.1) < 1e-12);
	{
		cpu_set_t three = first_cpus(3);

		rtv_dl_fair_servers_read(t->root, &three, &fs);
		assert_int_equal(fs.bw, 104857 + 34952);
		assert_true(fabs(fs.cpus - 0.133333333) < 1e-12);
	}
	rtv_dl_fair_servers_read(t->root, &cpu1, &fs);
	assert_int_equal(fs.bw, 104857);
	/* a CPU whose files are unreadable or nonsense counts 0; when every
	 * CPU's are, the kernel's release decides */
	fair(t->root, 1, "lots\n", "1000000000\n");
	rtv_dl_fair_servers_read(t->root, &two, &fs);
	assert_int_equal(fs.source, RTV_DL_FAIR_DEBUGFS);
	assert_int_equal(fs.bw, 0);
	fair(t->root, 0, "50000000\n", "0\n");
	rtv_dl_fair_servers_read(t->root, &two, &fs);
	assert_int_equal(fs.source, RTV_DL_FAIR_DEFAULT);
	assert_int_equal(fs.bw, 2 * 52428);
}

/* The fair servers count against the limit, in the kernel's fixed point. */
static void test_dl_admission_fair(void **state)
{
	struct rtv_test_tree *t = *state;
	struct rtv_dl_params dl[2] = { { 450 * MS, 1000 * MS, 1000 * MS },
				       { 450 * MS, 1000 * MS, 1000 * MS } };
	struct rtv_dl_admission adm;
	cpu_set_t one = first_cpus(1), two = first_cpus(2);

	/* 0.9 on one CPU of 0.95: admitted without fair servers */
	fake_host(t->root, "6.6.0\n");
	assert_int_equal(rtv_dl_admission_check(t->root, &one, dl, 2, &adm), 0);
	assert_true(adm.admissible);
	assert_int_equal(adm.total_bw, 2 * 471859); /* 471859.2 */
	assert_int_equal(adm.cap_bw, 996147);       /* 996147.2 */
	assert_int_equal(adm.fair.bw, 0);
	/* refused once CPU 0's fair server holds 0.1 (104857) */
	fair(t->root, 0, "100000000\n", "1000000000\n");
	assert_int_equal(rtv_dl_admission_check(t->root, &one, dl, 2, &adm), 0);
	assert_false(adm.admissible);
	assert_int_equal(adm.fair.source, RTV_DL_FAIR_DEBUGFS);
	assert_int_equal(adm.fair.bw, 104857);
	assert_true(fabs(adm.fair.cpus - 0.1) < 1e-12);
	assert_true(fabs(adm.total - 0.9) < 1e-12);
	/* and with the default 0.05 of a 6.12 kernel: 943718 + 52428 ≤ 996147 */
	fair(t->root, 0, "x\n", "x\n");
	rtv_test_put_in(t->root, "proc/sys/kernel/osrelease", "6.12.3\n");
	assert_int_equal(rtv_dl_admission_check(t->root, &one, dl, 2, &adm), 0);
	assert_true(adm.admissible);
	assert_int_equal(adm.fair.source, RTV_DL_FAIR_DEFAULT);
	assert_int_equal(adm.total_bw + adm.fair.bw, 996146);

	/* the kernel truncates each term, so it admits a hair more than the
	 * reals do: 2 × 900001525 ns every 1 s plus 2 × 0.05 on 2 CPUs of 0.95
	 * is 2 × 943719 + 2 × 52428 = 1992294 = the cap; 1 ns more is over */
	dl[0] = (struct rtv_dl_params){ 900001525, 1000 * MS, 1000 * MS };
	dl[1] = dl[0];
	assert_int_equal(rtv_dl_admission_check(t->root, &two, dl, 2, &adm), 0);
	assert_int_equal(adm.total_bw, 2 * 943719);
	assert_int_equal(adm.fair.bw, 2 * 52428);
	assert_int_equal(adm.cap_bw, 1992294);
	assert_true(adm.total + adm.fair.cpus > adm.cap); /* as reals: over */
	assert_true(adm.admissible);
	dl[1].runtime_ns++;
	assert_int_equal(rtv_dl_admission_check(t->root, &two, dl, 2, &adm), 0);
	assert_int_equal(adm.total_bw, 943719 + 943720);
	assert_false(adm.admissible);

	/* no limit: admitted whatever the fair servers hold */
	rtv_test_put_in(t->root, "proc/sys/kernel/sched_rt_runtime_us", "-1\n");
	assert_int_equal(rtv_dl_admission_check(t->root, &one, dl, 2, &adm), 0);
	assert_true(adm.admissible && adm.unlimited);
	assert_int_equal(adm.fair.bw, 52428);
}

/* The partition as a runner's vCPUs: numbered in order of first use, the
 * empty one dropped, RM ranks over all tasks. */
static void test_partition_vcpus(void **state)
{
	struct rtv_task tasks[3] = { task_us(1000, 20000, -1), task_us(1000, 10000, -1),
				     task_us(1000, 5000, -1) };
	struct rtv_taskset ts = { .task = tasks, .n = 3 };
	int vcpu[3] = { 2, 0, 2 };
	struct rtv_prm orig[3] = { { 10 * MS, 2 * MS }, { 11 * MS, 3 * MS }, { 12 * MS, 4 * MS } };
	double util[3] = { 0.1, 0, 0.2 };
	struct rtv_partition part = { .nvcpus = 3, .vcpu = vcpu, .iface = orig, .util = util };
	struct rtv_prm iface[3];
	int of[3], rank[3];

	(void)state;
	assert_int_equal(rtv_partition_vcpus(&part, &ts, RTV_ALG_RM, of, rank, iface), 2);
	assert_int_equal(of[0], 0);
	assert_int_equal(of[1], 1);
	assert_int_equal(of[2], 0);
	assert_true(iface[0].period_ns == orig[2].period_ns && iface[0].budget_ns == orig[2].budget_ns);
	assert_true(iface[1].period_ns == orig[0].period_ns);
	/* RM: the shortest period first */
	assert_int_equal(rank[2], 0);
	assert_int_equal(rank[1], 1);
	assert_int_equal(rank[0], 2);
	/* EDF: no ranks */
	assert_int_equal(rtv_partition_vcpus(&part, &ts, RTV_ALG_EDF, of, NULL, iface), 2);
	vcpu[1] = 7; /* a vCPU the partition does not have */
	assert_int_equal(rtv_partition_vcpus(&part, &ts, RTV_ALG_RM, of, rank, iface), -EINVAL);
}

static void test_names(void **state)
{
	enum rtv_alg s;
	enum rtv_heuristic h;
	enum rtv_supply sup;

	(void)state;
	assert_int_equal(rtv_alg_parse("edf", &s), 0);
	assert_int_equal(s, RTV_ALG_EDF);
	assert_string_equal(rtv_alg_name(RTV_ALG_DM), "dm");
	assert_int_equal(rtv_alg_parse("fifo", &s), -EINVAL);
	assert_int_equal(rtv_heuristic_parse("least-bw", &h), 0);
	assert_int_equal(h, RTV_FIT_LEAST_BW);
	assert_string_equal(rtv_heuristic_name(RTV_FIT_WORST), "worst-fit");
	assert_int_equal(rtv_heuristic_parse("next-fit", &h), -EINVAL);
	assert_int_equal(rtv_supply_parse("linear", &sup), 0);
	assert_int_equal(sup, RTV_SUPPLY_LINEAR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbf),
		cmocka_unit_test(test_lsbf),
		cmocka_unit_test(test_dbf_rbf),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_min_budget_table4),
		cmocka_unit_test(test_interface_table4),
		cmocka_unit_test(test_mpr),
		cmocka_unit_test(test_partition_simple),
		cmocka_unit_test(test_partition_table4),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test_setup_teardown(test_dl_online_cpus, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_dl_fair_servers, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_dl_admission_fair, tree_setup, tree_teardown),
		cmocka_unit_test(test_partition_vcpus),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
