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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	int n = 1 + (int)(next() % 6);

	while (n--) {
		size_t pos = len ? next() % (len + 1) : 0;

		switch (next() % 5) {
		case 0: /* flip a byte */
			if (len)
				buf[pos % len] = (uint8_t)next();
			break;
		case 1: /* truncate */
			len = pos;
			break;
		case 2: { /* splice a token */
			const char *t = tokens[next() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t tl = strlen(t);

			if (len + tl <= cap) {
				memmove(buf + pos + tl, buf + pos, len - pos);
				memcpy(buf + pos, t, tl);
				len += tl;
			}
			break;
		}
		case 3: { /* delete a span */
			size_t d = next() % 8;

			if (pos + d <= len) {
				memmove(buf + pos, buf + pos + d, len - pos - d);
				len -= d;
			}
			break;
		}
		default: { /* duplicate a span (duplicate tasks, keys) */
			size_t from = len ? next() % len : 0, d = next() % 64;

			if (from + d > len)
				d = len - from;
			if (len + d <= cap) {
				memmove(buf + pos + d, buf + pos, len - pos);
				memmove(buf + pos, buf + from + (from >= pos ? d : 0), d);
				len += d;
			}
			break;
		}
		}
	}
	return len;
}

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "fuzz_taskset: cannot read '%s'\n", path);
		if (f)
			fclose(f);
		return 1;
	}
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "fuzz_taskset: cannot read '%s'\n", path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	long runs = -1;
	uint64_t seed = 1;
	int i, ret = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else
			ret |= replay(argv[i]);
	}
	if (runs < 0)
		return ret;
	rng = seed ? seed : 1;
	enum { CAP = 8192 };
	static uint8_t buf[CAP];

	for (long r = 0; r < runs; r++) {
		const char *s = seeds[r % (long)(sizeof(seeds) / sizeof(seeds[0]))];
		size_t len = strlen(s);

		memcpy(buf, s, len);
		if (r >= 2) /* the seeds themselves first, unchanged */
			len = mutate(buf, len, CAP);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_taskset: %ld inputs, seed %llu, no invariant broken\n", runs,
	       (unsigned long long)seed);
	return ret;
}
#endif
