/* Unit tests for lib/env/rootfs.c: root filesystems for /bin/true,
 * /usr/bin/cyclictest and a program of our own with a DT_RUNPATH
 * (rootfs/rootfs_prog beside this test), each checked against ldd's list as
 * the reference and, as root, by running in a chroot (a forked child: the
 * host is not changed); then the errors, and removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/rootfs.h"

#include "fixture.h"

static int setup(void **state)
{
	return rtv_test_tree_setup(state, "rootfs");
}

static int teardown(void **state)
{
	return rtv_test_tree_teardown(state);
}

/* ---- checks ---- */

/* Whether file a and b hold the same bytes. */
static bool same_bytes(const char *a, const char *b)
{
	FILE *fa = fopen(a, "re"), *fb = fopen(b, "re");
	bool same = fa && fb;
	int ca, cb;

	while (same) {
		ca = getc(fa);
		cb = getc(fb);
		same = ca == cb;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/* ROOT/P is a regular file (not a link) with the bytes of host file H. */
static void assert_copy(const char *root, const char *p, const char *h)
{
	char in[PATH_MAX];
	struct stat st;

	snprintf(in, sizeof(in), "%s%s", root, p);
	if (lstat(in, &st))
		fail_msg("'%s' missing from the rootfs", p);
	assert_true(S_ISREG(st.st_mode));
	assert_true(same_bytes(in, h));
}

/* The directories where ld.so looks without a cache (Debian x86-64). */
static const char *const ld_dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
				       "/lib", "/usr/lib" };

/* Check the rootfs against `ldd prog` (the reference): the loader at its
 * path, each "name => /host/path" as a copy named name in a directory the
 * loader searches (or at the very path, for one found through a RUNPATH).
 * Returns how many objects ldd listed. */
static int check_like_ldd(const char *root, const char *prog)
{
	char cmd[PATH_MAX + 16], line[1024];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ldd '%s'", prog);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[256], host[512];

		if (strstr(line, "not found"))
			fail_msg("ldd: %s", line);
		if (sscanf(line, " %255s => %511s (", name, host) == 2) {
			char p[PATH_MAX];
			bool hit = false;

			for (size_t d = 0; !hit && d < sizeof(ld_dirs) / sizeof(ld_dirs[0]); d++) {
				snprintf(p, sizeof(p), "%s%s/%s", root, ld_dirs[d], name);
				if (!access(p, F_OK)) {
					snprintf(p, sizeof(p), "%s/%s", ld_dirs[d], name);
					hit = true;
				}
			}
			if (!hit) {
				/* a RUNPATH find: where the loader will look */
				char real[PATH_MAX];

				assert_non_null(realpath(host, real));
				snprintf(p, sizeof(p), "%s", real);
			}
			assert_copy(root, p, host);
			n++;
		} else if (sscanf(line, " %511s (", host) == 1 && host[0] == '/') {
			assert_copy(root, host, host); /* the loader */
			n++;
		}
	}
	assert_int_equal(pclose(f), 0);
	assert_true(n > 0);
	return n;
}

/* Count the regular files under root. */
static int nfiles;

static int count_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path, (void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		nfiles++;
	return 0;
}

static int count_files(const char *root)
{
	nfiles = 0;
	assert_int_equal(nftw(root, count_one, 16, FTW_PHYS), 0);
	return nfiles;
}

/* Run argv in a chroot to root (env: one NAME=VALUE or NULL); its exit
 * status, its output in out. With proc, a proc mounted on root/proc first,
 * in the child's own mount namespace (the host's mounts are not changed):
 * ld.so reads /proc/self/exe for a program's $ORIGIN. */
