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

#endif
