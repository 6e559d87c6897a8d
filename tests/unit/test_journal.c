/* Unit tests for lib/host/journal.c, each against a fresh journal directory
 * and fresh files under mkdtemp: exact restoration of file contents, the
 * order of undo, directories, kept entries, recovery after a crash, the
 * lock, the pid-reuse guard, and the killing of recorded processes.
 * The journal is a process-wide singleton: every test ends closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/journal.h"
#include "host/proc.h"
#include "host/sched.h"
#include "util/log.h"

#include "fixture.h"

#define PATH_LEN 320
#define MAX_KIDS 4

struct fx {
	char root[64];      /* the mkdtemp directory */
	char jdir[128];     /* the journal's directory, inside root */
	pid_t kids[MAX_KIDS]; /* children to reap if a test fails half-way */
	int nkids;
};

/* ---- the library's warnings, counted ---- */

static int warnings;
static char last_warning[512];

__attribute__((format(printf, 2, 0)))
static void count_log(enum rtv_log_level level, const char *fmt, va_list ap)
{
	if (level > RTV_LOG_WARN)
		return;
	warnings++;
	vsnprintf(last_warning, sizeof(last_warning), fmt, ap);
}

/* ---- fixture ---- */

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	if (rtv_test_mkdtemp(fx->root, sizeof(fx->root), "journal")) {
		free(fx);
		return -1;
	}
	snprintf(fx->jdir, sizeof(fx->jdir), "%s/journal.d", fx->root);
	warnings = 0;
	last_warning[0] = '\0';
	rtv_log_set(count_log);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	rtv_journal_close();
	rtv_log_set(NULL);
	/* a child still ours (not yet reaped) is safe to kill: its pid cannot
	 * have been reused */
	for (int i = 0; i < fx->nkids; i++) {
		if (waitpid(fx->kids[i], NULL, WNOHANG) == 0) {
			kill(fx->kids[i], SIGKILL);
			waitpid(fx->kids[i], NULL, 0);
		}
	}
	rtv_test_rmtree(fx->root);
	free(fx);
	return 0;
}

static void path_in(const struct fx *fx, const char *name, char *buf)
{
	snprintf(buf, PATH_LEN, "%s/%s", fx->root, name);
}

static pid_t track(struct fx *fx, pid_t pid)
{
	assert_true(pid > 0);
	if (fx->nkids < MAX_KIDS)
		fx->kids[fx->nkids++] = pid;
	return pid;
}

/* ---- files ---- */

static void put(const char *path, const char *s)
{
	rtv_test_put(path, s);
}

/* Reads the whole file; returns its length, -1 when it cannot be opened. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + total, cap - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

static void expect_content(const char *path, const char *want)
{
	static char buf[16384];
	ssize_t n = slurp(path, buf, sizeof(buf));

	assert_int_not_equal(n, -1);
	assert_string_equal(buf, want);
	assert_int_equal(n, (ssize_t)strlen(want)); /* no byte after a NUL */
}

/* The journal's lines with their time ("since", the second field) as "T". */
static void expect_journal(const struct fx *fx, const char *want)
{
	static char buf[16384], got[16384];
	char path[PATH_LEN], *save = NULL;
	size_t off = 0;

	snprintf(path, sizeof(path), "%s/journal", fx->jdir);
	assert_int_not_equal(slurp(path, buf, sizeof(buf)), -1);
	got[0] = '\0';
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(l, ' '), *t2 = t1 ? strchr(t1 + 1, ' ') : NULL;

		assert_non_null(t2);
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%.*s T%s\n", (int)(t1 - l), l,
					t2);
	}
	assert_string_equal(got, want);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- children ---- */

/* A child that sleeps until `release` is closed (or 10 s pass). */
static pid_t sleeper(struct fx *fx, int *release)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		char c;

		close(p[1]);
		alarm(10);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	*release = p[1];
	return track(fx, pid);
}

