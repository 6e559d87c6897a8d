/* rtvnet analyze: reservations for a taskset (lib/analysis). One output
 * path builds the JSON document; the table is printed from it. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/deadline.h"
#include "analysis/mpr.h"
#include "analysis/partition.h"
#include "analysis/prm.h"
#include "builtin.h"
#include "taskset/taskset.h"
#include "util/json.h"
#include "util/time.h"

static const char usage_str[] =
	"rtvnet analyze [--global] [--cpus N] [--period MS] [--heuristic NAME] [--sched rm|dm|edf] [options] FILE\n\n"
	"Computes CPU reservations for a periodic taskset (rtvnet's JSON or an rt-app\n"
	"JSON, '-' for standard input): partitioned over vCPUs, a periodic resource\n"
	"(Q, P) per vCPU under RM, DM or EDF; or with --global the multiprocessor\n"
	"resource (Π, Θ, m′) under global EDF split evenly over m′ CPUs. Prints the\n"
	"SCHED_DEADLINE parameters, the total reserved bandwidth, its overhead over\n"
	"the taskset's utilization, and whether this host's admission test accepts it.";

struct analyze_cfg {
	bool global;
	int cpus;
	struct rtv_prm_params p;
	enum rtv_heuristic heuristic;
	int64_t global_period_ns;
	const char *proc_root;
	int host_cpus;
};

static double ms(int64_t ns)
{
	return (double)ns / (double)RTV_NS_PER_MS;
}

/* One reservation's keys: budget_ms, period_ms, bandwidth and the
 * SCHED_DEADLINE parameters. */
static int add_reservation(json_t *o, const struct rtv_prm *r)
{
	struct rtv_dl_params dl;
	int err = 0;

	rtv_dl_from_prm(r, &dl);
	err |= rtv_json_set_num(o, "budget_ms", ms(r->budget_ns));
	err |= rtv_json_set_num(o, "period_ms", ms(r->period_ns));
	err |= rtv_json_set_num(o, "bandwidth", rtv_prm_bandwidth(r));
	err |= rtv_json_set_int(o, "runtime_ns", (int64_t)dl.runtime_ns);
	err |= rtv_json_set_int(o, "deadline_ns", (int64_t)dl.deadline_ns);
	err |= rtv_json_set_int(o, "period_ns", (int64_t)dl.period_ns);
	return err ? -ENOMEM : 0;
}

/* The CPUs whose admission test is reported: those online under the root,
 * or, when a fake root has no list, the first host_cpus. */
static void admission_cpus(const struct analyze_cfg *cfg, cpu_set_t *cpus)
{
	if (rtv_dl_online_cpus(cfg->proc_root, cpus) == 0 && CPU_COUNT(cpus) > 0)
		return;
	CPU_ZERO(cpus);
	for (int c = 0; c < cfg->host_cpus && c < CPU_SETSIZE; c++)
		CPU_SET(c, cpus);
}

static int add_admission(json_t *root, const struct analyze_cfg *cfg, const struct rtv_prm *res,
			 int n)
{
	struct rtv_dl_params *dl = calloc((size_t)n + 1, sizeof(*dl));
	struct rtv_dl_admission adm;
	cpu_set_t cpus;
	json_t *a;
	int err, k = 0;

	if (!dl)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (res[i].budget_ns > 0)
			rtv_dl_from_prm(&res[i], &dl[k++]);
	admission_cpus(cfg, &cpus);
	err = rtv_dl_admission_check(cfg->proc_root, &cpus, dl, k, &adm);
	free(dl);
	if (err < 0) {
		rtv_cli_warn("cannot read the host's admission limits under '%s/proc/sys/kernel': %s",
			     cfg->proc_root, strerror(-err));
		return json_object_set_new(root, "admissible", json_null()) ? -ENOMEM : 0;
	}
	a = json_object();
	if (!a || json_object_set_new(root, "admissible", json_boolean(adm.admissible)) ||
	    json_object_set_new(root, "admission", a))
		return -ENOMEM;
	err = rtv_json_set_int(a, "cpus", adm.ncpus);
	err |= rtv_json_set_int(a, "rt_runtime_us", adm.rt_runtime_us);
	err |= rtv_json_set_int(a, "rt_period_us", adm.rt_period_us);
	err |= rtv_json_set_num(a, "requested", adm.total);
	/* CPUs' worth held by the fair servers, counted against the limit */
	err |= rtv_json_set_num(a, "fair_server", adm.fair.cpus);
	err |= rtv_json_set_str(a, "fair_server_source", rtv_dl_fair_source_name(adm.fair.source));
	if (adm.unlimited)
		err |= json_object_set_new(a, "limit", json_null());
	else
		err |= rtv_json_set_num(a, "limit", adm.cap);
	return err ? -ENOMEM : 0;
}

