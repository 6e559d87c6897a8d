/* What unit tests on fake trees share: a fresh temporary directory and its
 * removal. Header-only; include after the system headers. */
#ifndef RTV_TESTS_FIXTURE_H
#define RTV_TESTS_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

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

#endif
