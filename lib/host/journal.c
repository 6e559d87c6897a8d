#include "host/journal.h"
#include "host/proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

/* One entry per line: "<owner> <since> <err> <fails> <kind> <arg>...", the
 * owner "-" for the running process's entries, arguments %-encoded. */

static struct {
	int lock_fd;
	char dir[256];
	char path[300];
	struct rtv_journal_entry *e;
	size_t n, cap;
} J = { .lock_fd = -1 };

static const struct rtv_journal_kind *kinds[32];
static size_t nkinds;

static const struct rtv_journal_kind *find_kind(const char *name)
{
	for (size_t i = 0; i < nkinds; i++)
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	return NULL;
}

void rtv_journal_kind_register(const struct rtv_journal_kind *k)
{
	size_t i;

	if (!k->name || !*k->name || strlen(k->name) >= 16 || strchr(k->name, ' ') || !k->undo ||
	    !k->snapshot || find_kind(k->name) || nkinds == sizeof(kinds) / sizeof(kinds[0])) {
		fprintf(stderr, "rtvnet: journal kind '%s' is invalid (no undo, no snapshot reader, "
				"a name taken, or too many kinds)\n", k->name ? k->name : "");
		abort();
	}
	for (i = nkinds; i > 0 && strcmp(kinds[i - 1]->name, k->name) > 0; i--)
		kinds[i] = kinds[i - 1];
	kinds[i] = k;
	nkinds++;
}

const struct rtv_journal_kind *rtv_journal_kind_at(size_t i)
{
	return i < nkinds ? kinds[i] : NULL;
}

bool rtv_journal_is_open(void)
{
	return J.lock_fd >= 0;
}

void rtv_journal_forget(void)
{
	/* the lock is flock(2)'s, held by the open file description the parent
	 * shares: closing this copy releases nothing */
	if (J.lock_fd >= 0)
		close(J.lock_fd);
	J.lock_fd = -1;
	for (size_t i = 0; i < J.n; i++)
		free(J.e[i].line);
	free(J.e);
	J.e = NULL;
	J.n = J.cap = 0;
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

static void put_entry(FILE *f, const struct rtv_journal_entry *e)
{
	fprintf(f, "%s %lld %d %u %s\n", e->owner[0] ? e->owner : "-", e->since, e->err, e->fails,
		e->line);
}

/* Parse one journal line into e (its line strdup'd). -EINVAL when it is not
 * an entry. */
static int parse_entry(const char *line, struct rtv_journal_entry *e)
{
	char owner[16];
	int off = 0;

	memset(e, 0, sizeof(*e));
	if ((line[0] == '0' || line[0] == '1') && line[1] == ' ' && isalpha((unsigned char)line[2])) {
		/* the format before owners: "<keep> <kind> <args>", kept by a testbed */
		if (line[0] == '1')
			snprintf(e->owner, sizeof(e->owner), "testbed");
		e->line = strdup(line + 2);
		return e->line ? 0 : -ENOMEM;
	}
	if (sscanf(line, "%15s %lld %d %u %n", owner, &e->since, &e->err, &e->fails, &off) < 4 ||
	    !off || !line[off])
		return -EINVAL;
	if (strcmp(owner, "-"))
		snprintf(e->owner, sizeof(e->owner), "%s", owner);
	e->line = strdup(line + off);
	return e->line ? 0 : -ENOMEM;
}

static int write_all_entries(void)
{
	char tmp[320];
	FILE *f;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", J.path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	for (size_t i = 0; i < J.n; i++)
		put_entry(f, &J.e[i]);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, J.path))
		err = -errno;
	return err;
}

