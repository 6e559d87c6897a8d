/* Fuzz target for the cyclictest output parsers (lib/probe/cyclictest.h).
 *
 * Built with clang -fsanitize=fuzzer,address -DRTV_LIBFUZZER to fuzz for
 * real; built with gcc (the default) it has a main() like fuzz_policy's:
 *   fuzz_cyclictest FILE...        replay each file once
 *   fuzz_cyclictest --runs N [--seed S]
 *                                  N inputs mutated from built-in seeds
 * Every input goes to both parsers (the text one sees it NUL-terminated).
 * Each must either succeed with a result that obeys the invariants below or
 * fail with -EPROTO/-ENOMEM and a message; anything else aborts. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/cyclictest.h"
#include "driver.h"


static long parsed_json, parsed_text; /* inputs each parser accepted */

static void check(int cond, const char *what, const char *text)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_cyclictest: invariant broken: %s; input:\n%s\n", what, text);
	abort();
}

static void check_result(const struct rtv_cyclic_result *r, int ret, const char *err,
			 const char *text)
{
	uint64_t cycles = 0, ovf = 0;

	if (ret) {
		check(ret == -EPROTO || ret == -ENOMEM, "return value", text);
		check(ret == -ENOMEM || err[0], "a message on error", text);
		return;
	}
	check(r->nthreads >= 1 && r->nthreads <= RTV_CYCLIC_MAX_THREADS, "thread count", text);
	for (int i = 0; i < r->nthreads; i++) {
		cycles += r->thread[i].cycles;
		ovf += r->thread[i].overflows;
		check(r->thread[i].overflows <= r->thread[i].cycles, "overflows <= cycles", text);
	}
	check(r->samples == cycles && r->overflows == ovf, "totals", text);
	check(r->has_hist || (!r->overflows && r->hist.count == 0), "no histogram, no samples",
	      text);
	check(!r->has_hist || r->hist.count == r->samples, "every sample in hist", text);
	/* percentiles: -1 or a bucket, never decreasing, unknown stays unknown */
	check(r->p50_ns >= -1 && r->p99_ns >= -1 && r->p999_ns >= -1, "percentile range", text);
	check(r->p99_ns == -1 || (r->p50_ns != -1 && r->p50_ns <= r->p99_ns), "p50 <= p99", text);
	check(r->p999_ns == -1 || (r->p99_ns != -1 && r->p99_ns <= r->p999_ns), "p99 <= p99.9",
	      text);
	check(r->has_hist || r->p50_ns == -1, "no histogram, no percentile", text);
	check(r->p50_ns % 1000 == 0 || r->p50_ns == -1, "whole us", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rtv_cyclic_result a, b;
	char *text = malloc(size + 1), err[512], msg[512];
	json_t *obj = (json_t *)1;
	int ra, rb, rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	ra = rtv_cyclic_parse_json((const char *)data, size, &a, &obj, err, sizeof(err));
	check(ra ? obj == NULL : obj != NULL, "a document exactly on success", text);
	json_decref(ra ? NULL : obj);
	check_result(&a, ra, err, text);
	parsed_json += !ra;
	err[0] = '\0';
	rb = rtv_cyclic_parse_text(text, &b, err, sizeof(err));
	check_result(&b, rb, err, text);
	parsed_text += !rb;
	if (!ra && !rb) {
		rc = rtv_cyclic_crosscheck(&a, &b, msg, sizeof(msg));
		check(rc == 0 || (rc == -EPROTO && msg[0]), "cross-check", text);
	}
	free(text);
	return 0;
}

#ifndef RTV_LIBFUZZER
/* Real output of cyclictest 2.4 (shortened histograms). */
static const char *const seeds[] = {
	"{\"file_version\": 1, \"cmdline:\": \"cyclictest -m -p 90 -i 100 -D 3 -q -h 20 -t 2\","
	" \"rt_test_version:\": \"2.40\", \"return_code\": 0, \"num_threads\": 2,"
	" \"thread\": {\"0\": {\"histogram\": {\"5\": 1, \"19\": 847}, \"cycles\": 29991,"
	" \"min\": 5, \"max\": 255, \"avg\": 22.75, \"cpu\": 0, \"node\": 0},"
	" \"1\": {\"histogram\": {\"7\": 4, \"19\": 301}, \"cycles\": 29927, \"min\": 7,"
	" \"max\": 444, \"avg\": 24.97, \"cpu\": 1, \"node\": 0}}}",
	"# /dev/cpu_dma_latency set to 0us\n# Histogram\n000000 000000\t000000\n"
	"000001 000003\t000001\n000002 000001\t000002\n# Total: 000000004 000000003\n"
	"# Min Latencies: 00001 00001\n# Avg Latencies: 00001 00001\n"
	"# Max Latencies: 00002 00005\n# Histogram Overflows: 00000 00001\n"
	"# Histogram Overflow at cycle number:\n# Thread 0:\n# Thread 1: 00002\n",
	"# /dev/cpu_dma_latency set to 0us\n"
	"T: 0 (20197) P:90 I:100 C:   9999 Min:     19 Act:   23 Avg:   24 Max:     106\n"
	"T: 1 (20198) P:90 I:600 C:   1666 Min:     13 Act:   39 Avg:   49 Max:     990\n",
};
/* Fragments spliced in: the characters and words the parsers branch on. */
static const char *const tokens[] = {
	"{", "}", "[", "]", ",", ":", "\"", "\n", " ", "\t", "-", "0", "1", "19", "999999",
	"1000000", "18446744073709551615", "1e300", "-1", "\"histogram\": {}", "\"cycles\": ",
	"\"min\": ", "\"max\": ", "\"avg\": ", "\"num_threads\": ", "\"thread\": ", "\"2\": ",
	"# Histogram\n", "# Total:", "# Min Latencies:", "# Avg Latencies:", "# Max Latencies:",
	"# Histogram Overflows:", "# Thread 0:", "# Thread 1:", "T: 2 (1) P:90 I:100 C: 5 ",
	"000003 000007\t000001\n", "null", "\\u0000",
};

static const char *counts(void)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), " (%ld parsed as JSON, %ld as text)", parsed_json, parsed_text);
	return buf;
}

static const struct rtv_fuzz_target target = {
	.name = "fuzz_cyclictest",
	.seeds = seeds,
	.nseeds = RTV_FUZZ_N(seeds),
	.unchanged = 3, /* the seeds themselves first */
	.tokens = tokens,
	.ntokens = RTV_FUZZ_N(tokens),
	.cap = 4096,
	.counts = counts,
};

int main(int argc, char **argv)
{
	return rtv_fuzz_main(&target, argc, argv);
}
#endif
