/* cyclictest (rt-tests 2.4, Debian's /usr/bin/cyclictest): its command line
 * and what it writes, for comparing the wake-up latency of environments
 * (Abeni et al.: SCHED_FIFO 90, 100 µs interval, mlockall, 30 s, --json and
 * a -h histogram).
 *
 * What rt-tests 2.4 writes (checked by running it here; the unit tests'
 * fixtures in tests/unit/data/cyclictest/ are such runs):
 *
 * --json=PATH, written at exit:
 *   { "file_version": 1, "cmdline:": "...", "rt_test_version:": "2.40",
 *     "start_time": "...", "end_time": "...", "return_code": 0,
 *     "sysinfo": { "sysname", "nodename", "release", "version", "machine",
 *                  "realtime" },
 *     "num_threads": N, "resolution_in_ns": 0,
 *     "thread": { "0": { "histogram": { "19": 9513, ... },   (with -h only)
 *                        "cycles": 29971, "min": 10, "max": 2661,
 *                        "avg": 20.80, "cpu": 0, "node": 0 }, ... } }
 *   Without -h each thread still has "histogram": {      } (empty).
 *   Note the keys "cmdline:" and "rt_test_version:" with a trailing colon
 *   (a quirk of 2.4; both spellings are accepted). min, max and the
 *   histogram's keys are whole µs (the latency truncated to µs: bucket "19"
 *   holds latencies in [19, 20) µs); avg is the mean in µs printed with two
 *   decimals. The histogram lists only non-empty buckets below the -h
 *   limit; the samples above it (overflows) are not in the JSON at all:
 *   they are cycles minus the histogram's sum.
 *
 * stdout with -q -h N (no "T:" summary lines are printed with -h):
 *   # /dev/cpu_dma_latency set to 0us
 *   # Histogram
 *   000000 000000	000000            one row per µs 0..N-1: "%06d" index,
 *   ...                                then one count per thread (space, then
 *   # Total: 000029995 000029924       tabs); -H adds a sum column
 *   # Min Latencies: 00006 00005
 *   # Avg Latencies: 00021 00020       the mean TRUNCATED to whole µs
 *   # Max Latencies: 00262 01235
 *   # Histogram Overflows: 00000 00004
 *   # Histogram Overflow at cycle number:
 *   # Thread 0:
 *   # Thread 1: 07572 15678 21658 25721    (the first few, then "# 01300 others")
 *   Total counts the samples in the rows; Total + Overflows = the JSON's
 *   cycles. With -q and no -h, one line per thread instead:
 *   T: 0 (20197) P:90 I:100 C:   9999 Min:     19 Act:   23 Avg:   24 Max:     106
 *   (Avg truncated to whole µs there too).
 *
 * Not handled: -N (ns units) and --histfile output; cyclictest's stderr
 * (its warnings and errors) is the caller's to show.
 *
 * All functions are pure (no system call but the writes of
 * rtv_cyclic_cdf_svg()), never print, and return 0 or -errno.
 */
#ifndef RTV_PROBE_CYCLICTEST_H
#define RTV_PROBE_CYCLICTEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/hist.h"

#define RTV_CYCLIC_MAX_THREADS 64
#define RTV_CYCLIC_MAX_HIST_US 1000000 /* largest -h taken (1 s of 1 µs buckets) */
#define RTV_CYCLIC_MAX_ARGS    16      /* argv entries rtv_cyclic_argv() may need, NULL included */

struct rtv_cyclic_cfg {
	int prio;            /* SCHED_FIFO priority, 1..99: -pPRIO */
	int64_t interval_ns; /* > 0, whole µs: -iUS */
	int64_t duration_ns; /* > 0, whole seconds: -DSECS */
	int hist_max_us;     /* 0: no histogram; else 1..RTV_CYCLIC_MAX_HIST_US: -hUS */
	int threads;         /* 0 or 1: one thread; 2..RTV_CYCLIC_MAX_THREADS: -tN */
	const char *cpus;    /* CPU list for -a ("0,1", "2-3"), or NULL: not pinned */
	const char *json_path; /* --json=PATH, or NULL: no JSON */
};

