/* The fuzz targets' driver for gcc builds. Built with clang
 * -fsanitize=fuzzer -DRTV_LIBFUZZER, a target is libFuzzer's and its main
 * runs instead. Built with gcc, a target is an executable that runs
 *   NAME FILE...                  each file once, as it is
 *   NAME --runs N [--seed S]      N inputs: the target's first `unchanged`
 *                                 seeds as they are, then its seeds in turn
 *                                 with a few random edits each (a byte
 *                                 flipped, one of its tokens spliced in, a
 *                                 span deleted, rarely a cut), the edits
 *                                 drawn from a xorshift seeded with S
 * and prints "NAME: N inputs..., seed S, no invariant broken" when no input
 * aborted it. A target defines LLVMFuzzerTestOneInput, its struct
 * rtv_fuzz_target and a main() calling rtv_fuzz_main(). One whose inputs
 * are binary (fuzz_elf) mutates them itself and takes only the random
 * numbers (rtv_fuzz_next). */
#ifndef RTV_TESTS_FUZZ_DRIVER_H
#define RTV_TESTS_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rtv_fuzz_target {
	const char *name;
	const char *const *seeds;  /* text inputs to start from */
	size_t nseeds;
	size_t unchanged;          /* inputs run before the first edited one */
	const char *const *tokens; /* fragments the parser branches on */
	size_t ntokens;
	size_t cap;                /* the longest input made */
	/* what to add to the last line after "N inputs" (" (7 parsed)"), or NULL */
	const char *(*counts)(void);
};

#define RTV_FUZZ_N(a) (sizeof(a) / sizeof((a)[0]))

void rtv_fuzz_seed(uint64_t seed);
uint64_t rtv_fuzz_next(void);
int rtv_fuzz_main(const struct rtv_fuzz_target *t, int argc, char **argv);

#endif