static int reap(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* ---- file entries ---- */

static void test_write_undo_exact(void **state)
{
	static const char *const olds[] = {
		"",                           /* an empty file */
		"a b  c",                     /* spaces */
		"line 1\nline 2\n",           /* newlines, one at the end too */
		"100% %25 %- %",              /* percent signs, and what looks encoded */
		" lead and trail \n\n",
		"1",
	};
	static const char *const news[] = { "x", "a new value longer than any old one" };
	struct fx *fx = *state;
	char f[PATH_LEN];

	path_in(fx, "my file", f);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_true(rtv_journal_is_open());
	for (size_t i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
		for (size_t k = 0; k < sizeof(news) / sizeof(news[0]); k++) {
			size_t mark;

			put(f, olds[i]);
			mark = rtv_journal_mark();
			assert_int_equal(rtv_host_write(f, news[k]), 0);
			assert_int_equal(rtv_journal_mark(), mark + 1);
			expect_content(f, news[k]);
			assert_int_equal(rtv_journal_undo_to(mark), 1);
			expect_content(f, olds[i]);
			assert_int_equal(rtv_journal_mark(), mark);
			/* a second undo has nothing left to do */
			assert_int_equal(rtv_journal_undo_to(mark), 0);
			expect_content(f, olds[i]);
		}
	}
	assert_int_equal(warnings, 0);
	rtv_journal_close();
}

static void test_write_same_or_missing(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN], missing[PATH_LEN];
	size_t mark;

	path_in(fx, "f", f);
	path_in(fx, "missing", missing);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();

	/* a sysfs-style value with its newline equals the bare value: no change */
	put(f, "5\n");
	assert_int_equal(rtv_host_write(f, "5"), 0);
	assert_int_equal(rtv_journal_mark(), mark);
	expect_content(f, "5\n");

	assert_int_equal(rtv_host_write(missing, "1"), -ENOENT);
	assert_int_equal(rtv_journal_mark(), mark);
	assert_false(exists(missing));

	/* an empty value empties a regular file, and undo brings the old back */
	put(f, "7\n");
	assert_int_equal(rtv_host_write(f, ""), 0);
	expect_content(f, "");
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	expect_content(f, "7\n");
	rtv_journal_close();
}

static void test_journal_line_encoding(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN], g[PATH_LEN], want[1024];

	path_in(fx, "my file", f);
	path_in(fx, "g", g);
	put(f, "a b\n%c");
	put(g, "");
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_host_write(f, "1"), 0);
	assert_int_equal(rtv_host_write(g, "2"), 0);
	snprintf(want, sizeof(want),
		 "- T 0 0 file %s/my%%20file a%%20b%%0a%%25c\n- T 0 0 file %s/g %%-\n", fx->root,
		 fx->root);
	expect_journal(fx, want);
	rtv_journal_close();
	expect_content(f, "a b\n%c");
	expect_content(g, "");
}

/* A forked child that forgets the journal writes nothing to it and undoes
 * nothing; the parent keeps its entries and its lock. */
static void test_forget_in_child(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN], want[1024];
	pid_t pid, holder = 0;
	int st;

	path_in(fx, "f", f);
	put(f, "orig");
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_host_write(f, "A"), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rtv_journal_forget();
		_exit(rtv_journal_is_open() || rtv_journal_mark() != 0 ||
		      rtv_host_write(f, "B") != -EBADF ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	expect_content(f, "A");
	snprintf(want, sizeof(want), "- T 0 0 file %s/f orig\n", fx->root);
	expect_journal(fx, want);
	pid = fork(); /* the lock is still the parent's */
	assert_true(pid >= 0);
	if (pid == 0) {
		rtv_journal_forget();
		_exit(rtv_journal_open(fx->jdir, &holder) == -EWOULDBLOCK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(rtv_journal_mark(), 1);
	rtv_journal_close();
	expect_content(f, "orig");
}

static void test_undo_reverse_order(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN];
	size_t mark;

	path_in(fx, "f", f);
	put(f, "orig\n");
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_host_write(f, "A"), 0);
	assert_int_equal(rtv_host_write(f, "B"), 0);
	assert_int_equal(rtv_journal_mark(), mark + 2);
	expect_content(f, "B");
	assert_int_equal(rtv_journal_undo_to(mark + 1), 1);
	expect_content(f, "A");
	assert_int_equal(rtv_host_write(f, "C"), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 2);
	expect_content(f, "orig\n");
	assert_int_equal(rtv_journal_mark(), mark);
	rtv_journal_close();
}

