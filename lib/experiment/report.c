/* compare's results: per-method summaries over repeats, and the JSON document. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "experiment/compare.h"
#include "util/json.h"

static double us(int64_t ns)
{
	return (double)ns / 1e3;
}

int rtv_compare_summarize(const struct rtv_compare *c, struct rtv_compare_summary *out, int max)
{
	int per = 1 + c->cfg.nmethods, n = 0;
	double v[21][RTV_COMPARE_MAX_REPEATS];

	for (int m = 0; m < per && n < max; m++, n++) {
		struct rtv_compare_summary *s = &out[n];
		int k = 0;

		memset(s, 0, sizeof(*s));
		rtv_hist_init(&s->rtt);
		snprintf(s->method, sizeof(s->method), "%s",
			 m ? c->cfg.methods[m - 1]->name : RTV_COMPARE_IDLE);
		for (int i = m; i < c->done && k < RTV_COMPARE_MAX_REPEATS; i += per) {
			const struct rtv_compare_run *r = &c->runs[i];
			const struct rtv_hist *h = &r->rt.rtt;

			if (r->status)
				continue;
			rtv_hist_merge(&s->rtt, h);
			v[0][k] = rtv_hist_mean_ns(h) / 1e3;
			v[1][k] = us(rtv_hist_percentile(h, 50));
			v[2][k] = us(rtv_hist_percentile(h, 99));
			v[3][k] = us(rtv_hist_percentile(h, 99.9));
			v[4][k] = us(h->max_ns);
			v[5][k] = rtv_hist_sd_ns(h) / 1e3;
			v[6][k] = 100.0 * rtv_hist_fraction_above(h, 1000000);
			v[7][k] = r->stream_gbit_s;
			v[8][k] = r->cpu.busy_pct;
			v[9][k] = r->cpu.softirq_pct;
			v[10][k] = r->cpu.kthread_pct;
			v[11][k] = r->cpu.foreign_pct;
			v[12][k] = r->poller_load_cpu_pct;
			v[13][k] = r->poller_idle_cpu_pct;
			v[14][k] = c->rapl ? r->energy_j : r->energy_est_j;
			v[15][k] = r->rt_net_rx_per_s;
			v[17][k] = r->rt_napi_path_pct;
			v[18][k] = r->rt_polls_softirq_pct;
			v[19][k] = r->rt_polls_poller_pct;
			v[20][k] = r->rt_polls_kthread_pct;
			v[16][k] = (double)r->wakeups / ((double)c->cfg.duration_ns / 1e9);
			s->disturbed += r->disturbed;
			k++;
		}
		s->nruns = k;
		rtv_summary_of(v[0], k, &s->mean_us);
		rtv_summary_of(v[1], k, &s->p50_us);
		rtv_summary_of(v[2], k, &s->p99_us);
		rtv_summary_of(v[3], k, &s->p999_us);
		rtv_summary_of(v[4], k, &s->max_us);
		rtv_summary_of(v[5], k, &s->sd_us);
		rtv_summary_of(v[6], k, &s->over_1ms_pct);
		rtv_summary_of(v[7], k, &s->gbit_s);
		rtv_summary_of(v[8], k, &s->cpu_pct);
		rtv_summary_of(v[9], k, &s->softirq_pct);
		rtv_summary_of(v[10], k, &s->kthread_pct);
		rtv_summary_of(v[11], k, &s->foreign_pct);
		rtv_summary_of(v[12], k, &s->poller_load_cpu_pct);
		rtv_summary_of(v[13], k, &s->poller_idle_cpu_pct);
		rtv_summary_of(v[14], k, &s->energy_j);
		rtv_summary_of(v[15], k, &s->rt_net_rx_per_s);
		rtv_summary_of(v[16], k, &s->wakeups_per_s);
		rtv_summary_of(v[17], k, &s->napi_path_pct);
		rtv_summary_of(v[18], k, &s->polls_softirq_pct);
		rtv_summary_of(v[19], k, &s->polls_poller_pct);
		rtv_summary_of(v[20], k, &s->polls_kthread_pct);
	}
	return n;
}

static void put_summary(json_t *o, const char *key, const struct rtv_summary *s)
{
	char k[64];

	rtv_json_set_num(o, key, s->n ? s->mean : NAN);
	snprintf(k, sizeof(k), "%s_min", key);
	rtv_json_set_num(o, k, s->n ? s->min : NAN);
	snprintf(k, sizeof(k), "%s_max", key);
	rtv_json_set_num(o, k, s->n ? s->max : NAN);
}

json_t *rtv_compare_json(const struct rtv_compare *c, const struct rtv_compare_summary *s,
			 int ns, json_t *meta)
{
	const struct rtv_compare_cfg *cfg = &c->cfg;
	json_t *root = json_object(), *conf = json_object(), *runs = json_array(),
	       *sum = json_array(), *methods = json_array();

	json_object_set_new(root, "meta", meta);
	for (int i = 0; i < cfg->nmethods; i++)
		json_array_append_new(methods, json_string(cfg->methods[i]->name));
	json_object_set_new(conf, "methods", methods);
	rtv_json_set_int(conf, "repeats", cfg->repeats);
	rtv_json_set_num(conf, "duration_s", (double)cfg->duration_ns / 1e9);
	rtv_json_set_num(conf, "warmup_s", (double)cfg->warmup_ns / 1e9);
	rtv_json_set_str(conf, "interval_dist", rtv_dist_name(cfg->interval.dist));
	rtv_json_set_num(conf, "interval_min_us", (double)cfg->interval.min_ns / 1e3);
	rtv_json_set_num(conf, "interval_max_us", (double)cfg->interval.max_ns / 1e3);
	rtv_json_set_int(conf, "payload_bytes", (int64_t)cfg->payload);
	rtv_json_set_int(conf, "streams", cfg->nstreams);
	rtv_json_set_str(conf, "load", rtv_load_name(cfg->load));
	rtv_json_set_int(conf, "rt_prio", cfg->mcfg.rt_prio);
	rtv_json_set_int(conf, "seed", (int64_t)cfg->seed);
	rtv_json_set_int(conf, "cgroup_version", c->cgroup_version);
	if (c->dma_latency_held)
		rtv_json_set_int(conf, "cpu_dma_latency_us", cfg->cpu_dma_latency_us);
	else
		json_object_set_new(conf, "cpu_dma_latency_us", json_null());
	rtv_json_set_str(conf, "cpuidle_driver", c->cpuidle_driver);
	rtv_json_set_num(conf, "foreign_limit_pct", cfg->foreign_limit_pct);
	rtv_json_set_num(conf, "idle_phase_s", (double)cfg->idle_phase_ns / 1e9);
	if (c->rapl)
		rtv_json_set_str(conf, "energy_source", "powercap RAPL packages");
	else {
		char model[160];

		snprintf(model, sizeof(model), "estimate: no RAPL here; busy CPU-seconds x %g W per "
			 "busy CPU", cfg->core_watts);
		rtv_json_set_str(conf, "energy_source", model);
	}
	json_object_set_new(root, "config", conf);

	for (int i = 0; i < c->done; i++) {
		const struct rtv_compare_run *r = &c->runs[i];
		json_t *o = json_object(), *cpu = json_object(), *per = json_array();

		rtv_json_set_str(o, "method", r->method);
		rtv_json_set_str(o, "load", rtv_load_name(r->load));
		rtv_json_set_int(o, "repeat", r->repeat);
		if (r->status) {
			rtv_json_set_str(o, "error", strerror(-r->status));
			json_array_append_new(runs, o);
			continue;
		}
		json_object_set_new(o, "rtt_us", rtv_netrt_hist_json(&r->rt.rtt, r->rt.lost));
		json_object_set_new(o, "service_us", rtv_netrt_hist_json(&r->rt.service, r->rt.lost));
		rtv_json_set_int(o, "sent", (int64_t)r->rt.sent);
		rtv_json_set_int(o, "late_sends", (int64_t)r->rt.late);
		rtv_json_set_num(o, "stream_gbit_s", r->stream_gbit_s);
		rtv_json_set_num(cpu, "busy_pct", r->cpu.busy_pct);
		rtv_json_set_num(cpu, "softirq_pct", r->cpu.softirq_pct);
		rtv_json_set_num(cpu, "kthread_pct", r->cpu.kthread_pct);
		for (int k = 0; k < r->cpu.ncpus; k++)
			json_array_append_new(per, json_real(round(r->cpu.cpu_busy_pct[k] * 10) / 10));
		json_object_set_new(cpu, "per_cpu_busy_pct", per);
		json_object_set_new(o, "cpu", cpu);
		rtv_json_set_num(o, "foreign_pct", r->cpu.foreign_pct);
		rtv_json_set_num(o, "poller_load_cpu_pct", r->poller_load_cpu_pct);
		rtv_json_set_num(o, "poller_idle_cpu_pct", r->poller_idle_cpu_pct);
		rtv_json_set_num(o, c->rapl ? "energy_j" : "energy_est_j",
				 c->rapl ? r->energy_j : r->energy_est_j);
		rtv_json_set_num(o, "rt_cpu_net_rx_per_s", r->rt_net_rx_per_s);
		rtv_json_set_num(o, "rt_napi_path_pct", r->rt_napi_path_pct);
		if (c->tracefs) {
			json_t *p = json_object();

			rtv_json_set_int(p, "polls_with_work", (int64_t)r->rt_polls);
			rtv_json_set_num(p, "softirq_pct", r->rt_polls_softirq_pct);
			rtv_json_set_num(p, "poller_pct", r->rt_polls_poller_pct);
			rtv_json_set_num(p, "napi_kthread_pct", r->rt_polls_kthread_pct);
			json_object_set_new(o, "rt_napi_polls", p);
		}
		rtv_json_set_int(o, "wakeups", (int64_t)r->wakeups);
		if (r->wake_p99_ns >= 0)
			rtv_json_set_num(o, "wake_p99_us", (double)r->wake_p99_ns / 1e3);
		json_object_set_new(o, "disturbed", json_boolean(r->disturbed));
		if (r->note[0])
			rtv_json_set_str(o, "note", r->note);
		json_array_append_new(runs, o);
	}
	json_object_set_new(root, "runs", runs);

	for (int i = 0; i < ns; i++) {
		json_t *o = json_object();

		rtv_json_set_str(o, "method", s[i].method);
		rtv_json_set_int(o, "repeats", s[i].nruns);
		put_summary(o, "mean_us", &s[i].mean_us);
		put_summary(o, "p50_us", &s[i].p50_us);
		put_summary(o, "p99_us", &s[i].p99_us);
		put_summary(o, "p999_us", &s[i].p999_us);
		put_summary(o, "max_us", &s[i].max_us);
		put_summary(o, "sd_us", &s[i].sd_us);
		put_summary(o, "over_1ms_pct", &s[i].over_1ms_pct);
		put_summary(o, "stream_gbit_s", &s[i].gbit_s);
		put_summary(o, "cpu_pct", &s[i].cpu_pct);
		put_summary(o, "softirq_pct", &s[i].softirq_pct);
		put_summary(o, "kthread_pct", &s[i].kthread_pct);
		put_summary(o, "foreign_pct", &s[i].foreign_pct);
		put_summary(o, "poller_load_cpu_pct", &s[i].poller_load_cpu_pct);
		put_summary(o, "poller_idle_cpu_pct", &s[i].poller_idle_cpu_pct);
		put_summary(o, c->rapl ? "energy_j" : "energy_est_j", &s[i].energy_j);
		put_summary(o, "rt_cpu_net_rx_per_s", &s[i].rt_net_rx_per_s);
		put_summary(o, "wakeups_per_s", &s[i].wakeups_per_s);
		put_summary(o, "rt_napi_path_pct", &s[i].napi_path_pct);
		if (c->tracefs) {
			put_summary(o, "rt_polls_softirq_pct", &s[i].polls_softirq_pct);
			put_summary(o, "rt_polls_poller_pct", &s[i].polls_poller_pct);
			put_summary(o, "rt_polls_kthread_pct", &s[i].polls_kthread_pct);
		}
		rtv_json_set_int(o, "disturbed_runs", s[i].disturbed);
		json_array_append_new(sum, o);
	}
	json_object_set_new(root, "summary", sum);
	return root;
}
