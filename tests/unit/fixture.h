/* What unit tests share: for fake trees a fresh temporary directory, files
 * written into it, and its removal; for histograms a new empty one and
 * samples recorded into it; captured files read whole. Header-only; include after the system
 * headers and cmocka.h (the writers assert). */
#ifndef RTV_TESTS_FIXTURE_H
#define RTV_TESTS_FIXTURE_H

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stats/hist.h"

/* Make /tmp/rtvnet-test-<tag>.XXXXXX; 0 or -1. */
static inline int rtv_test_mkdtemp(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/rtvnet-test-%s.XXXXXX", tag);
	return mkdtemp(buf) ? 0 : -1;
}

static inline int rtv_test_rm_one(const char *path, const struct stat *st, int flag,
				  struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* Remove a tree made by a test, depth first, not following links. */
static inline void rtv_test_rmtree(const char *root)
{
	nftw(root, rtv_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole of file path (a captured fixture), NUL-terminated, its length
 * into *len (may be NULL); the caller frees it. */
static inline char *rtv_test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return s;
}

/* Write s to path, exactly its bytes (created or truncated), as a fake
 * sysfs or procfs file; fails the test when it cannot. */
static inline void rtv_test_put(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* The same for ROOT/NAME, and a directory ROOT/NAME. */
static inline void rtv_test_put_in(const char *root, const char *name, const char *s)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, name);
	rtv_test_put(p, s);
}

static inline void rtv_test_mkdir_in(const char *root, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, name);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* The fixture of tests that need only a fresh tree: cmocka setup and
 * teardown around `struct rtv_test_tree`, the state they hand the tests. */
struct rtv_test_tree {
	char root[64]; /* the mkdtemp directory, the fake root */
};

static inline int rtv_test_tree_setup(void **state, const char *tag)
{
	struct rtv_test_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	if (rtv_test_mkdtemp(t->root, sizeof(t->root), tag)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static inline int rtv_test_tree_teardown(void **state)
{
	struct rtv_test_tree *t = *state;

	rtv_test_rmtree(t->root);
	free(t);
	return 0;
}

/* A new empty histogram on the heap (free it); fails the test when out of
 * memory. */
static inline struct rtv_hist *rtv_test_hist_new(void)
{
	struct rtv_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	rtv_hist_init(h);
	return h;
}

/* Record ns into h n times. */
static inline void rtv_test_hist_record(struct rtv_hist *h, int64_t ns, int n)
{
	while (n-- > 0)
		rtv_hist_record(h, ns);
}

/* Whether a copy of a histogram is a state it was in: every sample in
 * exactly one of underflow, overflow and the buckets, min <= max, the mean
 * within them (a copy torn by a concurrent record breaks these). */
static inline bool rtv_test_hist_whole(const struct rtv_hist *h)
{
	uint64_t sum = h->underflow + h->overflow;

	for (int i = 0; i < RTV_HIST_NBUCKETS; i++)
		sum += h->buckets[i];
	if (sum != h->count)
		return false;
	return !h->count || (h->min_ns <= h->max_ns && h->mean_ns >= (double)h->min_ns - 1 &&
			     h->mean_ns <= (double)h->max_ns + 1 && h->m2 >= 0);
}

/* Skip the current test case, saying why in a line tests/run.sh reads:
 * "rtv-skip: needs CAPABILITY: detail". A skip whose capability the README's
 * "Capabilities" list does not name is a failure (this machine must run it). */
#define RTV_SKIP(...)                                   \
	do {                                            \
		printf("rtv-skip: " __VA_ARGS__);       \
		printf("\n");                           \
		fflush(stdout);                         \
		skip();                                 \
	} while (0)

#endif
