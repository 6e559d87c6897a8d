/* Unit tests for lib/env/memory.c: smaps_rollup, the memory cgroup and the
 * descendants of a process, on fake /proc and cgroup trees (v1, v2, hybrid)
 * in a mkdtemp directory, and on the real /proc for this test process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/memory.h"

#include "fixture.h"

#define KB 1024ULL

/* smaps_rollup as Linux 6.18 writes it (a real one, from this machine) */
static const char rollup_a[] =
	"55c4ae697000-7ffe7efb8000 ---p 00000000 00:00 0                          [rollup]\n"
	"Rss:                1752 kB\n"
	"Pss:                 495 kB\n"
	"Pss_Dirty:           116 kB\n"
	"Pss_Anon:            116 kB\n"
	"Pss_File:            379 kB\n"
	"Pss_Shmem:             0 kB\n"
	"Shared_Clean:       1596 kB\n"
	"Shared_Dirty:          0 kB\n"
	"Private_Clean:        40 kB\n"
	"Private_Dirty:       116 kB\n"
	"Referenced:         1752 kB\n"
	"Anonymous:           116 kB\n"
	"KSM:                   0 kB\n"
	"LazyFree:              0 kB\n"
	"AnonHugePages:         0 kB\n"
	"ShmemPmdMapped:        0 kB\n"
	"FilePmdMapped:         0 kB\n"
	"Shared_Hugetlb:        0 kB\n"
	"Private_Hugetlb:       0 kB\n"
	"Swap:                  0 kB\n"
	"SwapPss:               0 kB\n"
	"Locked:                0 kB\n";

/* an older kernel's (no Pss_Dirty, no KSM), with private hugetlb pages */
static const char rollup_b[] =
	"00400000-7fff2b9ff000 ---p 00000000 00:00 0                              [rollup]\n"
	"Rss:               10000 kB\n"
	"Pss:                7001 kB\n"
	"Pss_Anon:           5000 kB\n"
	"Pss_File:           2001 kB\n"
	"Pss_Shmem:             0 kB\n"
	"Shared_Clean:       4000 kB\n"
	"Shared_Dirty:        100 kB\n"
	"Private_Clean:       900 kB\n"
	"Private_Dirty:      5000 kB\n"
	"Referenced:        10000 kB\n"
	"Anonymous:          5000 kB\n"
	"LazyFree:              0 kB\n"
	"AnonHugePages:      2048 kB\n"
	"ShmemPmdMapped:        0 kB\n"
	"FilePmdMapped:         0 kB\n"
	"Shared_Hugetlb:     4096 kB\n"
	"Private_Hugetlb:    2048 kB\n"
	"Swap:                  0 kB\n"
	"SwapPss:               0 kB\n"
	"Locked:                0 kB\n";

static int setup(void **state)
{
	return rtv_test_tree_setup(state, "memory");
}

static int teardown(void **state)
{
	return rtv_test_tree_teardown(state);
}

/* mkdir -p ROOT/REL */
static void mkdirs(const char *root, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* write ROOT/REL, making its directories */
static void put(const char *root, const char *rel, const char *s)
{
	char dir[512];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(root, dir);
	}
	rtv_test_put_in(root, rel, s);
}

/* ---- smaps_rollup ---- */

static void test_add_pid(void **state)
{
	struct rtv_test_tree *t = *state;
	struct rtv_mem m = { 0 };

	put(t->root, "100/smaps_rollup", rollup_a);
	put(t->root, "200/smaps_rollup", rollup_b);
	assert_int_equal(rtv_mem_add_pid(t->root, 100, &m), 0);
	assert_int_equal(m.rss, 1752 * KB);
	assert_int_equal(m.pss, 495 * KB);
	assert_int_equal(m.uss, (40 + 116) * KB);
	assert_int_equal(m.nprocs, 1);
	/* sums; Private_Hugetlb counts in USS, Shared_Hugetlb nowhere */
	assert_int_equal(rtv_mem_add_pid(t->root, 200, &m), 0);
	assert_int_equal(m.rss, (1752 + 10000) * KB);
	assert_int_equal(m.pss, (495 + 7001) * KB);
	assert_int_equal(m.uss, (40 + 116 + 900 + 5000 + 2048) * KB);
	assert_int_equal(m.nprocs, 2);
}