static int run_chrooted(const char *root, bool proc, const char *env, const char *const *argv,
			char *out, size_t len)
{
	int fds[2], status;
	ssize_t got = 0, n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *envp[] = { (char *)env, NULL };

		char mnt[PATH_MAX];

		dup2(fds[1], 1);
		dup2(fds[1], 2);
		snprintf(mnt, sizeof(mnt), "%s/proc", root);
		if (proc && (unshare(CLONE_NEWNS) ||
			     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			     mount("proc", mnt, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)))
			_exit(125);
		if (chroot(root) || chdir("/"))
			_exit(126);
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	close(fds[1]);
	while ((size_t)got + 1 < len && (n = read(fds[0], out + got, len - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The program built beside this test: DIR-OF-THIS/rootfs/rootfs_prog. */
static void own_prog(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	snprintf(buf, len, "%s/rootfs/rootfs_prog", dirname(self));
	assert_int_equal(access(buf, X_OK), 0);
}

/* ---- building ---- */

static void test_build(void **state)
{
	struct rtv_test_tree *t = *state;
	const char *progs[] = { "/bin/true", "/usr/bin/cyclictest", NULL };
	const char *mounts[] = { "proc", "dev", "sys", "tmp", "out" };
	char root[128], p[256], err[512], out[4096];
	struct stat st;
	int n;

	snprintf(root, sizeof(root), "%s/rootfs", t->root);
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	/* the programs under the names asked for, regular files though the
	 * host's /bin is a link */
	assert_copy(root, "/bin/true", "/bin/true");
	assert_copy(root, "/usr/bin/cyclictest", "/usr/bin/cyclictest");
	snprintf(p, sizeof(p), "%s/bin", root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(p, sizeof(p), "%s/usr/bin/cyclictest", root);
	assert_int_equal(access(p, X_OK), 0);
	/* what they need: the loader, libc; cyclictest's libnuma and others */
	n = check_like_ldd(root, "/bin/true");
	n = check_like_ldd(root, "/usr/bin/cyclictest");
	assert_true(n >= 3);
	/* nothing else: each program, each of cyclictest's objects (a superset
	 * of true's) and the mark */
	assert_int_equal(count_files(root), 2 + n + 1);
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, mounts[i]);
		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, !strcmp(mounts[i], "tmp") ? 01777 : 0755);
	}
	snprintf(p, sizeof(p), "%s/%s", root, RTV_ROOTFS_MARK);
	assert_int_equal(access(p, F_OK), 0);

	if (geteuid() != 0)
		RTV_SKIP("needs root: chroot into the rootfs");
	{
		const char *tru[] = { "/bin/true", NULL };
		const char *cyc[] = { "/usr/bin/cyclictest", NULL };

		assert_int_equal(run_chrooted(root, false, NULL, tru, out, sizeof(out)), 0);
		/* the loader resolves every object of cyclictest in the rootfs
		 * (it lists them and stops before running the program) */
		assert_int_equal(run_chrooted(root, false, "LD_TRACE_LOADED_OBJECTS=1", cyc, out,
					      sizeof(out)), 0);
		assert_null(strstr(out, "not found"));
		assert_non_null(strstr(out, "libnuma.so.1 => /"));
	}
	assert_int_equal(rtv_rootfs_remove(root), 0);
	assert_int_equal(lstat(root, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* A DT_RUNPATH "$ORIGIN/..": the library lands one folder above the
 * program, at the folded path, and the loader finds it there. */
static void test_build_runpath(void **state)
{
	struct rtv_test_tree *t = *state;
	char prog[PATH_MAX], lib[PATH_MAX], root[128], err[512], out[4096];
	const char *progs[] = { prog, NULL };
	const char *run[] = { prog, NULL };

	own_prog(prog, sizeof(prog));
	snprintf(lib, sizeof(lib), "%s", prog);
	*strrchr(lib, '/') = '\0';
	*strrchr(lib, '/') = '\0';
	snprintf(lib + strlen(lib), sizeof(lib) - strlen(lib), "/librtvrootfs.so");
	snprintf(root, sizeof(root), "%s/rootfs", t->root);
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), 0);
	assert_copy(root, prog, prog);
	assert_copy(root, lib, lib);
	check_like_ldd(root, prog);
	if (geteuid() != 0)
		RTV_SKIP("needs root: chroot into the rootfs");
	/* listed, not run (a sanitizer build's runtime would want more); with
	 * a proc, as a container has, for $ORIGIN */
	assert_int_equal(run_chrooted(root, true, "LD_TRACE_LOADED_OBJECTS=1", run, out,
				      sizeof(out)), 0);
	assert_null(strstr(out, "not found"));
	assert_non_null(strstr(out, "librtvrootfs.so => /"));
	assert_int_equal(rtv_rootfs_remove(root), 0);
}

/* ---- errors ---- */

static void test_build_missing(void **state)
{
	struct rtv_test_tree *t = *state;
	const char *progs[] = { "/bin/true", "/usr/bin/no-such-program-rtv", NULL };
	char root[128], err[512];
	struct stat st;

	snprintf(root, sizeof(root), "%s/rootfs", t->root);
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "'/usr/bin/no-such-program-rtv'"));
	assert_non_null(strstr(err, "not found"));
	/* made by the call, so removed by it */
	assert_int_equal(lstat(root, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_build_not_elf(void **state)
{
	struct rtv_test_tree *t = *state;
	char root[128], script[128], text[128], err[512];
	const char *progs[] = { script, NULL };
	const char *progs2[] = { text, NULL };
	const char *progs3[] = { "bin/true", NULL };
	const char *progs4[] = { "/usr/bin", NULL };

	snprintf(root, sizeof(root), "%s/rootfs", t->root);
	snprintf(script, sizeof(script), "%s/script.sh", t->root);
	snprintf(text, sizeof(text), "%s/notes.txt", t->root);
	rtv_test_put(script, "#!/bin/sh\necho hi\n");
	rtv_test_put(text, "not an executable of any kind, just words\n");
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, script));
	assert_non_null(strstr(err, "not an ELF file"));
	assert_non_null(strstr(err, "a script"));
	assert_int_equal(rtv_rootfs_build(root, progs2, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, text));
	assert_non_null(strstr(err, "not an ELF file"));
	/* a truncated ELF header */
	rtv_test_put(text, "\177ELF\002\001\001");
	assert_int_equal(rtv_rootfs_build(root, progs2, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, text));
	/* an ELF header whose program headers lie beyond the file */
	{
		char elf[64] = "\177ELF\002\001\001";
		FILE *f = fopen(text, "we");

		elf[16] = 3; /* ET_DYN */
		elf[18] = 62; /* EM_X86_64 */
		elf[32] = 0x40; /* e_phoff */
		elf[54] = 56;  /* e_phentsize */
		elf[56] = 9;   /* e_phnum */
		assert_non_null(f);
		assert_int_equal(fwrite(elf, 1, sizeof(elf), f), sizeof(elf));
		fclose(f);
		assert_int_equal(rtv_rootfs_build(root, progs2, err, sizeof(err)), -ENOEXEC);
		assert_non_null(strstr(err, "malformed"));
	}
	assert_int_equal(rtv_rootfs_build(root, progs3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'bin/true'"));
	assert_int_equal(rtv_rootfs_build(root, progs4, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "'/usr/bin'"));
	assert_int_equal(access(root, F_OK), -1);
}

/* An existing directory: used when empty, refused when not, left empty
 * after a failure. */
static void test_build_existing_dir(void **state)
{
	struct rtv_test_tree *t = *state;
	const char *progs[] = { "/bin/true", NULL };
	const char *bad[] = { "/nonexistent/prog", NULL };
	char root[128], p[256], err[512];

	snprintf(root, sizeof(root), "%s/rootfs", t->root);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(rtv_rootfs_build(root, bad, err, sizeof(err)), -ENOENT);
	assert_int_equal(access(root, F_OK), 0);
	assert_int_equal(count_files(root), 0);
	snprintf(p, sizeof(p), "%s/proc", root);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), 0);
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), -ENOTEMPTY);
	assert_non_null(strstr(err, root));
	assert_int_equal(rtv_rootfs_remove(root), 0);
	assert_int_equal(access(root, F_OK), -1);
	assert_int_equal(rtv_rootfs_build("", progs, err, sizeof(err)), -EINVAL);
	assert_int_equal(rtv_rootfs_build("/", progs, err, sizeof(err)), -EINVAL);
}

