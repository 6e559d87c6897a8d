/* Unit tests for lib/host/cgroup.c against fake cgroup v1 and v2 trees in a
 * mkdtemp directory (the root is a parameter), with the journal open in a
 * second temporary directory. A fake tree is made of regular files, so two
 * things differ from cgroupfs and the tests say where: a write without
 * O_TRUNC overwrites from offset 0 instead of replacing the value, and rmdir
 * does not take the control files with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/journal.h"

#include "fixture.h"

#define PATH_LEN 320

struct fx {
	char root[64];  /* the mkdtemp directory */
	char fs[128];   /* the fake cgroup root */
	char jdir[128]; /* the journal's directory */
	struct rtv_cgroups cg;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	if (rtv_test_mkdtemp(fx->root, sizeof(fx->root), "cgroup")) {
		free(fx);
		return -1;
	}
	snprintf(fx->fs, sizeof(fx->fs), "%s/fs", fx->root);
	snprintf(fx->jdir, sizeof(fx->jdir), "%s/journal.d", fx->root);
	if (mkdir(fx->fs, 0755) || rtv_journal_open(fx->jdir, NULL)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	rtv_journal_close();
	rtv_test_rmtree(fx->root);
	free(fx);
	return 0;
}

/* ---- the fake tree ---- */

static void path_in(const struct fx *fx, const char *name, char *buf)
{
	snprintf(buf, PATH_LEN, "%s/%s", fx->fs, name);
}

static void mkdir_in(const struct fx *fx, const char *name)
{
	rtv_test_mkdir_in(fx->fs, name);
}

static void put(const struct fx *fx, const char *name, const char *s)
{
	rtv_test_put_in(fx->fs, name, s);
}

static void rm_in(const struct fx *fx, const char *name)
{
	char p[PATH_LEN];

	path_in(fx, name, p);
	assert_int_equal(unlink(p), 0);
}

static void expect_file(const char *path, const char *want)
{
	char buf[4096];
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	assert_string_equal(buf, want);
	assert_int_equal(total, (ssize_t)strlen(want));
}

static void expect_in(const struct fx *fx, const char *name, const char *want)
{
	char p[PATH_LEN];

	path_in(fx, name, p);
	expect_file(p, want);
}