static void test_add_pid_gone_and_malformed(void **state)
{
	struct rtv_test_tree *t = *state;
	struct rtv_mem m = { 1, 2, 3, 4 };
	char bad[sizeof(rollup_a) + 64];

	assert_int_equal(rtv_mem_add_pid(t->root, 300, &m), -ENOENT);
	/* no Private_Dirty */
	snprintf(bad, sizeof(bad), "%.*s", (int)(strstr(rollup_a, "Private_Dirty") - rollup_a),
		 rollup_a);
	put(t->root, "301/smaps_rollup", bad);
	assert_int_equal(rtv_mem_add_pid(t->root, 301, &m), -EPROTO);
	/* a value that is not a number of kB */
	put(t->root, "302/smaps_rollup",
	    "0-1 ---p 00000000 00:00 0 [rollup]\nRss: 12 MB\nPss: 1 kB\n"
	    "Private_Clean: 1 kB\nPrivate_Dirty: 1 kB\n");
	assert_int_equal(rtv_mem_add_pid(t->root, 302, &m), -EPROTO);
	put(t->root, "303/smaps_rollup",
	    "0-1 ---p 00000000 00:00 0 [rollup]\nRss: x kB\nPss: 1 kB\n"
	    "Private_Clean: 1 kB\nPrivate_Dirty: 1 kB\n");
	assert_int_equal(rtv_mem_add_pid(t->root, 303, &m), -EPROTO);
	/* no header line: not a rollup */
	put(t->root, "304/smaps_rollup", strchr(rollup_a, '\n') + 1);
	assert_int_equal(rtv_mem_add_pid(t->root, 304, &m), -EPROTO);
	/* empty, as a kernel thread's reads in effect */
	put(t->root, "305/smaps_rollup", "");
	assert_int_equal(rtv_mem_add_pid(t->root, 305, &m), -EPROTO);
	/* m untouched by every failure */
	assert_int_equal(m.rss, 1);
	assert_int_equal(m.pss, 2);
	assert_int_equal(m.uss, 3);
	assert_int_equal(m.nprocs, 4);
}

static void test_add_pid_real(void **state)
{
	struct rtv_mem m = { 0 };

	(void)state;
	assert_int_equal(rtv_mem_add_pid("/proc", getpid(), &m), 0);
	assert_int_equal(m.nprocs, 1);
	assert_true(m.rss > 0);
	assert_true(m.uss > 0);
	assert_true(m.uss <= m.rss);
	assert_true(m.pss <= m.rss);
	assert_true(m.pss >= m.uss);
}

/* a zombie: its smaps_rollup reads ESRCH, "gone" */
static void test_add_pid_zombie(void **state)
{
	struct rtv_mem m = { 0 };
	pid_t pid = fork();
	siginfo_t si;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(rtv_mem_add_pid("/proc", pid, &m), -ENOENT);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(rtv_mem_add_pid("/proc", pid, &m), -ENOENT);
	assert_int_equal(m.nprocs, 0);
}

/* ---- cgroups ---- */

struct cg {
	char proc[128], fs[128];
};

static void cg_init(const struct rtv_test_tree *t, struct cg *c)
{
	snprintf(c->proc, sizeof(c->proc), "%s/proc", t->root);
	snprintf(c->fs, sizeof(c->fs), "%s/cgroup", t->root);
	mkdirs(t->root, "proc");
	mkdirs(t->root, "cgroup");
}

/* /proc/PID/cgroup as a v1 hybrid host writes it */
static const char v1_cgroup[] = "9:name=systemd:/\n"
				"8:pids:/\n"
				"5:devices:/\n"
				"4:memory:/process_api/1f12\n"
				"3:cpuset:/\n"
				"2:cpuacct:/\n"
				"1:cpu:/\n"
				"0::/\n";