static int grow(struct rtv_journal_entry **e, size_t *cap, size_t n)
{
	struct rtv_journal_entry *ne;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	ne = realloc(*e, c * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	*e = ne;
	*cap = c;
	return 0;
}

static int append(const char *kind, int nargs, const char *const *args)
{
	char line[4096], enc[sizeof(line)];
	size_t off;
	struct rtv_journal_entry *e;
	FILE *f;
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
	if (grow(&J.e, &J.cap, J.n) < 0)
		return -ENOMEM;
	e = &J.e[J.n];
	memset(e, 0, sizeof(*e));
	e->since = (long long)time(NULL);
	e->line = strdup(line);
	if (!e->line)
		return -ENOMEM;
	fd = open(J.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	f = fdopen(fd, "a");
	if (!f) {
		err = -errno;
		close(fd);
		goto fail;
	}
	put_entry(f, e);
	if (fflush(f) || fsync(fd))
		err = -errno;
	fclose(f);
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

bool rtv_journal_same_task(const char *tid_s, const char *start_s)
{
	pid_t tid = (pid_t)atoi(tid_s);
	unsigned long long start = tid > 0 ? rtv_proc_starttime(tid, 0) : 0;

	return start && start == strtoull(start_s, NULL, 10);
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

/* The files the "file" kind's snapshot prints: every sysctl, procfs and
 * sysfs file a method writes that no other kind reads (cgroup files are the
 * cgroup kind's, device files the napi kind's). */
static const char *const file_globs[] = {
	"/proc/sys/net/core/*",
	"/proc/sys/kernel/sched_rt_period_us",
	"/proc/sys/kernel/sched_rt_runtime_us",
	"/proc/irq/*/smp_affinity_list",
	"/proc/irq/default_smp_affinity",
	"/sys/devices/virtual/workqueue/cpumask",
	"/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor",
	"/sys/devices/system/cpu/cpu*/cpufreq/scaling_max_freq",
	"/sys/devices/system/cpu/cpu*/cpufreq/scaling_min_freq",
	"/sys/devices/system/cpu/cpu*/cpufreq/scaling_setspeed",
	NULL
};

/* Whether a snapshot reads path: any path outside /proc and /sys (a fake
 * tree in a test), or one some kind claims. */
static bool file_covered(const char *path)
{
	const struct rtv_journal_kind *k;

	if (strncmp(path, "/proc/", 6) && strncmp(path, "/sys/", 5))
		return true;
	for (size_t i = 0; (k = rtv_journal_kind_at(i)); i++)
		for (const char *const *g = k->files; g && *g; g++)
			if (!fnmatch(*g, path, 0))
				return true;
	return false;
}

int rtv_host_write(const char *path, const char *value)
{
	char cur[4096];
	int err;

	if (!file_covered(path))
		return -EPERM;
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
	int err;

	if (!file_covered(path))
		return -EPERM;
	err = read_small(path, cur, sizeof(cur));
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

/* "file PATH CONTENTS": write the contents back. A file that went away
 * went with its owner (a device, a cgroup). */
static int file_undo(int argc, char **argv)
{
	int err;

	if (argc < 2)
		return -EINVAL;
	err = write_small(argv[0], argv[1]);
	return err == -ENOENT ? RTV_JOURNAL_GONE : err;
}

/* A value on one line: newlines and tabs shown as spaces. */
static void put_value(FILE *out, const char *path, char *v)
{
	v[value_len(v)] = '\0';
	for (char *c = v; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	fprintf(out, "%s %s\n", path, v);
}

static int file_snapshot(FILE *out)
{
	char v[4096];
	glob_t g;

	for (const char *const *p = file_globs; *p; p++) {
		if (glob(*p, 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (!read_small(g.gl_pathv[i], v, sizeof(v)))
				put_value(out, g.gl_pathv[i], v);
		globfree(&g);
	}
	return 0;
}

static const struct rtv_journal_kind file_kind = {
	.name = "file", .undo = file_undo, .snapshot = file_snapshot, .files = file_globs,
};
RTV_JOURNAL_KIND(file_kind)

int rtv_journal_add_runfile(const char *path)
{
	return append("runfile", 1, (const char *const[]){ path });
}

/* "runfile PATH": remove it. */
static int runfile_undo(int argc, char **argv)
{
	if (argc < 1 || argv[0][0] != '/')
		return -EINVAL;
	if (!unlink(argv[0]))
		return 0;
	return errno == ENOENT ? RTV_JOURNAL_GONE : -errno;
}

/* The files in rtvnet's run directory besides the lock and the journal. */
static int runfile_snapshot(FILE *out)
{
	struct dirent *de;
	DIR *d = opendir(J.dir[0] ? J.dir : RTV_JOURNAL_DIR);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "lock") && strcmp(de->d_name, "journal"))
			fprintf(out, "%s\n", de->d_name);
	closedir(d);
	return 0;
}

static const struct rtv_journal_kind runfile_kind = {
	.name = "runfile", .undo = runfile_undo, .snapshot = runfile_snapshot,
};
RTV_JOURNAL_KIND(runfile_kind)

/* Undo one entry: 0, RTV_JOURNAL_GONE or -errno. */
static int undo_line(const char *line)
{
	char buf[4096], *argv[8] = { 0 }, *save = NULL, *tok;
	const struct rtv_journal_kind *k;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 8; tok = strtok_r(NULL, " ", &save)) {
		decode(tok);
		argv[argc++] = tok;
	}
	if (argc < 1)
		return -EINVAL;
	k = find_kind(argv[0]);
	if (!k)
		return -ENOPROTOOPT; /* a kind this rtvnet does not know */
	return k->undo(argc - 1, argv + 1);
}

enum which { RUN, ALL, OWNER };

static bool selected(const struct rtv_journal_entry *e, enum which w, const char *owner)
{
	switch (w) {
	case RUN: return !e->owner[0];
	case ALL: return true;
	default: return !strcmp(e->owner, owner);
	}
}

/* Undo the selected entries among [from, n), newest first. One that fails
 * stays, with its error; one whose target is gone is dropped and logged. */
static int undo_range(size_t from, enum which w, const char *owner)
{
	int done = 0, gone = 0, first_err = 0, err;
	size_t i = J.n, o;

	while (i > from) {
		struct rtv_journal_entry *e = &J.e[--i];

		if (!selected(e, w, owner))
			continue;
		err = undo_line(e->line);
		if (err < 0) {
			rtv_warn("cannot undo '%s' (kept, retried at the next start): %s", e->line,
				 err == -ENOPROTOOPT ? "unknown kind of entry" : strerror(-err));
			e->err = -err;
			e->fails++;
			if (!first_err)
				first_err = err;
			continue;
		}
		if (err == RTV_JOURNAL_GONE) {
			rtv_debug("dropped '%s': its target is gone", e->line);
			gone++;
		} else {
			done++;
		}
		free(e->line);
		e->line = NULL;
	}
	for (i = o = 0; i < J.n; i++)
		if (J.e[i].line)
			J.e[o++] = J.e[i];
	J.n = o;
	if (gone) /* a process that exited, a namespace deleted: usual, said at -v */
		rtv_debug("%d change%s dropped, not undone: %s target%s gone", gone,
			  gone == 1 ? "" : "s", gone == 1 ? "its" : "their", gone == 1 ? " is" : "s are");
	err = write_all_entries();
	if (err && !first_err)
		first_err = err;
	return first_err ? first_err : done;
}

/* Read the journal file into *e, *n (entries that do not parse are skipped). */
static int read_entries(const char *path, struct rtv_journal_entry **e, size_t *n, size_t *cap)
{
	char line[4400];
	FILE *f = fopen(path, "re");

	*n = 0;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (grow(e, cap, *n) < 0) {
			fclose(f);
			return -ENOMEM;
		}
		if (!parse_entry(line, &(*e)[*n]))
			(*n)++;
	}
	fclose(f);
	return 0;
}

static pid_t lock_holder(int fd)
{
	char buf[32] = "";
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

	if (r <= 0)
		return 0;
	buf[r] = '\0';
	return (pid_t)atoi(buf);
}

int rtv_journal_open(const char *dir, pid_t *holder)
{
	char path[300];
	int fd, err;

	if (holder)
		*holder = 0;
	if (rtv_journal_is_open())
		return 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (holder && err == -EWOULDBLOCK)
			*holder = lock_holder(fd);
		close(fd);
		return err;
	}
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%d\n", (int)getpid());
	J.lock_fd = fd;
	snprintf(J.dir, sizeof(J.dir), "%s", dir);
	snprintf(J.path, sizeof(J.path), "%s/journal", dir);
	return read_entries(J.path, &J.e, &J.n, &J.cap);
}

int rtv_journal_recover(void)
{
	size_t runs = 0;

	for (size_t i = 0; i < J.n; i++)
		runs += !J.e[i].owner[0];
	if (!runs)
		return 0;
	return undo_range(0, RUN, NULL);
}

size_t rtv_journal_mark(void)
{
	return J.n;
}

int rtv_journal_undo_to(size_t mark)
{
	if (!rtv_journal_is_open() || mark >= J.n)
		return 0;
	return undo_range(mark, ALL, NULL);
}

int rtv_journal_undo_all(void)
{
	if (!rtv_journal_is_open() || !J.n)
		return 0;
	return undo_range(0, ALL, NULL);
}

int rtv_journal_undo_owner(const char *owner)
{
	if (!rtv_journal_is_open() || !owner || !*owner || !rtv_journal_kept(owner))
		return 0;
	return undo_range(0, OWNER, owner);
}

int rtv_journal_keep_from(size_t mark, const char *owner)
{
	if (!owner || !*owner || strlen(owner) >= sizeof(J.e[0].owner) || strchr(owner, ' ') ||
	    !strcmp(owner, "-"))
		return -EINVAL;
	for (size_t i = mark; i < J.n; i++)
		snprintf(J.e[i].owner, sizeof(J.e[i].owner), "%s", owner);
	return write_all_entries();
}

size_t rtv_journal_kept(const char *owner)
{
	size_t k = 0;

	for (size_t i = 0; i < J.n; i++)
		k += J.e[i].owner[0] && (!owner || !strcmp(J.e[i].owner, owner));
	return k;
}

void rtv_journal_close(void)
{
	struct stat st;

	if (!rtv_journal_is_open())
		return;
	for (size_t i = 0; i < J.n; i++)
		if (!J.e[i].owner[0]) {
			undo_range(0, RUN, NULL);
			break;
		}
	for (size_t i = 0; i < J.n; i++)
		free(J.e[i].line);
	free(J.e);
	J.e = NULL;
	J.n = J.cap = 0;
	if (!stat(J.path, &st) && st.st_size == 0)
		unlink(J.path);
	if (ftruncate(J.lock_fd, 0) < 0) /* a stale pid would only be a hint */
		rtv_debug("cannot clear the lock's pid: %s", strerror(errno));
	close(J.lock_fd);
	J.lock_fd = -1;
}

int rtv_journal_state_read(const char *dir, struct rtv_journal_state *st)
{
	char path[300];
	size_t cap = 0;
	int fd, err;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK)
			st->holder = lock_holder(fd);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/journal", dir);
	err = read_entries(path, &st->e, &st->n, &cap);
	if (err < 0)
		rtv_journal_state_free(st);
	return err;
}

void rtv_journal_state_free(struct rtv_journal_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->e[i].line);
	free(st->e);
	st->e = NULL;
	st->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run one kind's reader into memory, then print its lines sorted. */
static int snapshot_kind(const struct rtv_journal_kind *k, FILE *out)
{
	char *buf = NULL, **lines = NULL, *save = NULL, *l;
	size_t len = 0, n = 0, cap = 0;
	FILE *m = open_memstream(&buf, &len);
	int err;

	if (!m)
		return -errno;
	err = k->snapshot(m);
	if (fclose(m))
		err = err ? err : -ENOMEM;
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			char **nl = realloc(lines, (cap = cap ? cap * 2 : 256) * sizeof(*nl));

			if (!nl) {
				err = -ENOMEM;
				break;
			}
			lines = nl;
		}
		lines[n++] = l;
	}
	if (n)
		qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %s\n", k->name, lines[i]);
	if (err < 0)
		fprintf(out, "%s ERROR %s\n", k->name, strerror(-err));
	free(lines);
	free(buf);
	return err;
}

int rtv_journal_snapshot(FILE *out)
{
	const struct rtv_journal_kind *k;
	int err, first = 0;

	for (size_t i = 0; (k = rtv_journal_kind_at(i)); i++) {
		err = snapshot_kind(k, out);
		if (err < 0 && !first)
			first = err;
	}
	return first;
}