static void test_save_file_and_ctl(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN], ctl[PATH_LEN];
	size_t mark;

	path_in(fx, "f", f);
	path_in(fx, "subtree_control", ctl);
	put(f, "saved 50%\n");
	put(ctl, "+cpu +io");
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_journal_save_file(f), 0);
	put(f, "changed behind the journal's back, and longer");
	assert_int_equal(rtv_journal_add("cgroupctl", 2, (const char *const[]){ ctl, "cpu" }), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 2);
	expect_content(f, "saved 50%\n");
	expect_content(ctl, "-cpu");
	assert_int_equal(warnings, 0);
	rtv_journal_close();
}

static void test_long_values(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN], *plain = repeat('v', 1500), *pct = repeat('%', 2000),
			  *huge = repeat('x', 5000);
	size_t mark;

	path_in(fx, "f", f);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();

	/* fits in a journal line: restored whole */
	put(f, plain);
	assert_int_equal(rtv_host_write(f, "1"), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	expect_content(f, plain);

	/* 6000 characters once encoded: refused, and the file left alone */
	put(f, pct);
	assert_int_equal(rtv_host_write(f, "1"), -E2BIG);
	assert_int_equal(rtv_journal_mark(), mark);
	expect_content(f, pct);

	/* longer than what is read: refused rather than half-saved */
	put(f, huge);
	assert_int_equal(rtv_host_write(f, "1"), -EFBIG);
	assert_int_equal(rtv_journal_mark(), mark);
	expect_content(f, huge);
	rtv_journal_close();
	free(plain);
	free(pct);
	free(huge);
}

static void test_not_open(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN];

	path_in(fx, "f", f);
	put(f, "orig");
	rtv_journal_close(); /* safe when never opened */
	assert_false(rtv_journal_is_open());
	assert_int_equal(rtv_host_write(f, "new"), -EBADF);
	expect_content(f, "orig");
	assert_int_equal(rtv_journal_add("cgroup", 1, (const char *const[]){ f }), -EBADF);
	assert_int_equal(rtv_journal_undo_to(0), 0);
	assert_int_equal(rtv_journal_undo_all(), 0);
}

/* ---- directories ---- */

static int add_dir(const char *path)
{
	return rtv_journal_add("cgroup", 1, (const char *const[]){ path });
}

