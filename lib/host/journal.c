#include "host/journal.h"
#include "host/proc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"

/* One entry per line: "<keep> <kind> <arg>..." with arguments %-encoded. */
struct entry {
	bool keep;
	char *line; /* "<kind> <args>", encoded */
};

static struct {
	int lock_fd;
	char dir[256];
	char path[300];
	struct entry *e;
	size_t n, cap;
} J = { .lock_fd = -1 };

static struct {
	char kind[16];
	rtv_journal_undo_fn undo;
} kinds[16];
static int nkinds;

static rtv_journal_undo_fn find_kind(const char *kind)
{
	for (int i = 0; i < nkinds; i++)
		if (!strcmp(kinds[i].kind, kind))
			return kinds[i].undo;
	return NULL;
}

int rtv_journal_register(const char *kind, rtv_journal_undo_fn undo)
{
	if (!kind || !undo || !*kind || strlen(kind) >= sizeof(kinds[0].kind) || strchr(kind, ' '))
		return -EINVAL;
	if (find_kind(kind))
		return find_kind(kind) == undo ? 0 : -EEXIST;
	if (nkinds == (int)(sizeof(kinds) / sizeof(kinds[0])))
		return -ENOSPC;
	snprintf(kinds[nkinds].kind, sizeof(kinds[0].kind), "%s", kind);
	kinds[nkinds++].undo = undo;
	return 0;
}

bool rtv_journal_is_open(void)
{
	return J.lock_fd >= 0;
}

/* -E2BIG when `in` does not fit: a value cut short could not be restored. */
static int encode(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in && o + 4 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c <= ' ' || c == '%' || c >= 0x7f) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	if (o == 0 && o + 2 < len) /* keep empty values visible as a field */
		out[o++] = '%', out[o++] = '-';
	out[o] = '\0';
	return *in ? -E2BIG : 0;
}

static void decode(char *s)
{
	char *o = s;

	if (!strcmp(s, "%-")) {
		*s = '\0';
		return;
	}
	for (; *s; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char h[3] = { s[1], s[2], 0 };

			*o++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int write_all_entries(void)
{
	char tmp[320];
	FILE *f;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", J.path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < J.n; i++)
		fprintf(f, "%d %s\n", J.e[i].keep, J.e[i].line);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, J.path))
		err = -errno;
	return err;
}

static int append(const char *kind, int nargs, const char *const *args)
{
	char line[4096], enc[sizeof(line)];
	size_t off;
	struct entry *e;
	int fd, err = 0;

	if (!rtv_journal_is_open())
		return -EBADF;
	off = (size_t)snprintf(line, sizeof(line), "%s", kind);
	for (int i = 0; i < nargs; i++) {
		if (encode(args[i], enc, sizeof(enc)) < 0)
			return -E2BIG;
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s", enc);
		if (off >= sizeof(line))
			return -E2BIG;
	}
	if (J.n == J.cap) {
		size_t cap = J.cap ? J.cap * 2 : 64;

		e = realloc(J.e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		J.e = e;
		J.cap = cap;
	}
	e = &J.e[J.n];
	e->keep = false;
	e->line = strdup(line);
	if (!e->line)
		return -ENOMEM;
	fd = open(J.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (dprintf(fd, "0 %s\n", line) < 0 || fsync(fd))
		err = -errno;
	close(fd);
	if (err)
		goto fail;
	J.n++;
	return 0;
fail:
	free(e->line);
	return err;
}

/* Forget the newest entry (its change failed before taking effect). */
static void drop_last(void)
{
	if (!J.n)
		return;
	free(J.e[--J.n].line);
	write_all_entries();
}

unsigned long long rtv_proc_starttime(pid_t pid, pid_t tid)
{
	struct rtv_proc_stat st;

	return rtv_proc_stat_read(pid, tid, &st) ? 0 : st.starttime;
}

/* Read a small file whole, its bytes as they are: what undo writes back
 * (sysfs takes "1\n" as it takes "1"; a regular file gets back exactly what
 * it had). -EFBIG when it does not fit: part of a value is no way back. */
static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t r;
	char more;
	int err = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	r = read(fd, buf, len - 1);
	if (r < 0)
		err = -errno;
	else if ((size_t)r == len - 1 && read(fd, &more, 1) > 0)
		err = -EFBIG;
	close(fd);
	if (err)
		return err;
	buf[r] = '\0';
	return 0;
}

/* The length of a value without the newline and spaces sysfs and procfs end it with. */
static size_t value_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	return n;
}

/* On sysfs, procfs and cgroupfs a write sets a value and writing nothing
 * sets nothing, so an empty value is written as a newline there; elsewhere
 * (a fake tree in a test) a file is its bytes. */
static bool on_kernel_fs(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs))
		return true;
	return sfs.f_type == SYSFS_MAGIC || sfs.f_type == PROC_SUPER_MAGIC ||
	       sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* O_TRUNC, as in a shell's `echo 1 > file`: a regular file gets the value
 * alone instead of the value over the start of the old contents. */