static bool is_dir(const struct fx *fx, const char *name)
{
	char p[PATH_LEN];
	struct stat st;

	path_in(fx, name, p);
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static bool exists_in(const struct fx *fx, const char *name)
{
	char p[PATH_LEN];

	path_in(fx, name, p);
	return !access(p, F_OK);
}

/* The journal's lines, from their kind on (no owner, time, error), with
 * the fake root written as "@". */
static void expect_journal(const struct fx *fx, const char *want)
{
	char p[PATH_LEN], buf[4096], out[4096];
	size_t rootlen = strlen(fx->fs), o = 0;
	ssize_t n, total = 0;
	int fd;

	snprintf(p, sizeof(p), "%s/journal", fx->jdir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	for (const char *s = buf; *s && o + 1 < sizeof(out);) {
		if (s == buf || s[-1] == '\n')
			for (int f = 0; f < 4 && strchr(s, ' '); f++)
				s = strchr(s, ' ') + 1;
		if (!strncmp(s, fx->fs, rootlen)) {
			out[o++] = '@';
			s += rootlen;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	assert_string_equal(out, want);
}

/* Counts the opens for writing of one file, each closed since the last call:
 * what a fake file cannot show, since a later shorter write leaves the tail
 * of an earlier longer one. IN_OPEN is watched too because inotify merges an
 * event into an identical one still queued: two close-writes in a row would
 * count once, an open between them keeps them apart. */
static int watch_writes(const struct fx *fx, const char *name)
{
	char p[PATH_LEN];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	assert_true(fd >= 0);
	path_in(fx, name, p);
	assert_true(inotify_add_watch(fd, p, IN_OPEN | IN_CLOSE_WRITE) >= 0);
	return fd;
}

static int writes_since(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int count = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			count += !!(ev->mask & IN_CLOSE_WRITE);
			p += sizeof(*ev) + ev->len;
		}
	}
	assert_int_equal(n, -1);
	assert_int_equal(errno, EAGAIN);
	return count;
}

static void fake_v2(struct fx *fx, const char *subtree_control)
{
	put(fx, "cgroup.controllers", "cpuset cpu io memory\n");
	put(fx, "cgroup.subtree_control", subtree_control);
	assert_int_equal(rtv_cgroup_detect(fx->fs, &fx->cg), 0);
	assert_int_equal(fx->cg.version, 2);
}

static void fake_v1(struct fx *fx)
{
	mkdir_in(fx, "cpuset");
	mkdir_in(fx, "cpuacct");
	put(fx, "cpuset/cpuset.cpus", "0-1\n");
	put(fx, "cpuset/cpuset.mems", "0\n");
	put(fx, "cpuacct/cpuacct.usage", "987654321\n");
	assert_int_equal(rtv_cgroup_detect(fx->fs, &fx->cg), 0);
	assert_int_equal(fx->cg.version, 1);
}

/* ---- detect and paths ---- */

static void test_detect(void **state)
{
	struct fx *fx = *state;
	struct rtv_cgroups cg = { .version = -1 };
	char missing[PATH_LEN];

	assert_int_equal(rtv_cgroup_detect(fx->fs, &cg), -ENOTSUP);
	path_in(fx, "missing", missing);
	assert_int_equal(rtv_cgroup_detect(missing, &cg), -ENOTSUP);

	/* v1 needs both cpuset and cpuacct */
	mkdir_in(fx, "cpuset");
	put(fx, "cpuset/cpuset.cpus", "0-1\n");
	assert_int_equal(rtv_cgroup_detect(fx->fs, &cg), -ENOTSUP);
	mkdir_in(fx, "cpuacct");
	put(fx, "cpuacct/cpuacct.usage", "0\n");
	cg.version = -1;
	assert_int_equal(rtv_cgroup_detect(fx->fs, &cg), 0);
	assert_int_equal(cg.version, 1);
	assert_string_equal(cg.root, fx->fs);
	rm_in(fx, "cpuset/cpuset.cpus");
	assert_int_equal(rtv_cgroup_detect(fx->fs, &cg), -ENOTSUP);

	put(fx, "cgroup.controllers", "cpuset cpu io memory\n");
	cg.version = -1;
	assert_int_equal(rtv_cgroup_detect(fx->fs, &cg), 0);
	assert_int_equal(cg.version, 2);
	assert_string_equal(cg.root, fx->fs);
	assert_int_equal(rtv_journal_mark(), 0); /* detecting changes nothing */
}

static void test_path(void **state)
{
	struct rtv_cgroups v1 = { .version = 1, .root = "/r" }, v2 = { .version = 2, .root = "/r" };
	char buf[64];

	(void)state;
	rtv_cgroup_path(&v2, "cpuset", "rtvnet/rts", buf, sizeof(buf));
	assert_string_equal(buf, "/r/rtvnet/rts");
	rtv_cgroup_path(&v2, NULL, "rtvnet", buf, sizeof(buf));
	assert_string_equal(buf, "/r/rtvnet");
	rtv_cgroup_path(&v1, "cpuacct", "rtvnet/rts", buf, sizeof(buf));
	assert_string_equal(buf, "/r/cpuacct/rtvnet/rts");
	rtv_cgroup_path(&v1, "cpuset", "rtvnet", buf, 10);
	assert_string_equal(buf, "/r/cpuset"); /* truncated, terminated */
}

/* ---- v2 ---- */

static void test_v2_create(void **state)
{
	struct fx *fx = *state;
	size_t mark = rtv_journal_mark();
	int w;

	fake_v2(fx, "");
	w = watch_writes(fx, "cgroup.subtree_control");
	assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet"), 0);
	assert_true(is_dir(fx, "rtvnet"));
	assert_int_equal(rtv_journal_mark(), mark + 3);
	expect_journal(fx, "cgroupctl @/cgroup.subtree_control cpuset\n"
			   "cgroupctl @/cgroup.subtree_control cpu\n"
			   "cgroup @/rtvnet\n");
	/* two writes: "+cpuset", then "+cpu" over its first four bytes */
	assert_int_equal(writes_since(w), 2);
	expect_in(fx, "cgroup.subtree_control", "+cpuset");

	/* undo, one entry at a time: the journal truncates, so each token shows */
	assert_int_equal(rtv_journal_undo_to(mark + 2), 1);
	assert_false(exists_in(fx, "rtvnet"));
	assert_int_equal(writes_since(w), 0);
	assert_int_equal(rtv_journal_undo_to(mark + 1), 1);
	expect_in(fx, "cgroup.subtree_control", "-cpu");
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	expect_in(fx, "cgroup.subtree_control", "-cpuset");
	assert_int_equal(writes_since(w), 2);
	assert_int_equal(rtv_journal_mark(), mark);
	close(w);
}

static void test_v2_create_one_missing(void **state)
{
	struct fx *fx = *state;
	size_t mark = rtv_journal_mark();
	int w;

	/* "cpu" is a prefix of "cpuset" but not enabled by it */
	fake_v2(fx, "io cpuset\n");
	w = watch_writes(fx, "cgroup.subtree_control");
	assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet"), 0);
	assert_int_equal(rtv_journal_mark(), mark + 2);
	expect_journal(fx, "cgroupctl @/cgroup.subtree_control cpu\ncgroup @/rtvnet\n");
	assert_int_equal(writes_since(w), 1);
	assert_int_equal(rtv_journal_undo_to(mark), 2);
	expect_in(fx, "cgroup.subtree_control", "-cpu");
	assert_false(exists_in(fx, "rtvnet"));
	close(w);
}

static void test_v2_create_already_enabled(void **state)
{
	static const char *const enabled[] = { "cpuset cpu\n", "memory cpu io cpuset\n" };
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(enabled) / sizeof(enabled[0]); i++) {
		size_t mark = rtv_journal_mark();
		int w;

		fake_v2(fx, enabled[i]);
		w = watch_writes(fx, "cgroup.subtree_control");
		assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet"), 0);
		assert_true(is_dir(fx, "rtvnet"));
		assert_int_equal(rtv_journal_mark(), mark + 1);
		expect_journal(fx, "cgroup @/rtvnet\n");
		assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet"), -EEXIST);
		assert_int_equal(rtv_journal_mark(), mark + 1);
		assert_int_equal(writes_since(w), 0);
		expect_in(fx, "cgroup.subtree_control", enabled[i]);

		assert_int_equal(rtv_journal_undo_to(mark), 1);
		assert_false(exists_in(fx, "rtvnet"));
		assert_int_equal(writes_since(w), 0);
		expect_in(fx, "cgroup.subtree_control", enabled[i]);
		close(w);
	}
}

static void test_v2_create_no_parent(void **state)
{
	struct fx *fx = *state;

	fake_v2(fx, "cpuset cpu\n");
	/* the parent "rtvnet" has no subtree_control: nothing made */
	assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet/rts"), -ENOENT);
	assert_int_equal(rtv_journal_mark(), 0);
	assert_false(exists_in(fx, "rtvnet"));
}

static void test_v2_set_cpus_and_usage(void **state)
{
	struct fx *fx = *state;
	uint64_t ns = 1;
	size_t mark;

	fake_v2(fx, "cpuset cpu\n");
	assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet"), 0);
	mark = rtv_journal_mark();
	/* what cgroupfs shows in a new v2 cgroup: an empty list */
	put(fx, "rtvnet/cpuset.cpus", "\n");
	assert_int_equal(rtv_cgroup_set_cpus(&fx->cg, "rtvnet", "1"), 0);
	assert_int_equal(rtv_journal_mark(), mark + 1);
	expect_in(fx, "rtvnet/cpuset.cpus", "1");
	assert_int_equal(rtv_cgroup_set_cpus(&fx->cg, "rtvnet", "1"), 0);
	assert_int_equal(rtv_journal_mark(), mark + 1); /* unchanged: not journaled */
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	expect_in(fx, "rtvnet/cpuset.cpus", "\n");
	assert_int_equal(rtv_cgroup_set_cpus(&fx->cg, "nope", "1"), -ENOENT);
	assert_int_equal(rtv_journal_mark(), mark);

	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "rtvnet", &ns), -ENOENT);
	put(fx, "rtvnet/cpu.stat", "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n");
	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "rtvnet", &ns), 0);
	assert_int_equal(ns, UINT64_C(1234567000));
	put(fx, "rtvnet/cpu.stat", "nr_periods 7\nusage_usec 18446744073709\n");
	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "rtvnet", &ns), 0);
	assert_int_equal(ns, UINT64_C(18446744073709000));
	ns = 1;
	put(fx, "rtvnet/cpu.stat", "user_usec 5\nsystem_usec 6\n");
	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "rtvnet", &ns), -ENODATA);
	assert_int_equal(ns, 1);

	/* cgroupfs would take the files with the directory */
	rm_in(fx, "rtvnet/cpuset.cpus");
	rm_in(fx, "rtvnet/cpu.stat");
	assert_int_equal(rtv_journal_undo_to(0), 1);
	assert_false(exists_in(fx, "rtvnet"));
}