static void test_add_dir(void **state)
{
	struct fx *fx = *state;
	char d[PATH_LEN], cg[PATH_LEN], procs[PATH_LEN], gone[PATH_LEN];
	size_t mark;

	path_in(fx, "a dir", d);
	path_in(fx, "cg", cg);
	path_in(fx, "cg/cgroup.procs", procs);
	path_in(fx, "gone", gone);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();

	assert_int_equal(add_dir(d), 0);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_false(exists(d));

	/* a directory already gone is not an error: dropped, not counted */
	assert_int_equal(add_dir(gone), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 0);
	assert_int_equal(rtv_journal_mark(), mark);

	/* a cgroup-like directory whose cgroup.procs lists no pids: nothing is
	 * killed; on a real cgroupfs rmdir takes the files with it, but here the
	 * file keeps the directory and undo must say so, never delete files */
	assert_int_equal(mkdir(cg, 0755), 0);
	put(procs, "");
	assert_int_equal(add_dir(cg), 0);
	assert_int_equal(rtv_journal_undo_to(mark), -ENOTEMPTY);
	assert_true(exists(procs));
	assert_int_equal(warnings, 1);
	assert_int_equal(rtv_journal_mark(), mark + 1); /* kept: the only record of it */
	/* once the file is gone the kept entry's undo succeeds */
	assert_int_equal(unlink(procs), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(rtv_journal_mark(), mark);
	assert_false(exists(cg));
	rtv_journal_close();
}

/* ---- keep, close, recover, lock ---- */

static void test_keep_survives_close(void **state)
{
	struct fx *fx = *state;
	char run[PATH_LEN], kept[PATH_LEN], want[1024];
	size_t mark;

	path_in(fx, "run", run);
	path_in(fx, "kept", kept);
	put(run, "run-orig");
	put(kept, "kept-orig");
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_host_write(run, "run-new"), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_host_write(kept, "kept-new"), 0);
	assert_int_equal(rtv_journal_kept(NULL), 0);
	assert_int_equal(rtv_journal_keep_from(mark, "two words"), -EINVAL);
	assert_int_equal(rtv_journal_keep_from(mark, "testbed"), 0);
	assert_int_equal(rtv_journal_kept(NULL), 1);
	assert_int_equal(rtv_journal_kept("testbed"), 1);
	assert_int_equal(rtv_journal_kept("reserve"), 0);
	rtv_journal_close();
	assert_false(rtv_journal_is_open());
	expect_content(run, "run-orig"); /* run entries are undone at close */
	expect_content(kept, "kept-new");
	snprintf(want, sizeof(want), "testbed T 0 0 file %s kept-orig\n", kept);
	expect_journal(fx, want);

	/* a later rtvnet: recover leaves kept entries, another owner's undo
	 * too; the owner's undo takes them */
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_journal_kept(NULL), 1);
	assert_int_equal(rtv_journal_mark(), 1);
	assert_int_equal(rtv_journal_recover(), 0);
	expect_content(kept, "kept-new");
	assert_int_equal(rtv_journal_undo_owner("reserve"), 0);
	expect_content(kept, "kept-new");
	assert_int_equal(rtv_journal_undo_owner("testbed"), 1);
	expect_content(kept, "kept-orig");
	assert_int_equal(rtv_journal_kept(NULL), 0);
	assert_int_equal(rtv_journal_mark(), 0);
	rtv_journal_close();
}

static void test_close_removes_empty_journal(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN], j[PATH_LEN];

	path_in(fx, "f", f);
	snprintf(j, sizeof(j), "%s/journal", fx->jdir);
	put(f, "orig");
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_host_write(f, "new"), 0);
	assert_true(exists(j));
	rtv_journal_close();
	expect_content(f, "orig");
	assert_false(exists(j));
}

static void test_recover_after_crash(void **state)
{
	struct fx *fx = *state;
	char f[PATH_LEN], want[1024];
	pid_t pid;
	int st;

	path_in(fx, "f", f);
	put(f, "orig 1\n");
	pid = fork();
	if (pid == 0) {
		/* dies like kill -9 would leave it: no close, no undo */
		if (rtv_journal_open(fx->jdir, NULL) || rtv_host_write(f, "changed"))
			_exit(1);
		_exit(0);
	}
	track(fx, pid);
	st = reap(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	expect_content(f, "changed");
	snprintf(want, sizeof(want), "- T 0 0 file %s orig%%201%%0a\n", f);
	expect_journal(fx, want);

	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_journal_mark(), 1);
	assert_int_equal(rtv_journal_recover(), 1);
	expect_content(f, "orig 1\n");
	assert_int_equal(rtv_journal_mark(), 0);
	expect_journal(fx, "");
	assert_int_equal(rtv_journal_recover(), 0);
	assert_int_equal(warnings, 0);
	rtv_journal_close();
}