static int write_small(const char *path, const char *value)
{
	size_t len = strlen(value);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (len == 0 && on_kernel_fs(fd))
		value = "\n", len = 1;
	if (len && write(fd, value, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

int rtv_host_write(const char *path, const char *value)
{
	char cur[4096];
	int err;

	err = read_small(path, cur, sizeof(cur));
	if (err < 0)
		return err;
	if (value_len(cur) == strlen(value) && !strncmp(cur, value, strlen(value)))
		return 0; /* nothing to change, nothing to undo */
	err = append("file", 2, (const char *const[]){ path, cur });
	if (err < 0)
		return err;
	err = write_small(path, value);
	if (err < 0)
		drop_last(); /* the change did not happen: nothing to undo */
	return err;
}

int rtv_journal_save_file(const char *path)
{
	char cur[4096];
	int err = read_small(path, cur, sizeof(cur));

	if (err < 0)
		return err;
	return append("file", 2, (const char *const[]){ path, cur });
}

int rtv_journal_add(const char *kind, int nargs, const char *const *args)
{
	if (!find_kind(kind) || nargs < 0 || nargs > 6)
		return -EINVAL;
	return append(kind, nargs, args);
}

int rtv_journal_add_netns(const char *name)
{
	return append("netns", 1, (const char *const[]){ name });
}

int rtv_journal_add_dir(const char *path)
{
	return append("dir", 1, (const char *const[]){ path });
}

int rtv_journal_add_ctl(const char *path, const char *token)
{
	return append("ctl", 2, (const char *const[]){ path, token });
}

int rtv_journal_save_sched(pid_t tid)
{
	struct sched_param sp;
	char a[5][32];
	int policy;

	errno = 0;
	policy = sched_getscheduler(tid);
	if (policy < 0 || sched_getparam(tid, &sp))
		return -errno;
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno)
		return -errno;
	snprintf(a[0], 32, "%d", tid);
	snprintf(a[1], 32, "%llu", rtv_proc_starttime(tid, 0));
	snprintf(a[2], 32, "%d", policy & ~SCHED_RESET_ON_FORK);
	snprintf(a[3], 32, "%d", sp.sched_priority);
	snprintf(a[4], 32, "%d", nice);
	return append("sched", 5, (const char *const[]){ a[0], a[1], a[2], a[3], a[4] });
}

int rtv_journal_save_affinity(pid_t tid)
{
	cpu_set_t set;
	char a[2][32], list[1024];

	if (sched_getaffinity(tid, sizeof(set), &set))
		return -errno;
	if (rtv_cpulist_format(&set, list, sizeof(list)) < 0)
		return -ENOSPC;
	snprintf(a[0], 32, "%d", tid);
	snprintf(a[1], 32, "%llu", rtv_proc_starttime(tid, 0));
	return append("affinity", 3, (const char *const[]){ a[0], a[1], list });
}

int rtv_journal_add_proc(pid_t pid)
{
	char a[2][32];

	snprintf(a[0], 32, "%d", pid);
	snprintf(a[1], 32, "%llu", rtv_proc_starttime(pid, 0));
	return append("proc", 2, (const char *const[]){ a[0], a[1] });
}

static bool same_task(const char *tid_s, const char *start_s)
{
	pid_t tid = (pid_t)atoi(tid_s);
	unsigned long long start = rtv_proc_starttime(tid, 0);

	return start && start == strtoull(start_s, NULL, 10);
}

static int kill_cgroup_tasks(const char *dir)
{
	char path[512], buf[32];
	FILE *f;
	int rounds, found;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (rounds = 0; rounds < 100; rounds++) {
		f = fopen(path, "re");
		if (!f)
			return errno == ENOENT ? 0 : -errno;
		found = 0;
		while (fgets(buf, sizeof(buf), f)) {
			pid_t pid = (pid_t)atoi(buf);

			if (pid > 0 && pid != getpid()) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, WNOHANG);
				found++;
			}
		}
		fclose(f);
		if (!found)
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return -EBUSY;
}

static int undo_line(const char *line)
{
	char buf[4096], *argv[8] = { 0 }, *save = NULL, *tok;
	int argc = 0, err = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 8; tok = strtok_r(NULL, " ", &save)) {
		decode(tok);
		argv[argc++] = tok;
	}
	if (argc < 2)
		return -EINVAL;
	if (!strcmp(argv[0], "netns")) {
		char path[300];

		snprintf(path, sizeof(path), "/run/netns/%s", argv[1]);
		if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
			err = -errno;
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	} else if (!strcmp(argv[0], "dir")) {
		kill_cgroup_tasks(argv[1]);
		for (int i = 0; i < 50; i++) { /* a killed task leaves its cgroup asynchronously */
			if (!rmdir(argv[1]) || errno == ENOENT) {
				err = 0;
				break;
			}
			err = -errno;
			if (errno != EBUSY)
				break;
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		}
	} else if (!strcmp(argv[0], "file") && argc >= 3) {
		err = write_small(argv[1], argv[2]);
		if (err == -ENOENT)
			err = 0; /* it went away with its owner */
	} else if (!strcmp(argv[0], "ctl") && argc >= 3) {
		char tok2[64];

		snprintf(tok2, sizeof(tok2), "-%s", argv[2]);
		err = write_small(argv[1], tok2);
		if (err == -ENOENT)
			err = 0;
	} else if (!strcmp(argv[0], "sched") && argc >= 6) {
		if (same_task(argv[1], argv[2])) {
			struct sched_param sp = { .sched_priority = atoi(argv[4]) };
			pid_t tid = (pid_t)atoi(argv[1]);

			if (sched_setscheduler(tid, atoi(argv[3]), &sp))
				err = -errno;
			if (setpriority(PRIO_PROCESS, (id_t)tid, atoi(argv[5])) && !err)
				err = -errno;
			if (err == -ESRCH)
				err = 0;
		}
	} else if (!strcmp(argv[0], "affinity") && argc >= 4) {
		if (same_task(argv[1], argv[2])) {
			cpu_set_t set;

			err = rtv_parse_cpulist(argv[3], CPU_SETSIZE, &set);
			if (!err && sched_setaffinity((pid_t)atoi(argv[1]), sizeof(set), &set))
				err = errno == ESRCH ? 0 : -errno;
		}
	} else if (!strcmp(argv[0], "proc") && argc >= 3) {
		if (same_task(argv[1], argv[2])) {
			pid_t pid = (pid_t)atoi(argv[1]);

			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0) ;
		}
	} else if (find_kind(argv[0])) {
		err = find_kind(argv[0])(argc - 1, argv + 1);
	} else {
		err = -EINVAL;
	}
	if (err)
		rtv_warn("cannot undo '%s': %s", line, strerror(-err));
	return err;
}