/* Abeni's settings: priority 90, 100 µs interval, 30 s, one thread,
 * unpinned, no JSON, and a 10000 µs histogram. Why 10 ms rather than 1 ms:
 * a sample above the limit is only counted (its value is lost), so every
 * percentile that falls there is unknown; a container under load or a VM
 * shows wake-ups of a few ms (this machine showed 2.7 ms in a 3 s run), and
 * the wider histogram costs little (80 KB locked per thread in cyclictest,
 * the JSON lists only non-empty buckets, stdout gets 10000 short rows). */
void rtv_cyclic_cfg_init(struct rtv_cyclic_cfg *c);

/* The argv for execv() of cyclictest with c: prog (used as given, e.g.
 * "cyclictest" for execvp or "/usr/bin/cyclictest"), "-m", "-q",
 * "-p90", "-i100", "-D30", then when set "-h10000", "-t2", "-a0,1",
 * "--json=PATH", and a NULL; "-d0" after "-t2" when there is no histogram
 * (all threads at the same interval: -h implies it and warns at -d0).
 * Values are attached to their options, as -t and -a take optional
 * arguments. argv has room for maxargs entries
 * (RTV_CYCLIC_MAX_ARGS is always enough); the strings other than prog are
 * written into buf (buflen bytes), which must outlive argv. Returns the
 * number of arguments (NULL not counted), -EINVAL (NULL pointer, a value out
 * of the ranges above, a duration not in whole seconds, an interval not in
 * whole µs, a CPU list of other characters than digits, ',' and '-', an
 * empty path) or -E2BIG (argv or buf too small). */
int rtv_cyclic_argv(const struct rtv_cyclic_cfg *c, const char *prog, char **argv, size_t maxargs,
		    char *buf, size_t buflen);

/* Where a result's figures came from: their precision differs. */
enum rtv_cyclic_source {
	RTV_CYCLIC_SRC_JSON = 1,  /* --json: avg with two decimals */
	RTV_CYCLIC_SRC_HIST,      /* stdout of -q -h: avg truncated to µs */
	RTV_CYCLIC_SRC_SUMMARY,   /* stdout of -q without -h, "T:" lines: avg truncated, no histogram */
};

/* One measuring thread as cyclictest reported it, in its units (µs). */
struct rtv_cyclic_thread {
	int64_t min_us, max_us; /* whole µs (latencies are truncated to µs) */
	double avg_us;          /* JSON: rounded to 0.01; text: truncated to a whole µs */
	uint64_t cycles;        /* samples: in the histogram + overflows */
	uint64_t overflows;     /* samples >= the -h limit; 0 without a histogram */
	int cpu;                /* the CPU it ran on (JSON only), -1 unknown */
};

/* About 33 KiB (hist is most of it), no pointers: allocate it rather than
 * keep several on a thread's stack; copy it freely. */
struct rtv_cyclic_result {
	enum rtv_cyclic_source source;
	int nthreads;
	int has_hist;          /* a -h histogram was present; else no percentile is known */
	int return_code;       /* the JSON's "return_code" (0 from text) */
	char version[16];      /* "rt_test_version" ("2.40"), "" when absent or from text */
	/* over all threads (threads with no cycles left out) */
	int64_t min_ns, max_ns; /* the threads' min and max (whole µs) in ns; 0 when no cycles */
	double avg_ns;          /* cycle-weighted mean of the threads' avg, at their precision */
	/* From the histograms merged over threads, nearest rank (the smallest
	 * bucket b such that at least p% of ALL samples, overflows included,
	 * are < b + 1 µs), reported as b µs in ns (the bucket's lower edge, as
	 * cyclictest truncates: the true value lies in [b, b + 1) µs). A rank
	 * that falls among the overflows is -1: unknown, >= the -h limit.
	 * -1 too without a histogram. */
	int64_t p50_ns, p99_ns, p999_ns;
	uint64_t samples;      /* all cycles of all threads */
	uint64_t overflows;    /* of those, above the histogram */
	/* Every sample for a CDF: each in-range sample at its bucket's lower
	 * edge (b µs -> b * 1000 ns, so bucket 0 counts as underflow), and each
	 * thread's overflows at that thread's max. So count = samples, min and
	 * max are cyclictest's, and the CDF is exact up to the -h limit and
	 * beyond it never above the true one (each overflow is placed at or
	 * above its true value); its mean and sd are not cyclictest's (use
	 * avg_ns). Empty without a histogram. */
	struct rtv_hist hist;
	struct rtv_cyclic_thread thread[RTV_CYCLIC_MAX_THREADS];
};