static void test_lock(void **state)
{
	struct fx *fx = *state;
	int up[2], down[2], st;
	char c = 0;
	pid_t pid, holder = -1;

	assert_int_equal(pipe2(up, O_CLOEXEC), 0);
	assert_int_equal(pipe2(down, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		char r;

		close(up[0]);
		close(down[1]); /* or the child never sees the end of its pipe */
		r = rtv_journal_open(fx->jdir, NULL) ? 'E' : 'L';
		alarm(10);
		if (write(up[1], &r, 1) != 1)
			_exit(2);
		while (read(down[0], &r, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	track(fx, pid);
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);
	assert_int_equal(c, 'L');
	assert_int_equal(rtv_journal_open(fx->jdir, &holder), -EWOULDBLOCK);
	assert_int_equal(holder, pid); /* the refusal names the holder */
	assert_false(rtv_journal_is_open());
	close(down[1]); /* let the child go; its lock goes with it */
	st = reap(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(up[0]);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_true(rtv_journal_is_open());
	rtv_journal_close();
}

/* ---- tasks and the pid-reuse guard ---- */

static unsigned long long stat_field22(const char *path)
{
	char buf[1024], *p;
	FILE *f = fopen(path, "re");
	unsigned long long v[20];

	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* fields 3 (state) to 22 */
	assert_int_equal(sscanf(p + 2, "%*c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
				"%llu %llu %llu %llu %llu %llu %llu %llu %llu",
				&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
				&v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16],
				&v[17], &v[18]),
			 19);
	return v[18];
}

struct thread_arg {
	int tid_fd;  /* the thread writes its tid here */
	int stop_fd; /* and waits until this is closed */
};

static void *thread_main(void *p)
{
	const struct thread_arg *a = p;
	pid_t tid = gettid();
	char c;

	if (write(a->tid_fd, &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	while (read(a->stop_fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void test_starttime(void **state)
{
	unsigned long long start = rtv_proc_starttime(getpid(), 0), tstart;
	int tid_pipe[2], stop_pipe[2];
	struct thread_arg arg;
	char path[64];
	pthread_t th;
	pid_t tid = 0;

	(void)state;
	assert_int_not_equal(start, 0);
	assert_int_equal(start, stat_field22("/proc/self/stat"));
	assert_int_equal(rtv_proc_starttime(getpid(), 0), start);
	assert_int_equal(rtv_proc_starttime(getpid(), gettid()), start);
	assert_int_equal(rtv_proc_starttime(INT_MAX, 0), 0); /* above any pid_max */

	/* a second thread: by process and thread, or by its tid alone */
	assert_int_equal(pipe2(tid_pipe, O_CLOEXEC), 0);
	assert_int_equal(pipe2(stop_pipe, O_CLOEXEC), 0);
	arg.tid_fd = tid_pipe[1];
	arg.stop_fd = stop_pipe[0];
	assert_int_equal(pthread_create(&th, NULL, thread_main, &arg), 0);
	assert_int_equal(read(tid_pipe[0], &tid, sizeof(tid)), sizeof(tid));
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	tstart = rtv_proc_starttime(getpid(), tid);
	assert_int_equal(tstart, stat_field22(path));
	assert_true(tstart >= start);
	assert_int_equal(rtv_proc_starttime(tid, 0), tstart);
	close(stop_pipe[1]);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(stop_pipe[0]);
	close(tid_pipe[0]);
	close(tid_pipe[1]);
}

static void test_sched_restored(void **state)
{
	struct fx *fx = *state;
	struct sched_param sp = { .sched_priority = 0 };
	int release, nice0, policy0;
	size_t mark;
	pid_t pid = sleeper(fx, &release);

	errno = 0;
	nice0 = getpriority(PRIO_PROCESS, (id_t)pid);
	assert_int_equal(errno, 0);
	policy0 = sched_getscheduler(pid);
	assert_int_equal(policy0, SCHED_OTHER);
	if (nice0 > 14 || geteuid() != 0) {
		close(release);
		RTV_SKIP("needs root: cannot lower a nice value back without privilege");
	}
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_sched_set(pid, SCHED_OTHER, 0), 0); /* journals it */
	assert_int_equal(sched_setscheduler(pid, SCHED_BATCH, &sp), 0);
	assert_int_equal(setpriority(PRIO_PROCESS, (id_t)pid, nice0 + 5), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(sched_getscheduler(pid), policy0);
	errno = 0;
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)pid), nice0);
	assert_int_equal(errno, 0);
	assert_int_equal(warnings, 0);
	close(release);
	reap(pid);
	rtv_journal_close();
}

static void test_affinity_restored(void **state)
{
	struct fx *fx = *state;
	cpu_set_t orig, one, now;
	int release, first = -1;
	size_t mark;
	pid_t pid = sleeper(fx, &release);

	assert_int_equal(sched_getaffinity(pid, sizeof(orig), &orig), 0);
	for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
		if (CPU_ISSET(c, &orig))
			first = c;
	assert_true(first >= 0);
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_sched_set_affinity(pid, &one), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(sched_getaffinity(pid, sizeof(now), &now), 0);
	assert_true(CPU_EQUAL(&now, &orig));
	assert_int_equal(warnings, 0);
	close(release);
	reap(pid);
	rtv_journal_close();
}

/* Threads born while a move lasts inherit the narrowed mask: the "affinity
 * * SINCE AWAY" entry gives them the AWAY CPUs back, and leaves alone those
 * born before SINCE. */
static void test_affinity_born_given_back(void **state)
{
	struct fx *fx = *state;
	cpu_set_t zero, now;
	int rel_old, rel_new;
	char since[32], away[16];
	pid_t old_pid, new_pid;
	size_t mark;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		RTV_SKIP("needs 2-cpus: a CPU to take away and one to keep");
	CPU_ZERO(&zero);
	CPU_SET(0, &zero);
	old_pid = sleeper(fx, &rel_old);
	assert_int_equal(sched_setaffinity(old_pid, sizeof(zero), &zero), 0);
	usleep(30000); /* start times count 10 ms ticks */
	snprintf(since, sizeof(since), "%llu", rtv_proc_starttime(old_pid, 0) + 2);
	usleep(30000);
	new_pid = sleeper(fx, &rel_new);
	assert_true(rtv_proc_starttime(new_pid, 0) >= strtoull(since, NULL, 10));
	assert_int_equal(sched_setaffinity(new_pid, sizeof(zero), &zero), 0);
	snprintf(away, sizeof(away), "1");
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_journal_add("affinity", 3, (const char *const[]){ "*", since, away }), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(sched_getaffinity(new_pid, sizeof(now), &now), 0);
	assert_true(CPU_ISSET(0, &now) && CPU_ISSET(1, &now));
	assert_int_equal(sched_getaffinity(old_pid, sizeof(now), &now), 0);
	assert_true(CPU_EQUAL(&now, &zero)); /* born before: not touched */
	close(rel_old);
	close(rel_new);
	reap(old_pid);
	reap(new_pid);
	rtv_journal_close();
}

static void test_sched_pid_gone(void **state)
{
	struct fx *fx = *state;
	int release;
	size_t mark;
	pid_t pid = sleeper(fx, &release);
	cpu_set_t all;

	assert_int_equal(sched_getaffinity(pid, sizeof(all), &all), 0);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_sched_set(pid, SCHED_OTHER, 0), 0);
	assert_int_equal(rtv_sched_set_affinity(pid, &all), 0);
	assert_int_equal(rtv_proc_journal_add(pid), 0);
	close(release);
	reap(pid);
	/* gone (and its pid possibly someone else's): dropped, not touched, not
	 * counted as undone */
	assert_int_equal(rtv_journal_undo_to(mark), 0);
	assert_int_equal(warnings, 0);
	assert_int_equal(rtv_journal_mark(), mark);
	rtv_journal_close();
}

static void test_proc_killed(void **state)
{
	struct fx *fx = *state;
	int p[2], st = 0;
	pid_t helper, victim = 0;
	size_t mark;

	/* The victim is the helper's child, not ours, so that the undo (which
	 * reaps its own children) leaves its status for the helper to report. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	helper = fork();
	if (helper == 0) {
		pid_t v = fork();

		if (v == 0) {
			alarm(5); /* not killed by then: SIGALRM fails the test */
			for (;;)
				pause();
		}
		if (v < 0 || write(p[1], &v, sizeof(v)) != sizeof(v))
			_exit(1);
		if (waitpid(v, &st, 0) != v || write(p[1], &st, sizeof(st)) != sizeof(st))
			_exit(1);
		_exit(0);
	}
	track(fx, helper);
	close(p[1]);
	assert_int_equal(read(p[0], &victim, sizeof(victim)), sizeof(victim));
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_proc_journal_add(victim), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(read(p[0], &st, sizeof(st)), sizeof(st));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	st = reap(helper);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(p[0]);
	rtv_journal_close();
}

static void test_proc_child_killed_and_reaped(void **state)
{
	struct fx *fx = *state;
	int release;
	size_t mark;
	pid_t pid = sleeper(fx, &release);

	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_proc_journal_add(pid), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	/* killed and already reaped by the undo: no zombie left behind */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	close(release);
	rtv_journal_close();
}

/* ---- kinds registered by other modules ---- */

static char undone[8][64];
static int nundone;
static bool failing = true;

static int record_undo(int argc, char **argv)
{
	snprintf(undone[nundone++ & 7], sizeof(undone[0]), "%d:%s:%s", argc, argv[0],
		 argc > 1 ? argv[1] : "");
	return !strcmp(argv[0], "fail") && failing ? -EBUSY : 0;
}

static int thing_snapshot(FILE *out)
{
	fprintf(out, "b\na\n");
	return 0;
}

static const struct rtv_journal_kind thing_kind = {
	.name = "thing", .undo = record_undo, .snapshot = thing_snapshot,
};
RTV_JOURNAL_KIND(thing_kind)

/* A failed undo keeps its entry with its error, for status and for the next
 * start; it is retried and goes once it succeeds. */
static void test_failed_undo_kept(void **state)
{
	struct fx *fx = *state;
	struct rtv_journal_state st;
	size_t mark;
	pid_t pid;
	int wst;

	nundone = 0;
	failing = true;
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_journal_add("unknown", 1, (const char *const[]){ "x" }), -EINVAL);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_journal_add("thing", 2, (const char *const[]){ "a b", "1" }), 0);
	assert_int_equal(rtv_journal_add("thing", 1, (const char *const[]){ "fail" }), 0);
	warnings = 0;
	/* newest first; the failure is reported, kept, and the rest undone */
	assert_int_equal(rtv_journal_undo_to(mark), -EBUSY);
	assert_int_equal(nundone, 2);
	assert_string_equal(undone[0], "1:fail:");
	assert_string_equal(undone[1], "2:a b:1"); /* arguments decoded */
	assert_int_equal(warnings, 1);
	assert_int_equal(rtv_journal_mark(), mark + 1);
	expect_journal(fx, "- T 16 1 thing fail\n");

	/* status sees it, and who holds the lock */
	assert_int_equal(rtv_journal_state_read(fx->jdir, &st), 0);
	assert_int_equal(st.holder, getpid());
	assert_int_equal(st.n, 1);
	assert_string_equal(st.e[0].owner, "");
	assert_int_equal(st.e[0].err, EBUSY);
	assert_int_equal(st.e[0].fails, 1);
	assert_string_equal(st.e[0].line, "thing fail");
	rtv_journal_state_free(&st);

	/* a process that dies with it: the next one retries and succeeds */
	pid = fork();
	if (pid == 0)
		_exit(0); /* the child inherits nothing: the lock is ours */
	reap(pid);
	rtv_journal_close(); /* the close's undo fails again: still kept */
	assert_int_equal(rtv_journal_state_read(fx->jdir, &st), 0);
	assert_int_equal(st.holder, 0);
	assert_int_equal(st.n, 1);
	assert_int_equal(st.e[0].fails, 2);
	rtv_journal_state_free(&st);
	failing = false;
	pid = fork();
	if (pid == 0) {
		pid_t holder;

		_exit(rtv_journal_open(fx->jdir, &holder) || rtv_journal_recover() != 1 ? 1 : 0);
	}
	wst = reap(pid);
	assert_true(WIFEXITED(wst));
	assert_int_equal(WEXITSTATUS(wst), 0);
	expect_journal(fx, "");
	failing = true;
}