/* ---- v1 ---- */

static void test_v1_create(void **state)
{
	struct fx *fx = *state;
	char procs[32];
	uint64_t ns = 0;
	size_t mark = rtv_journal_mark();

	fake_v1(fx);
	assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet"), 0);
	assert_true(is_dir(fx, "cpuset/rtvnet"));
	assert_true(is_dir(fx, "cpuacct/rtvnet"));
	assert_false(exists_in(fx, "rtvnet"));
	/* a v1 cpuset takes no task until cpus and mems are copied in */
	expect_in(fx, "cpuset/rtvnet/cpuset.cpus", "0-1");
	expect_in(fx, "cpuset/rtvnet/cpuset.mems", "0");
	assert_int_equal(rtv_journal_mark(), mark + 2);
	expect_journal(fx, "cgroup @/cpuset/rtvnet\ncgroup @/cpuacct/rtvnet\n");
	assert_int_equal(rtv_cgroup_create(&fx->cg, "rtvnet"), -EEXIST);
	assert_int_equal(rtv_journal_mark(), mark + 2);
	/* the parent is untouched */
	expect_in(fx, "cpuset/cpuset.cpus", "0-1\n");
	expect_in(fx, "cpuset/cpuset.mems", "0\n");

	assert_int_equal(rtv_cgroup_set_cpus(&fx->cg, "rtvnet", "1"), 0);
	assert_int_equal(rtv_journal_mark(), mark + 3);
	expect_in(fx, "cpuset/rtvnet/cpuset.cpus", "1");

	/* cpuacct.usage of the cgroup, not the root's */
	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "rtvnet", &ns), -ENOENT);
	put(fx, "cpuacct/rtvnet/cpuacct.usage", "123456789\n");
	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "rtvnet", &ns), 0);
	assert_int_equal(ns, 123456789);

	/* attach writes the pid into both hierarchies (our own pid: the undo of
	 * a directory never kills its caller) */
	put(fx, "cpuset/rtvnet/cgroup.procs", "");
	put(fx, "cpuacct/rtvnet/cgroup.procs", "");
	assert_int_equal(rtv_cgroup_attach(&fx->cg, "rtvnet", getpid()), 0);
	snprintf(procs, sizeof(procs), "%d", getpid());
	expect_in(fx, "cpuset/rtvnet/cgroup.procs", procs);
	expect_in(fx, "cpuacct/rtvnet/cgroup.procs", procs);
	assert_int_equal(rtv_journal_mark(), mark + 3); /* not journaled */

	assert_int_equal(rtv_journal_undo_to(mark + 2), 1);
	expect_in(fx, "cpuset/rtvnet/cpuset.cpus", "0-1");

	/* cgroupfs would take the files with the directories */
	rm_in(fx, "cpuset/rtvnet/cpuset.cpus");
	rm_in(fx, "cpuset/rtvnet/cpuset.mems");
	rm_in(fx, "cpuset/rtvnet/cgroup.procs");
	rm_in(fx, "cpuacct/rtvnet/cgroup.procs");
	rm_in(fx, "cpuacct/rtvnet/cpuacct.usage");
	assert_int_equal(rtv_journal_undo_to(mark), 2);
	assert_false(exists_in(fx, "cpuset/rtvnet"));
	assert_false(exists_in(fx, "cpuacct/rtvnet"));
	expect_in(fx, "cpuset/cpuset.cpus", "0-1\n");
}