/* Parse the text of a --json file (len bytes, need not be NUL-terminated)
 * into r (source RTV_CYCLIC_SRC_JSON). Required: "num_threads" (1 ..
 * RTV_CYCLIC_MAX_THREADS) and "thread" with objects "0" .. "N-1", each with
 * whole "cycles", "min", "max", a number "avg", and either all or none a
 * "histogram" of whole µs keys to whole counts whose sum is at most cycles.
 * 2.4 writes "histogram": {} for each thread when run without -h; so when
 * every thread's histogram is empty, has_hist is set (and all samples are
 * overflows) only if "cmdline" holds -h, -H, --histogram or --histofall.
 * "rt_test_version" and "rt_test_version:" are both read (optional).
 * When obj is not NULL, *obj is the parsed document (the caller owns one
 * reference: json_decref() it), to embed verbatim in the caller's JSON;
 * NULL on error. Returns 0, -EINVAL (NULL text or r) or -EPROTO with err
 * naming what is malformed or missing (the parse position for bad JSON). */
int rtv_cyclic_parse_json(const char *text, size_t len, struct rtv_cyclic_result *r, json_t **obj,
			  char *err, size_t errlen);

/* The value of a top-level string key of cyclictest's JSON, under either
 * spelling ("cmdline" or "cmdline:", "rt_test_version" or
 * "rt_test_version:"); NULL when absent or not a string. Borrowed from obj. */
const char *rtv_cyclic_json_string(const json_t *obj, const char *key);

/* Parse what cyclictest printed on stdout (NUL-terminated) with -q -h N
 * (source RTV_CYCLIC_SRC_HIST: the rows, "# Total:", the Min/Avg/Max
 * latency lines, "# Histogram Overflows:", one "# Thread i:" line per thread;
 * a -H sum column is ignored) or with -q alone (RTV_CYCLIC_SRC_SUMMARY: the
 * "T:" lines, no histogram). Other lines starting with '#' and blank lines
 * are skipped. Returns 0, -EINVAL (NULL text or r) or -EPROTO with err
 * naming the line or the part missing (a truncated output lacks the
 * footer; rows must come in increasing order, with one count per thread,
 * and sum to each thread's Total). */
int rtv_cyclic_parse_text(const char *text, struct rtv_cyclic_result *r, char *err, size_t errlen);

/* Compare the per-thread figures of one run read from its JSON and from its
 * text output: thread count, min and max (equal), cycles (equal), overflows
 * (equal when both have a histogram) and avg (the JSON's, rounded to 0.01,
 * must truncate to the text's whole µs: T <= J + 0.005 and J - 0.005 < T + 1).
 * Returns 0 when all agree, -EPROTO with msg listing the differences
 * ("thread 1: max 1235 in JSON, 1236 in text; ..."), -EINVAL for a NULL
 * pointer or a from_json not from JSON. */
int rtv_cyclic_crosscheck(const struct rtv_cyclic_result *from_json,
			  const struct rtv_cyclic_result *from_text, char *msg, size_t len);

/* The CDFs of n results' histograms (r[i] named names[i]) as one SVG
 * picture, x in µs: rtv_svg_hist_cdf() of their hist. Returns as that. */
int rtv_cyclic_cdf_svg(FILE *f, const char *title, const char *const *names,
		       const struct rtv_cyclic_result *const *r, int n);

#endif