/* An unknown kind (a journal from a newer rtvnet) is kept, not dropped. */
static void test_unknown_kind_kept(void **state)
{
	struct fx *fx = *state;
	char path[PATH_LEN];

	assert_int_equal(mkdir(fx->jdir, 0755), 0);
	snprintf(path, sizeof(path), "%s/journal", fx->jdir);
	put(path, "- 5 0 0 martian 1 2\n0 thing old-format\n1 thing kept-old\n");
	nundone = 0;
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_journal_kept("testbed"), 1);
	assert_int_equal(rtv_journal_recover(), -ENOPROTOOPT);
	assert_int_equal(nundone, 1);
	assert_string_equal(undone[0], "1:old-format:");
	rtv_journal_close();
	expect_journal(fx, "- T 92 2 martian 1 2\ntestbed T 0 0 thing kept-old\n");
}

/* Every kind has a reader; the snapshot prints each kind's lines sorted,
 * prefixed with its name. A kind without a reader aborts at registration. */
static void test_every_kind_has_a_snapshot(void **state)
{
	static const char *const expected[] = { "affinity", "bpf",     "cgmove",  "cgroup",
						"cgroupctl", "dl",     "envdir",  "feature", "file",
						"napi",     "netns",   "preempt", "process",
						"rps",      "runfile", "sched",   "sockfile",
						"thing",    "tracefs" };
	static const struct rtv_journal_kind bad = { .name = "bad", .undo = record_undo };
	const struct rtv_journal_kind *k;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *m;
	pid_t pid;
	int st;

	(void)state;
	for (i = 0; (k = rtv_journal_kind_at(i)); i++) {
		assert_true(i < sizeof(expected) / sizeof(expected[0]));
		assert_string_equal(k->name, expected[i]);
		assert_non_null(k->undo);
		assert_non_null(k->snapshot);
	}
	assert_int_equal(i, sizeof(expected) / sizeof(expected[0]));
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	assert_int_equal(rtv_journal_snapshot(m), 0);
	assert_int_equal(fclose(m), 0);
	assert_non_null(strstr(buf, "\nthing a\nthing b\n"));
	free(buf);

	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2); /* its message is expected */
		rtv_journal_kind_register(&bad);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