static json_t *task_names(const struct rtv_taskset *ts, const int *vcpu, int v)
{
	json_t *a = json_array();

	for (int i = 0; a && i < ts->n; i++)
		if (vcpu[i] == v && json_array_append_new(a, json_string(ts->task[i].name))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Fill root; returns 0, 1 (analysis failed: message printed) or -ENOMEM. */
static int analyze_partitioned(json_t *root, const struct analyze_cfg *cfg,
			       const struct rtv_taskset *ts, double u)
{
	struct rtv_partition part;
	json_t *vcpus;
	int failed = -1, err;

	err = rtv_partition_run(ts, cfg->cpus, cfg->heuristic, &cfg->p, &part, &failed);
	if (err == -ENOSPC || err == -ERANGE) {
		if (failed >= 0 && err == -ERANGE)
			rtv_cli_error("task '%s' is pinned to vCPU %d, which %s", ts->task[failed].name,
				      ts->task[failed].cpu,
				      ts->task[failed].cpu >= cfg->cpus ? "is beyond --cpus"
									 : "cannot schedule it with the tasks pinned there");
		else
			rtv_cli_error("the taskset does not fit on %d vCPU%s with %s under %s: task '%s' "
				      "fits nowhere (try more --cpus)",
				      cfg->cpus, cfg->cpus == 1 ? "" : "s",
				      rtv_heuristic_name(cfg->heuristic), rtv_alg_name(cfg->p.sched),
				      failed >= 0 ? ts->task[failed].name : "?");
		return 1;
	}
	if (err < 0)
		return err;
	err = rtv_json_set_str(root, "mode", "partitioned");
	err |= rtv_json_set_str(root, "heuristic", rtv_heuristic_name(cfg->heuristic));
	err |= rtv_json_set_str(root, "scheduler", rtv_alg_name(cfg->p.sched));
	vcpus = json_array();
	if (err || !vcpus || json_object_set_new(root, "vcpus", vcpus)) {
		rtv_partition_release(&part);
		return -ENOMEM;
	}
	for (int v = 0; v < part.nvcpus; v++) {
		json_t *o = json_object(), *names = task_names(ts, part.vcpu, v);

		if (!o || !names || json_array_append_new(vcpus, o) ||
		    json_object_set_new(o, "vcpu", json_integer(v)) ||
		    json_object_set_new(o, "tasks", names) ||
		    rtv_json_set_num(o, "utilization", part.util[v]) ||
		    add_reservation(o, &part.iface[v])) {
			rtv_partition_release(&part);
			return -ENOMEM;
		}
	}
	err = rtv_json_set_num(root, "total_bandwidth", rtv_partition_bandwidth(&part));
	err |= rtv_json_set_num(root, "overhead", rtv_partition_bandwidth(&part) - u);
	if (!err)
		err = add_admission(root, cfg, part.iface, part.nvcpus);
	rtv_partition_release(&part);
	return err ? -ENOMEM : 0;
}

static int analyze_global(json_t *root, const struct analyze_cfg *cfg, const struct rtv_taskset *ts,
			  double u)
{
	struct rtv_mpr r;
	struct rtv_prm *split;
	json_t *vcpus;
	int err;

	err = rtv_mpr_interface(ts->task, ts->n, cfg->global_period_ns, cfg->p.grid_ns, cfg->cpus, &r);
	if (err == -ENOSPC) {
		rtv_cli_error("the taskset is not schedulable by global EDF on up to %d CPU%s with "
			      "period %g ms (try more --cpus or another --period)",
			      cfg->cpus, cfg->cpus == 1 ? "" : "s", ms(cfg->global_period_ns));
		return 1;
	}
	if (err < 0)
		return err;
	split = calloc((size_t)r.cpus + 1, sizeof(*split));
	if (!split)
		return -ENOMEM;
	rtv_mpr_split(&r, split);
	err = rtv_json_set_str(root, "mode", "global");
	err |= rtv_json_set_str(root, "scheduler", "gedf");
	err |= rtv_json_set_num(root, "budget_ms", ms(r.budget_ns));
	err |= rtv_json_set_num(root, "period_ms", ms(r.period_ns));
	err |= rtv_json_set_int(root, "cpus", r.cpus);
	vcpus = json_array();
	if (err || !vcpus || json_object_set_new(root, "vcpus", vcpus))
		goto nomem;
	for (int v = 0; v < r.cpus; v++) {
		json_t *o = json_object(), *names = json_array();

		for (int i = 0; names && i < ts->n; i++)
			if (json_array_append_new(names, json_string(ts->task[i].name)))
				goto nomem;
		if (!o || !names || json_array_append_new(vcpus, o) ||
		    json_object_set_new(o, "vcpu", json_integer(v)) ||
		    json_object_set_new(o, "tasks", names) || add_reservation(o, &split[v]))
			goto nomem;
	}
	err = rtv_json_set_num(root, "total_bandwidth", (double)r.budget_ns / (double)r.period_ns);
	err |= rtv_json_set_num(root, "overhead", (double)r.budget_ns / (double)r.period_ns - u);
	if (!err)
		err = add_admission(root, cfg, split, r.cpus);
	free(split);
	return err ? -ENOMEM : 0;
nomem:
	free(split);
	return -ENOMEM;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void print_table(const json_t *root, const char *path, int ntasks, double u)
{
	const json_t *vcpus = json_object_get(root, "vcpus"), *v, *adm;
	bool global = !strcmp(json_string_value(json_object_get(root, "mode")), "global");
	size_t i;

	printf("taskset '%s': %d task%s, U = %.4f\n", path, ntasks, ntasks == 1 ? "" : "s", u);
	if (global)
		printf("global EDF: Θ = %g ms every Π = %g ms on m′ = %d CPUs, split evenly:\n",
		       num(root, "budget_ms"), num(root, "period_ms"),
		       (int)json_integer_value(json_object_get(root, "cpus")));
	else
		printf("partitioned (%s, %s inside each vCPU):\n",
		       json_string_value(json_object_get(root, "heuristic")),
		       json_string_value(json_object_get(root, "scheduler")));
	printf("%-5s %9s %9s %9s %12s %12s  %s\n", "vCPU", "Q ms", "P ms", "Q/P", "runtime ns",
	       "period ns", "tasks");
	json_array_foreach(vcpus, i, v) {
		const json_t *names = json_object_get(v, "tasks"), *nm;
		size_t j;

		printf("%-5zu %9g %9g %9.3f %12" PRId64 " %12" PRId64 "  ", i, num(v, "budget_ms"),
		       num(v, "period_ms"), num(v, "bandwidth"),
		       (int64_t)json_integer_value(json_object_get(v, "runtime_ns")),
		       (int64_t)json_integer_value(json_object_get(v, "period_ns")));
		if (global)
			printf("(all, global EDF)");
		else
			json_array_foreach(names, j, nm)
				printf("%s%s", j ? "," : "", json_string_value(nm));
		printf("\n");
	}
	printf("total reserved bandwidth %.4f CPUs, overhead %.4f over U\n",
	       num(root, "total_bandwidth"), num(root, "overhead"));
	adm = json_object_get(root, "admission");
	if (adm && json_is_null(json_object_get(adm, "limit")))
		printf("SCHED_DEADLINE admission: accepted (sched_rt_runtime_us is -1: no limit)\n");
	else if (adm)
		printf("SCHED_DEADLINE admission: %s (%.4f requested + %.4f fair servers (%s), limit "
		       "%d CPUs × %" PRId64 "/%" PRId64 " = %.4f)\n",
		       json_is_true(json_object_get(root, "admissible")) ? "accepted" : "REFUSED",
		       num(adm, "requested"), num(adm, "fair_server"),
		       json_string_value(json_object_get(adm, "fair_server_source")),
		       (int)json_integer_value(json_object_get(adm, "cpus")),
		       (int64_t)json_integer_value(json_object_get(adm, "rt_runtime_us")),
		       (int64_t)json_integer_value(json_object_get(adm, "rt_period_us")),
		       num(adm, "limit"));
	else
		printf("SCHED_DEADLINE admission: unknown (limits unreadable)\n");
}

static const char *const ties[] = { "larger", "smaller", NULL };

static struct {
	bool global;
	long long cpus;
	int64_t period_ns, range_ns[2], step_ns, grid_ns;
	const char *heuristic, *sched, *supply, *tie, *json_path, *proc_root;
} opt = {
	.step_ns = RTV_NS_PER_MS,
	.grid_ns = RTV_NS_PER_MS / 2,
	.heuristic = "least-bw",
	.sched = "rm",
	.supply = "exact",
	.tie = "larger",
	.proc_root = "",
};

static const struct rtv_opt opts[] = {
	RTV_OPT_FLAG_DEF("global", 'g', &opt.global, "global EDF on a multiprocessor periodic resource instead of partitioning"),
	RTV_OPT_INT_DEF("cpus", 'c', &opt.cpus, "N", 0, RTV_TASKSET_MAX, "most vCPUs (partitioned) or m′ (global); 0: this host's online CPUs"),
	RTV_OPT_DURATION_DEF("period", 'p', &opt.period_ns, "MS", RTV_NS_PER_MS, "fix the reservation period (default: partitioned searches --period-range; global uses 10ms)"),
	RTV_OPT_RANGE_DEF("period-range", 0, opt.range_ns, "MIN-MAX", RTV_NS_PER_MS, "periods tried, partitioned (default: 10ms to the vCPU's longest task period)"),
	RTV_OPT_DURATION_DEF("period-step", 0, &opt.step_ns, "MS", RTV_NS_PER_MS, "step between the periods tried"),
	RTV_OPT_DURATION_DEF("grid", 0, &opt.grid_ns, "MS", RTV_NS_PER_MS, "budget grid: budgets are rounded up to a multiple"),
	RTV_OPT_CHOICE_DEF("heuristic", 'H', &opt.heuristic, "NAME", rtv_heuristic_names, "how tasks are placed on vCPUs (least-bw: least added reserved bandwidth)"),
	RTV_OPT_CHOICE_DEF("sched", 's', &opt.sched, "SCHED", rtv_alg_names, "scheduler inside each vCPU (partitioned)"),
	RTV_OPT_CHOICE_DEF("supply", 0, &opt.supply, "SBF", rtv_supply_names, "supply bound: the exact sbf or its linear bound"),
	RTV_OPT_CHOICE_DEF("tie", 0, &opt.tie, "RULE", ties, "period kept when two give the same bandwidth"),
	RTV_OPT_STRING_DEF("json", 'j', &opt.json_path, "FILE", "also write the result as JSON ('-': only JSON, on standard output)"),
	RTV_OPT_STRING_DEF("proc-root", 0, &opt.proc_root, "DIR", "read the admission test's inputs under DIR: proc/sys/kernel, the online CPUs, the fair servers in sys/kernel/debug"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_analyze_modes[] = {
	{ NULL, usage_str, opts },
	{ NULL, NULL, NULL },
};

/* The analysis's parameters from the options. */
static void analyze_cfg_init(struct analyze_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	rtv_prm_params_init(&cfg->p);
	cfg->global = opt.global;
	cfg->host_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (cfg->host_cpus < 1)
		cfg->host_cpus = 1;
	cfg->cpus = opt.cpus ? (int)opt.cpus : cfg->host_cpus;
	cfg->proc_root = opt.proc_root;
	rtv_heuristic_parse(opt.heuristic, &cfg->heuristic);
	rtv_alg_parse(opt.sched, &cfg->p.sched);
	rtv_supply_parse(opt.supply, &cfg->p.supply);
	cfg->p.tie = strcmp(opt.tie, "smaller") ? RTV_TIE_LARGER_PERIOD : RTV_TIE_SMALLER_PERIOD;
	cfg->p.grid_ns = opt.grid_ns;
	cfg->p.period_step_ns = opt.step_ns;
	if (opt.range_ns[0] > 0) {
		cfg->p.period_min_ns = opt.range_ns[0];
		cfg->p.period_max_ns = opt.range_ns[1];
	}
	if (opt.period_ns > 0)
		cfg->p.period_min_ns = cfg->p.period_max_ns = opt.period_ns;
	cfg->global_period_ns = opt.period_ns > 0 ? opt.period_ns : 10 * RTV_NS_PER_MS;
}

/* The document's top-level keys before the analysis's: the metadata, with
 * the host's CPU count as host_cpus, the inputs and the utilization. */
static json_t *analyze_json_new(const struct analyze_cfg *cfg, const struct rtv_taskset *ts,
				double u, int64_t t0)
{
	json_t *root = rtv_json_meta_new(rtv_argc, rtv_argv, t0, t0);

	if (!root)
		return NULL;
	/* "cpus" at the top is the global interface's m′: the host's count
	 * from the metadata goes under its own name */
	if (json_object_set(root, "host_cpus", json_object_get(root, "cpus")) ||
	    json_object_del(root, "cpus") ||
	    (!cfg->global && (rtv_json_set_str(root, "supply", rtv_supply_name(cfg->p.supply)) ||
			      rtv_json_set_num(root, "grid_ms", ms(cfg->p.grid_ns)))) ||
	    rtv_json_set_int(root, "tasks", ts->n) || rtv_json_set_num(root, "utilization", u)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Print the table and/or write the JSON; 0, 1 (message printed) or -errno. */
static int analyze_output(json_t *root, const char *path, const struct rtv_taskset *ts, double u)
{
	json_t *meta_end = json_object_get(root, "end");
	char buf[32];
	int err;

	if (meta_end && rtv_json_time_format(rtv_realtime_ns(), buf, sizeof(buf)) > 0)
		rtv_json_set_str(root, "end", buf);
	if (opt.json_path && !strcmp(opt.json_path, "-")) {
		if (json_dumpf(root, stdout, RTV_JSON_DUMP_FLAGS) < 0)
			return -EIO;
		fputc('\n', stdout);
		return 0;
	}
	print_table(root, path, ts->n, u);
	if (opt.json_path) {
		err = rtv_json_write_file(root, opt.json_path);
		if (err < 0) {
			rtv_cli_error("cannot write '%s': %s", opt.json_path, strerror(-err));
			return 1;
		}
	}
	return 0;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_cfg cfg;
	struct rtv_taskset ts = { 0 };
	char err_msg[512];
	json_t *root = NULL;
	int64_t t0 = rtv_realtime_ns();
	int nargs, err, ret = RTV_EXIT_FAIL;
	bool done;
	double u;

	err = rtv_cli_parse(opts, usage_str, argc, argv, &nargs, &done);
	if (err || done)
		return err;
	if (nargs != 1) {
		rtv_cli_error(nargs ? "unexpected argument '%s'" : "no taskset file given%s",
			      nargs ? argv[2] : "");
		return RTV_EXIT_USAGE;
	}
	analyze_cfg_init(&cfg);
	/* the taskset may not exceed the CPUs it may use */
	err = rtv_taskset_load(argv[1], cfg.cpus, &ts, err_msg, sizeof(err_msg));
	if (err < 0) {
		rtv_cli_error("%s", err_msg);
		return err == -ENOMEM ? RTV_EXIT_FAIL : RTV_EXIT_USAGE;
	}
	u = rtv_taskset_utilization(&ts);
	root = analyze_json_new(&cfg, &ts, u, t0);
	if (!root) {
		err = -ENOMEM;
		goto out;
	}
	err = cfg.global ? analyze_global(root, &cfg, &ts, u) : analyze_partitioned(root, &cfg, &ts, u);
	if (!err)
		err = analyze_output(root, argv[1], &ts, u);
	if (!err)
		ret = RTV_EXIT_OK;
out:
	if (err == -ENOMEM)
		rtv_cli_error("out of memory");
	else if (err < 0)
		rtv_cli_error("analysis failed: %s", strerror(-err));
	json_decref(root);
	rtv_taskset_release(&ts);
	return ret;
}