/* ---- removing ---- */

static void test_remove(void **state)
{
	struct rtv_test_tree *t = *state;
	const char *progs[] = { "/bin/true", NULL };
	char root[128], keep[128], p[256], err[512];

	snprintf(root, sizeof(root), "%s/rootfs", t->root);
	snprintf(keep, sizeof(keep), "%s/keep", t->root);
	assert_int_equal(rtv_rootfs_remove(""), -EINVAL);
	assert_int_equal(rtv_rootfs_remove("/"), -EINVAL);
	assert_int_equal(rtv_rootfs_remove("//"), -EINVAL);
	assert_int_equal(rtv_rootfs_remove("/tmp/.."), -EINVAL);
	assert_int_equal(rtv_rootfs_remove(root), 0); /* not there: nothing to do */
	/* a directory with contents that no build made: refused, untouched */
	assert_int_equal(mkdir(keep, 0755), 0);
	rtv_test_put_in(keep, "precious", "data\n");
	assert_int_equal(rtv_rootfs_remove(keep), -EINVAL);
	snprintf(p, sizeof(p), "%s/precious", keep);
	assert_int_equal(access(p, F_OK), 0);
	/* links inside are removed, never followed */
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/tmp/link", root);
	assert_int_equal(symlink(keep, p), 0);
	snprintf(p, sizeof(p), "%s/out/file-link", root);
	assert_int_equal(symlink(keep, p), 0);
	assert_int_equal(rtv_rootfs_remove(root), 0);
	assert_int_equal(access(root, F_OK), -1);
	snprintf(p, sizeof(p), "%s/precious", keep);
	assert_int_equal(access(p, F_OK), 0);
	/* an empty directory without the mark (a build that died at once) */
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(rtv_rootfs_remove(root), 0);
	assert_int_equal(access(root, F_OK), -1);
}