static void test_v1_usage_root(void **state)
{
	struct fx *fx = *state;
	uint64_t ns = 0;

	fake_v1(fx);
	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "", &ns), 0);
	assert_int_equal(ns, 987654321);
	assert_int_equal(rtv_cgroup_usage_ns(&fx->cg, "nope", &ns), -ENOENT);
}

/* rtv_cgroup_v2_dir: the v2 tree at the root (pure v2) or at ROOT/unified
 * (hybrid); missing levels made, each journaled and undone. */
static void test_v2_dir(void **state)
{
	struct fx *fx = *state;
	char buf[PATH_LEN], want[PATH_LEN];
	size_t mark;

	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "rtvnet/rts", true, buf, sizeof(buf)), -ENOTSUP);
	/* hybrid: v1 at the root, v2 at unified */
	mkdir_in(fx, "unified");
	rtv_test_put_in(fx->fs, "unified/cgroup.controllers", "\n");
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "rtvnet/rts", false, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(rtv_journal_mark(), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "rtvnet/rts", true, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/unified/rtvnet/rts", fx->fs);
	assert_string_equal(buf, want);
	assert_true(exists_in(fx, "unified/rtvnet/rts"));
	assert_int_equal(rtv_journal_mark(), mark + 2); /* rtvnet, then rtvnet/rts */
	/* found again: nothing more journaled */
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "rtvnet/rts", true, buf, sizeof(buf)), 0);
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "rtvnet/rts", false, buf, sizeof(buf)), 0);
	assert_int_equal(rtv_journal_mark(), mark + 2);
	assert_int_equal(rtv_journal_undo_to(mark), 2);
	assert_false(exists_in(fx, "unified/rtvnet"));
	/* bad names change nothing */
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "../x", true, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "/x", true, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "a//b", true, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "", true, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rtv_journal_mark(), mark);
	/* pure v2: the root itself */
	rtv_test_put_in(fx->fs, "cgroup.controllers", "cpuset cpu\n");
	assert_int_equal(rtv_cgroup_v2_dir(fx->fs, "rtvnet", true, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/rtvnet", fx->fs);
	assert_string_equal(buf, want);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_false(exists_in(fx, "rtvnet"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_detect),
		T(test_path),
		T(test_v2_create),
		T(test_v2_create_one_missing),
		T(test_v2_create_already_enabled),
		T(test_v2_create_no_parent),
		T(test_v2_set_cpus_and_usage),
		T(test_v1_create),
		T(test_v1_usage_root),
		T(test_v2_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