/* Undo entries [from, n) that match `which` (0 run only, 1 all), newest first. */
static int undo_range(size_t from, bool all)
{
	int done = 0, first_err = 0, err;
	size_t i = J.n, w;

	while (i > from) {
		i--;
		if (J.e[i].keep && !all)
			continue;
		err = undo_line(J.e[i].line);
		if (err && !first_err)
			first_err = err;
		done++;
		free(J.e[i].line);
		J.e[i].line = NULL;
	}
	for (i = w = 0; i < J.n; i++)
		if (J.e[i].line)
			J.e[w++] = J.e[i];
	J.n = w;
	err = write_all_entries();
	if (err && !first_err)
		first_err = err;
	return first_err ? first_err : done;
}

int rtv_journal_open(const char *dir)
{
	char path[300], line[4200];
	FILE *f;
	int fd, err;

	if (rtv_journal_is_open())
		return 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		close(fd);
		return err;
	}
	J.lock_fd = fd;
	snprintf(J.dir, sizeof(J.dir), "%s", dir);
	snprintf(J.path, sizeof(J.path), "%s/journal", dir);
	J.n = 0;
	f = fopen(J.path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		struct entry *e;

		if (len < 3 || line[1] != ' ')
			continue;
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (J.n == J.cap) {
			size_t cap = J.cap ? J.cap * 2 : 64;

			e = realloc(J.e, cap * sizeof(*e));
			if (!e) {
				fclose(f);
				return -ENOMEM;
			}
			J.e = e;
			J.cap = cap;
		}
		J.e[J.n].keep = line[0] == '1';
		J.e[J.n].line = strdup(line + 2);
		if (J.e[J.n].line)
			J.n++;
	}
	fclose(f);
	return 0;
}

int rtv_journal_recover(void)
{
	size_t runs = 0;

	for (size_t i = 0; i < J.n; i++)
		runs += !J.e[i].keep;
	if (!runs)
		return 0;
	return undo_range(0, false);
}

size_t rtv_journal_mark(void)
{
	return J.n;
}

int rtv_journal_undo_to(size_t mark)
{
	if (!rtv_journal_is_open() || mark >= J.n)
		return 0;
	return undo_range(mark, true);
}

int rtv_journal_undo_all(void)
{
	if (!rtv_journal_is_open() || !J.n)
		return 0;
	return undo_range(0, true);
}

int rtv_journal_keep_from(size_t mark)
{
	for (size_t i = mark; i < J.n; i++)
		J.e[i].keep = true;
	return write_all_entries();
}

size_t rtv_journal_kept(void)
{
	size_t k = 0;

	for (size_t i = 0; i < J.n; i++)
		k += J.e[i].keep;
	return k;
}

void rtv_journal_close(void)
{
	if (!rtv_journal_is_open())
		return;
	for (size_t i = 0; i < J.n; i++)
		if (!J.e[i].keep) {
			undo_range(0, false);
			break;
		}
	for (size_t i = 0; i < J.n; i++)
		free(J.e[i].line);
	free(J.e);
	J.e = NULL;
	J.n = J.cap = 0;
	if (!access(J.path, F_OK)) {
		struct stat st;

		if (!stat(J.path, &st) && st.st_size == 0)
			unlink(J.path);
	}
	close(J.lock_fd);
	J.lock_fd = -1;
}