/* /proc and /sys files no kind reads are refused, and left alone. */
static void test_uncovered_file_refused(void **state)
{
	struct fx *fx = *state;
	char before[256], after[256];

	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_true(slurp("/proc/sys/kernel/hostname", before, sizeof(before)) > 0);
	assert_int_equal(rtv_host_write("/proc/sys/kernel/hostname", "rtvnet-test"), -EPERM);
	assert_int_equal(rtv_journal_save_file("/proc/sys/kernel/hostname"), -EPERM);
	assert_true(slurp("/proc/sys/kernel/hostname", after, sizeof(after)) > 0);
	assert_string_equal(before, after);
	assert_int_equal(rtv_journal_mark(), 0);
	rtv_journal_close();
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_write_undo_exact),
		T(test_write_same_or_missing),
		T(test_journal_line_encoding),
		T(test_undo_reverse_order),
		T(test_forget_in_child),
		T(test_save_file_and_ctl),
		T(test_long_values),
		T(test_not_open),
		T(test_add_dir),
		T(test_keep_survives_close),
		T(test_close_removes_empty_journal),
		T(test_recover_after_crash),
		T(test_lock),
		T(test_starttime),
		T(test_sched_restored),
		T(test_affinity_restored),
		T(test_affinity_born_given_back),
		T(test_sched_pid_gone),
		T(test_proc_killed),
		T(test_proc_child_killed_and_reaped),
		T(test_failed_undo_kept),
		T(test_unknown_kind_kept),
		T(test_every_kind_has_a_snapshot),
		T(test_uncovered_file_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