static void test_cgroup_v1(void **state)
{
	struct cg c;
	char path[256], want[256];
	uint64_t bytes = 0;

	cg_init(*state, &c);
	put(c.fs, "memory/memory.usage_in_bytes", "999999\n");
	put(c.fs, "memory/process_api/1f12/memory.usage_in_bytes", "7340032\n");
	put(c.fs, "unified/cgroup.controllers", "hugetlb\n"); /* as here: no memory */
	put(c.proc, "100/cgroup", v1_cgroup);
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 100, &bytes, path, sizeof(path)), 0);
	assert_int_equal(bytes, 7340032);
	snprintf(want, sizeof(want), "%s/memory/process_api/1f12", c.fs);
	assert_string_equal(path, want);
	/* a co-mounted controller list naming memory */
	put(c.fs, "memory/x/memory.usage_in_bytes", "4096\n");
	put(c.proc, "101/cgroup", "7:cpu,memory:/x\n6:pids:/x\n0::/\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 101, &bytes, path, sizeof(path)), 0);
	assert_int_equal(bytes, 4096);
	/* the root cgroup: none, the path the hierarchy's root */
	put(c.proc, "102/cgroup", "4:memory:/\n0::/\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 102, &bytes, path, sizeof(path)),
			 -ENOENT);
	snprintf(want, sizeof(want), "%s/memory", c.fs);
	assert_string_equal(path, want);
	/* no memory line */
	put(c.proc, "103/cgroup", "8:pids:/\n0::/\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 103, &bytes, path, sizeof(path)),
			 -ENOTSUP);
	/* gone */
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 104, &bytes, path, sizeof(path)),
			 -ESRCH);
	/* malformed usage */
	put(c.fs, "memory/bad/memory.usage_in_bytes", "12x\n");
	put(c.proc, "105/cgroup", "4:memory:/bad\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 105, &bytes, path, sizeof(path)),
			 -EPROTO);
	/* malformed line */
	put(c.proc, "106/cgroup", "4:memory\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 106, &bytes, path, sizeof(path)),
			 -EPROTO);
	/* path too small */
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 100, &bytes, path, 8), -ENAMETOOLONG);
}

static void test_cgroup_v1_no_memory(void **state)
{
	struct cg c;
	char path[256];
	uint64_t bytes = 0;

	cg_init(*state, &c);
	mkdirs(c.fs, "cpuset");
	put(c.proc, "100/cgroup", v1_cgroup);
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 100, &bytes, path, sizeof(path)),
			 -ENOTSUP);
}