/* Something still mounted on out: -EBUSY, the mounted directory's files
 * untouched. In a child's own mount namespace: the host's mounts are not
 * changed. */
static void test_remove_mounted(void **state)
{
	struct rtv_test_tree *t = *state;
	const char *progs[] = { "/bin/true", NULL };
	char root[128], keep[128], p[256], err[512];
	int status;
	pid_t pid;

	if (geteuid() != 0)
		RTV_SKIP("needs root: a mount namespace and a bind mount");
	snprintf(root, sizeof(root), "%s/rootfs", t->root);
	snprintf(keep, sizeof(keep), "%s/results", t->root);
	assert_int_equal(mkdir(keep, 0755), 0);
	rtv_test_put_in(keep, "result.json", "{}\n");
	assert_int_equal(rtv_rootfs_build(root, progs, err, sizeof(err)), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		snprintf(p, sizeof(p), "%s/out", root);
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount(keep, p, NULL, MS_BIND, NULL))
			_exit(3);
		_exit(rtv_rootfs_remove(root) == -EBUSY ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(p, sizeof(p), "%s/result.json", keep);
	assert_int_equal(access(p, F_OK), 0);
	/* what was not under the mount went; out and the mark stay */
	snprintf(p, sizeof(p), "%s/bin/true", root);
	assert_int_equal(access(p, F_OK), -1);
	/* with the mount gone (the namespace died with the child) it finishes */
	assert_int_equal(rtv_rootfs_remove(root), 0);
	assert_int_equal(access(root, F_OK), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_build),
		T(test_build_runpath),
		T(test_build_missing),
		T(test_build_not_elf),
		T(test_build_existing_dir),
		T(test_remove),
		T(test_remove_mounted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
