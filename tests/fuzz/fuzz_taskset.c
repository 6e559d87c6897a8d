/* Fuzz target for the taskset parsers (lib/taskset/taskset.h).
 *
 * LLVMFuzzerTestOneInput is libFuzzer's entry: build with clang
 * -fsanitize=fuzzer,address -DRTV_LIBFUZZER to fuzz for real. Built with gcc
 * (the default) this file also has a main():
 *   fuzz_taskset FILE...        replay each file once
 *   fuzz_taskset --runs N [--seed S]
 *                               N inputs mutated from built-in seeds
 * Every input must either parse into a taskset that obeys the model's
 * invariants or fail with -EINVAL/-ENOMEM and a message naming the origin;
 * anything else aborts (and a sanitizer build catches memory errors). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskset/taskset.h"
#include "driver.h"


static void check(int cond, const char *what, const uint8_t *data, size_t size)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_taskset: invariant broken: %s; input (%zu bytes):\n", what, size);
	fwrite(data, 1, size, stderr);
	fputc('\n', stderr);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtv_taskset ts;
	char err[512];
	/* ncpus from the first byte, so that the utilization checks get fuzzed too */
	int ncpus = size ? (data[0] % 5) - 1 : 0;
	int ret = rtv_taskset_parse((const char *)data, size, "fuzz", ncpus, &ts, err, sizeof(err));

	if (ret == 0) {
		check(ts.n > 0 && ts.n <= RTV_TASKSET_MAX && ts.task, "task count", data, size);
		for (int i = 0; i < ts.n; i++) {
			const struct rtv_task *t = &ts.task[i];

			check(t->name[0] && memchr(t->name, 0, sizeof(t->name)), "name", data, size);
			check(t->wcet_ns > 0 && t->wcet_ns <= t->deadline_ns &&
				      t->deadline_ns <= t->period_ns,
			      "0 < C <= D <= T", data, size);
			check(t->cpu >= -1 && (ncpus <= 0 || t->cpu < ncpus), "cpu", data, size);
			check(t->prio == -1 || (t->prio >= 1 && t->prio <= 99), "prio", data, size);
			for (int j = 0; j < i; j++)
				check(strcmp(ts.task[j].name, t->name) != 0, "unique names", data, size);
		}
		check(ncpus <= 0 || rtv_taskset_utilization(&ts) <= ncpus + 1e-9, "utilization", data,
		      size);
	} else {
		check(ret == -EINVAL || ret == -ENOMEM, "return value", data, size);
		check(ts.n == 0 && !ts.task, "released on error", data, size);
		check(ret == -ENOMEM || !strncmp(err, "fuzz: ", 6), "message names the origin", data,
		      size);
	}
	rtv_taskset_release(&ts);
	return 0;
}

#ifndef RTV_LIBFUZZER
static const char *const seeds[] = {
	"{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":10},"
	"{\"name\":\"b\",\"wcet_ms\":2.5,\"period_ms\":20,\"deadline_ms\":15,\"cpu\":1}]}",
	"{\"global\":{\"duration\":5,\"default_policy\":\"SCHED_FIFO\"},\"tasks\":{"
	"\"t1\":{\"priority\":30,\"cpus\":[1],\"run\":2000,\"timer\":{\"ref\":\"u\",\"period\":10000}},"
	"\"t2\":{\"policy\":\"SCHED_OTHER\",\"phases\":{\"p\":{\"runtime\":1500,\"timer0\":{\"period\":40000}}}},"
	"\"t3\":{\"instance\":3,\"run\":100,\"timer\":{\"period\":1000},\"dl-deadline\":800}}}",
};
/* Fragments spliced in: the tokens the parsers branch on. */
static const char *const tokens[] = {
	"{", "}", "[", "]", ",", ":", "\"", "-", "0", "1e308", "-1", "99999999999999999999",
	"\"name\"", "\"wcet_ms\"", "\"period_ms\"", "\"deadline_ms\"", "\"cpu\"", "\"tasks\"",
	"\"run\"", "\"runtime\"", "\"timer\"", "\"period\"", "\"phases\"", "\"instance\"",
	"\"priority\"", "\"policy\"", "\"cpus\"", "\"SCHED_FIFO\"", "null", "true", "0.0000001",
	"\\u0000", "1024", "\"dl-deadline\"", "\"global\"",
};

static const struct rtv_fuzz_target target = {
	.name = "fuzz_taskset",
	.seeds = seeds,
	.nseeds = RTV_FUZZ_N(seeds),
	.unchanged = 2, /* the seeds themselves first */
	.tokens = tokens,
	.ntokens = RTV_FUZZ_N(tokens),
	.cap = 8192,
};

int main(int argc, char **argv)
{
	return rtv_fuzz_main(&target, argc, argv);
}
#endif