static void test_cgroup_v2(void **state)
{
	struct cg c;
	char path[256], want[256];
	uint64_t bytes = 0;

	cg_init(*state, &c);
	put(c.fs, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put(c.fs, "system.slice/app.service/memory.current", "15417344\n");
	put(c.proc, "100/cgroup", "0::/system.slice/app.service\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 100, &bytes, path, sizeof(path)), 0);
	assert_int_equal(bytes, 15417344);
	snprintf(want, sizeof(want), "%s/system.slice/app.service", c.fs);
	assert_string_equal(path, want);
	/* memory not enabled for a leaf: its nearest ancestor that has it */
	mkdirs(c.fs, "system.slice/app.service/leaf/deeper");
	put(c.proc, "101/cgroup", "0::/system.slice/app.service/leaf/deeper\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 101, &bytes, path, sizeof(path)), 0);
	assert_int_equal(bytes, 15417344);
	assert_string_equal(path, want);
	/* nowhere below the root: none */
	mkdirs(c.fs, "init.scope");
	put(c.proc, "102/cgroup", "0::/init.scope\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 102, &bytes, path, sizeof(path)),
			 -ENOENT);
	assert_string_equal(path, c.fs);
	put(c.proc, "103/cgroup", "0::/\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 103, &bytes, path, sizeof(path)),
			 -ENOENT);
	/* gone */
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 104, &bytes, path, sizeof(path)),
			 -ESRCH);
	/* a v2 host without the memory controller */
	put(c.fs, "cgroup.controllers", "cpuset cpu io pids\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 100, &bytes, path, sizeof(path)),
			 -ENOTSUP);
}

/* a hybrid host whose memory controller is on the unified tree: it wins
 * over an (empty) v1 memory mount */
static void test_cgroup_hybrid_v2_memory(void **state)
{
	struct cg c;
	char path[256], want[256];
	uint64_t bytes = 0;

	cg_init(*state, &c);
	put(c.fs, "unified/cgroup.controllers", "memory hugetlb\n");
	put(c.fs, "unified/ctr/memory.current", "8192\n");
	mkdirs(c.fs, "memory");
	put(c.proc, "100/cgroup", "4:cpuset:/\n0::/ctr\n");
	assert_int_equal(rtv_mem_cgroup_of(c.proc, c.fs, 100, &bytes, path, sizeof(path)), 0);
	assert_int_equal(bytes, 8192);
	snprintf(want, sizeof(want), "%s/unified/ctr", c.fs);
	assert_string_equal(path, want);
}

/* this machine's own: a number and a path under /sys/fs/cgroup, or none */
static void test_cgroup_real(void **state)
{
	char path[512];
	uint64_t bytes = 0;
	int r;

	(void)state;
	r = rtv_mem_cgroup_of("/proc", "/sys/fs/cgroup", getpid(), &bytes, path, sizeof(path));
	printf("memory cgroup of the test: %d %s %llu\n", r, r == -ENOTSUP ? "-" : path,
	       (unsigned long long)bytes);
	assert_true(r == 0 || r == -ENOENT || r == -ENOTSUP);
	if (r == 0) {
		char file[600];

		assert_int_equal(strncmp(path, "/sys/fs/cgroup/", 15), 0);
		snprintf(file, sizeof(file), "%s/cgroup.procs", path);
		assert_int_equal(access(file, R_OK), 0);
		/* at least this process's pages are charged there */
		assert_true(bytes > 0);
	}
}

/* ---- descendants ---- */

static void stat_of(const char *proc, int pid, const char *comm, int ppid)
{
	char rel[64], s[256];

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(s, sizeof(s), "%d (%s) S %d %d 19108 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 "
		 "1771748 3133440 379 18446744073709551615\n", pid, comm, ppid, ppid);
	put(proc, rel, s);
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

static void test_descendants(void **state)
{
	struct rtv_test_tree *t = *state;
	pid_t pids[8];
	int n;

	stat_of(t->root, 1, "init", 0);
	stat_of(t->root, 2, "kthreadd", 0);
	stat_of(t->root, 100, "crun", 1);
	stat_of(t->root, 101, "sh", 100);
	stat_of(t->root, 102, "cyclic test", 101);
	stat_of(t->root, 104, "a) S 1 (b", 102); /* comm with ") S 1 (" in it */
	stat_of(t->root, 103, "other", 1);
	stat_of(t->root, 105, "kworker/0:1", 2);
	stat_of(t->root, 99, "before", 100); /* a lower pid than its parent */
	mkdirs(t->root, "self");
	put(t->root, "uptime", "1.0 1.0\n");
	n = rtv_mem_descendants(t->root, 100, pids, 8);
	assert_int_equal(n, 4);
	qsort(pids, (size_t)n, sizeof(pids[0]), cmp_pid);
	assert_int_equal(pids[0], 99);
	assert_int_equal(pids[1], 101);
	assert_int_equal(pids[2], 102);
	assert_int_equal(pids[3], 104);
	assert_int_equal(rtv_mem_descendants(t->root, 104, pids, 8), 0);
	assert_int_equal(rtv_mem_descendants(t->root, 100, pids, 3), -ENOSPC);
	assert_int_equal(rtv_mem_descendants(t->root, 777, pids, 8), -ENOENT);
	/* a loop in broken data ends */
	stat_of(t->root, 200, "x", 201);
	stat_of(t->root, 201, "y", 200);
	assert_int_equal(rtv_mem_descendants(t->root, 100, pids, 8), 4);
	put(t->root, "300/stat", "300 (x\n");
	assert_int_equal(rtv_mem_descendants(t->root, 100, pids, 8), -EPROTO);
}

/* a child and a grandchild of this process, found in the real /proc */
static void test_descendants_real(void **state)
{
	int fds[2];
	pid_t child, grand = 0, pids[64];
	bool saw_child = false, saw_grand = false;
	int n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t g = fork();

		if (g == 0) {
			pause();
			_exit(0);
		}
		(void)!write(fds[1], &g, sizeof(g));
		pause();
		_exit(0);
	}
	assert_int_equal(read(fds[0], &grand, sizeof(grand)), sizeof(grand));
	n = rtv_mem_descendants("/proc", getpid(), pids, 64);
	kill(grand, SIGKILL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	assert_true(n >= 2);
	for (int i = 0; i < n; i++) {
		saw_child |= pids[i] == child;
		saw_grand |= pids[i] == grand;
		assert_true(pids[i] != getpid());
	}
	assert_true(saw_child);
	assert_true(saw_grand);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_add_pid),
		T(test_add_pid_gone_and_malformed),
		T(test_add_pid_real),
		T(test_add_pid_zombie),
		T(test_cgroup_v1),
		T(test_cgroup_v1_no_memory),
		T(test_cgroup_v2),
		T(test_cgroup_hybrid_v2_memory),
		T(test_cgroup_real),
		T(test_descendants),
		T(test_descendants_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
