#include "probe/napitrace.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe.h"
#include "host/journal.h"
#include "util/file.h"
#include "util/log.h"

#include "util/banned.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define EVENT_DIR "events/napi/napi_poll"
/* What trace_pipe is read with. The kernel formats at most two pages of
 * lines per read() and never cuts a line when the buffer is larger. */
#define READ_SIZE (64 * 1024)
/* A bound on one rtv_napitrace_read() under a flood (reads of READ_SIZE). */
#define READS_MAX 4096
/* An event line is about 150 bytes; a longer line is not one we parse. */
#define LINE_MAX_LEN 1024
/* The instance's directory, and any path in it. */
#define DIR_LEN 512
#define PATH_LEN (DIR_LEN + 320)

struct rtv_napitrace {
	char dir[DIR_LEN];   /* TRACEFS/instances/NAME; empty when not made */
	size_t mark;         /* the journal's mark just before our entry */
	struct rtv_napitrace_row rows[RTV_NAPITRACE_ROWS_MAX];
	int nrows;
	uint64_t unstored;   /* events of pairs that found no free row */
	char *buf;           /* READ_SIZE + 1 */
	size_t carry;        /* bytes of a line not yet ended, at buf[0] */
};

/* One napi_poll event line, parsed. */
struct napi_event {
	char dev[16];
	char comm[16];
	int32_t pid;
	uint64_t work;
	bool softirq;
};

/* ---- the parser ---- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Parse one line (NUL-terminated, no newline) of the trace output:
 *
 *   "         python3-9642    [001] ..s1.  9313.751479: napi_poll: napi poll
 *    on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64"
 *
 * The task is "%16s-%-7d" (comm right-aligned, and comm may itself have '-'
 * or spaces: the pid is what follows the last '-'); with record-tgid a
 * "(%7d)" or "(-------)" column follows it; then "[CPU]", then with irq-info
 * the flags (the third is 's' while serving a softirq, 'H' a hard interrupt
 * inside one), then the timestamp and the event's name. Returns 1 for an
 * event (*ev filled), 2 for a "CPU:N [LOST n EVENTS]" line (*lost set), 0
 * for any other line. */
static int parse_line(const char *line, struct napi_event *ev, uint64_t *lost)
{
	static const char marker[] = ": napi_poll: ";
	const char *m, *p, *end, *lb, *rb, *dash, *start;
	char *num_end;
	unsigned long long v;
	size_t n;

	if (!strncmp(line, "CPU:", 4) && strstr(line, "[LOST ")) {
		if (sscanf(strstr(line, "[LOST "), "[LOST %llu EVENTS]", &v) != 1)
			return 0;
		*lost = v;
		return 2;
	}
	if (line[0] == '#')
		return 0;
	m = strstr(line, marker);
	if (!m)
		return 0;
	memset(ev, 0, sizeof(*ev));

	/* After the marker: "... for device DEV work N budget B" */
	p = strstr(m + sizeof(marker) - 1, " for device ");
	if (!p)
		return 0;
	p += strlen(" for device ");
	end = strchr(p, ' ');
	if (!end || end == p || (size_t)(end - p) >= sizeof(ev->dev))
		return 0;
	memcpy(ev->dev, p, (size_t)(end - p));
	if (strncmp(end, " work ", 6))
		return 0;
	p = end + 6;
	if (!isdigit((unsigned char)*p))
		return 0;
	errno = 0;
	v = strtoull(p, &num_end, 10);
	if (errno || (*num_end != ' ' && *num_end != '\0'))
		return 0;
	ev->work = v;

	/* Before the marker: "COMM-PID [(TGID)] [CPU] [FLAGS] TIMESTAMP" */
	for (rb = m; rb > line && rb[-1] != ']'; rb--)
		;
	if (rb == line)
		return 0;
	rb--; /* at ']' */
	for (lb = rb; lb > line && *lb != '['; lb--)
		;
	if (*lb != '[' || !all_digits(lb + 1, (size_t)(rb - lb - 1)))
		return 0;
	/* the flags, when there are two words between ']' and the marker */
	p = rb + 1;
	while (p < m && *p == ' ')
		p++;
	end = p;
	while (end < m && *end != ' ')
		end++;
	if (end < m) { /* a second word follows: this one is the flags */
		n = (size_t)(end - p);
		ev->softirq = n >= 3 && (p[2] == 's' || p[2] == 'H');
	}
	/* the task, from the right */
	end = lb;
	while (end > line && end[-1] == ' ')
		end--;
	if (end > line && end[-1] == ')') {
		while (end > line && end[-1] != '(')
			end--;
		if (end == line)
			return 0;
		end--;
		while (end > line && end[-1] == ' ')
			end--;
	}
	for (dash = end; dash > line && dash[-1] != '-'; dash--)
		;
	if (dash == line || !all_digits(dash, (size_t)(end - dash)))
		return 0;
	errno = 0;
	v = strtoull(dash, NULL, 10);
	if (errno || v > INT32_MAX)
		return 0;
	ev->pid = (int32_t)v;
	dash--; /* at '-' */
	start = line;
	while (start < dash && *start == ' ')
		start++;
	n = (size_t)(dash - start);
	if (n >= sizeof(ev->comm))
		n = sizeof(ev->comm) - 1;
	memcpy(ev->comm, start, n);
	return 1;
}

static bool comm_unknown(const char *comm)
{
	return !strcmp(comm, "<...>") || !comm[0];
}

/* Add ev to its (device, thread) row, taking a new one while there is room.
 * -ENOSPC when there is none. */
static int tally_add(struct rtv_napitrace_row *rows, int *nrows, int max,
		     const struct napi_event *ev)
{
	struct rtv_napitrace_row *r = NULL;

	for (int i = 0; i < *nrows; i++)
		if (rows[i].pid == ev->pid && !strcmp(rows[i].dev, ev->dev)) {
			r = &rows[i];
			break;
		}
	if (!r) {
		if (*nrows >= max)
			return -ENOSPC;
		r = &rows[(*nrows)++];
		memset(r, 0, sizeof(*r));
		memcpy(r->dev, ev->dev, sizeof(r->dev));
		memcpy(r->comm, ev->comm, sizeof(r->comm));
		r->pid = ev->pid;
	} else if (comm_unknown(r->comm) && !comm_unknown(ev->comm)) {
		memcpy(r->comm, ev->comm, sizeof(r->comm));
	}
	r->polls++;
	r->work += ev->work;
	r->softirq += ev->softirq;
	return 0;
}

/* Tally the lines of text[0..len) (a last line without '\n' included). */
static void tally_text(const char *text, size_t len, struct rtv_napitrace_row *rows, int *nrows,
		       int max, uint64_t *unstored, uint64_t *lost_lines)
{
	char line[LINE_MAX_LEN];
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		struct napi_event ev;
		uint64_t lost = 0;

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			switch (parse_line(line, &ev, &lost)) {
			case 1:
				if (tally_add(rows, nrows, max, &ev) < 0)
					(*unstored)++;
				break;
			case 2:
				*lost_lines += lost;
				break;
			}
		}
		p += n + (nl != NULL);
	}
}

int rtv_napitrace_parse(const char *text, struct rtv_napitrace_row *rows, int nrows, int max,
			uint64_t *missed)
{
	uint64_t unstored = 0, lost = 0;

	if (!text || (!rows && max > 0) || nrows < 0 || max < 0 || nrows > max)
		return -EINVAL;
	tally_text(text, strlen(text), rows, &nrows, max, &unstored, &lost);
	if (missed)
		*missed += unstored + lost;
	return nrows;
}

/* ---- the tracefs instance ---- */

static int write_str(const char *path, const char *value)
{
	size_t len = strlen(value);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

static int write_in(const struct rtv_napitrace *t, const char *file, const char *value)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), "%s/%s", t->dir, file);
	return write_str(path, value);
}

/* The output the parser relies on, whatever the instance inherited from the
 * top level: "comm-pid [cpu] flags" before each event, in its text form.
 * Options a kernel does not have (fields: 6.3) are skipped. */
static int set_options(const struct rtv_napitrace *t)
{
	static const struct {
		const char *name, *value;
	} opts[] = {
		{ "context-info", "1" }, { "irq-info", "1" }, { "latency-format", "0" },
		{ "raw", "0" },          { "hex", "0" },      { "bin", "0" },
		{ "fields", "0" },
	};
	char file[64];
	int err;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		snprintf(file, sizeof(file), "options/%s", opts[i].name);
		err = write_in(t, file, opts[i].value);
		if (err < 0 && err != -ENOENT)
			return err;
	}
	return 0;
}

static bool glob_ok(const char *glob)
{
	size_t n = strlen(glob);

	return n > 0 && n < 64 && !strpbrk(glob, "\"\\\n");
}

static bool instance_name_ok(const char *name)
{
	return name && *name && strlen(name) < 128 && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

/* rmdir, waiting out a reader that still has one of its files open. */
static int remove_instance(const char *dir)
{
	for (int i = 0; i < 50; i++) {
		if (!rmdir(dir) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return -EBUSY;
}

/* ---- the "tracefs" journal kind: an instance made ---- */

static int instance_undo(int argc, char **argv)
{
	if (argc < 1 || argv[0][0] != '/')
		return -EINVAL;
	if (!rmdir(argv[0]))
		return 0;
	return errno == ENOENT ? RTV_JOURNAL_GONE : -errno;
}

/* Every tracefs mount and the instances under it. */
static int instance_snapshot(FILE *out)
{
	char line[1024], dev[256], mnt[512], type[64], path[600];
	FILE *m = fopen("/proc/self/mounts", "re");
	struct dirent *de;
	DIR *d;

	if (!m)
		return -errno;
	while (fgets(line, sizeof(line), m)) {
		if (sscanf(line, "%255s %511s %63s", dev, mnt, type) != 3 || strcmp(type, "tracefs"))
			continue;
		fprintf(out, "mount %s\n", mnt);
		snprintf(path, sizeof(path), "%s/instances", mnt);
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fprintf(out, "instance %s/%s\n", path, de->d_name);
		closedir(d);
	}
	fclose(m);
	return 0;
}

static const struct rtv_journal_kind instance_kind = {
	.name = "tracefs", .undo = instance_undo, .snapshot = instance_snapshot,
};
RTV_JOURNAL_KIND(instance_kind)

int rtv_napitrace_start(struct rtv_napitrace **tp, const char *tracefs_root, const char *instance,
			const char *dev_glob)
{
	char path[PATH_LEN], filter[128];
	struct rtv_napitrace *t;
	struct statfs sfs;
	int err;

	if (!tp)
		return -EINVAL;
	*tp = NULL;
	if (!tracefs_root || !instance_name_ok(instance) || (dev_glob && !glob_ok(dev_glob)))
		return -EINVAL;
	if (statfs(tracefs_root, &sfs))
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	if (sfs.f_type != TRACEFS_MAGIC)
		return -ENOENT; /* not mounted there */
	snprintf(path, sizeof(path), "%s/%s/enable", tracefs_root, EVENT_DIR);
	if (access(path, F_OK))
		return errno == ENOENT ? -ENOENT : -errno;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->buf = malloc(READ_SIZE + 1);
	if (!t->buf) {
		free(t);
		return -ENOMEM;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/instances/%s", tracefs_root, instance) >=
	    sizeof(t->dir)) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	if (!access(path, F_OK)) {
		err = -EEXIST;
		goto fail;
	}
	t->mark = rtv_journal_mark();
	err = rtv_journal_add("tracefs", 1, (const char *const[]){ path });
	if (err < 0)
		goto fail;
	if (mkdir(path, 0755)) {
		err = -errno;
		/* Made by someone else since the check above: undoing the entry
		 * would remove theirs, so it stays (undone with the journal). */
		if (err != -EEXIST)
			rtv_journal_undo_to(t->mark);
		goto fail;
	}
	memcpy(t->dir, path, strlen(path) + 1);
	err = set_options(t);
	if (err < 0)
		goto undo;
	/* polls that found no packet are left out: a busy poller makes
	 * millions of them a second, which would flood the buffer and count
	 * nothing about who processed the packets */
	if (dev_glob)
		snprintf(filter, sizeof(filter), "work > 0 && dev_name ~ \"%s\"", dev_glob);
	else
		snprintf(filter, sizeof(filter), "work > 0");
	err = write_in(t, EVENT_DIR "/filter", filter);
	if (err < 0)
		goto undo;
	err = write_in(t, EVENT_DIR "/enable", "1");
	if (err < 0)
		goto undo;
	*tp = t;
	return 0;
undo:
	/* nothing was journaled after our entry: this removes exactly it */
	rtv_journal_undo_to(t->mark);
fail:
	free(t->buf);
	free(t);
	return err;
}

/* Sum the per-CPU counts of events the instance's buffer could not keep. */
static int count_lost(const struct rtv_napitrace *t, uint64_t *lost)
{
	char path[PATH_LEN], line[128];
	struct dirent *de;
	DIR *d;

	*lost = 0;
	snprintf(path, sizeof(path), "%s/per_cpu", t->dir);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		FILE *f;

		if (strncmp(de->d_name, "cpu", 3))
			continue;
		snprintf(path, sizeof(path), "%s/per_cpu/%s/stats", t->dir, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v;

			if (sscanf(line, "overrun: %llu", &v) == 1 ||
			    sscanf(line, "commit overrun: %llu", &v) == 1 ||
			    sscanf(line, "dropped events: %llu", &v) == 1)
				*lost += v;
		}
		fclose(f);
	}
	closedir(d);
	return 0;
}

/* Consume trace_pipe without blocking. The fd is closed before returning,
 * so that nothing of ours keeps the instance busy (rmdir answers EBUSY while
 * one of its files is open). */
static int consume(struct rtv_napitrace *t)
{
	char path[PATH_LEN];
	uint64_t lost_lines = 0; /* also in the stats, counted from there */
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/trace_pipe", t->dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < READS_MAX; i++) {
		ssize_t r = read(fd, t->buf + t->carry, READ_SIZE - t->carry);
		size_t len, whole;
		char *nl;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				err = -errno;
			break;
		}
		if (r == 0)
			break;
		len = t->carry + (size_t)r;
		t->buf[len] = '\0';
		nl = memrchr(t->buf, '\n', len);
		if (!nl) {
			/* no end in a whole buffer: not a line of ours */
			t->carry = len == READ_SIZE ? 0 : len;
			continue;
		}
		whole = (size_t)(nl - t->buf) + 1;
		tally_text(t->buf, whole, t->rows, &t->nrows, RTV_NAPITRACE_ROWS_MAX, &t->unstored,
			   &lost_lines);
		t->carry = len - whole;
		memmove(t->buf, t->buf + whole, t->carry);
	}
	close(fd);
	return err;
}

int rtv_napitrace_read(struct rtv_napitrace *t, struct rtv_napitrace_row *rows, int max,
		       uint64_t *missed)
{
	uint64_t lost = 0;
	int err;

	if (!t || max < 0 || (!rows && max > 0))
		return -EINVAL;
	err = consume(t);
	if (err < 0)
		return err;
	err = count_lost(t, &lost);
	if (err < 0)
		return err;
	for (int i = 0; i < t->nrows; i++) {
		struct rtv_napitrace_row *r = &t->rows[i];
		char path[64], comm[64];

		if (!comm_unknown(r->comm) || r->pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", r->pid);
		if (!rtv_file_read_line(path, comm, sizeof(comm)) && comm[0])
			snprintf(r->comm, sizeof(r->comm), "%.15s", comm);
	}
	for (int i = 0; i < t->nrows && i < max; i++)
		rows[i] = t->rows[i];
	if (missed)
		*missed = lost + t->unstored;
	return t->nrows;
}

void rtv_napitrace_free(struct rtv_napitrace *t)
{
	int err;

	if (!t)
		return;
	if (t->dir[0]) {
		write_in(t, EVENT_DIR "/enable", "0");
		if (rtv_journal_mark() == t->mark + 1 && !access(t->dir, F_OK)) {
			/* Our entry is the newest (had it been undone, the
			 * instance would be gone): undo it, which removes the
			 * instance and the entry both. */
			rtv_journal_undo_to(t->mark);
		} else {
			/* Others' entries came after ours: leave ours, which
			 * will find nothing to remove, and theirs alone. */
			err = remove_instance(t->dir);
			if (err < 0)
				rtv_warn("cannot remove tracefs instance '%s': %s", t->dir,
					 strerror(-err));
		}
	}
	free(t->buf);
	free(t);
}

/* ---- the napitrace probe: who polled the RT devices' NAPIs ----
 *
 * napi:napi_poll with work on the RT devices (rtv?0), in a tracefs instance
 * of its own for the run: the share of polls made in softirq, by a poller
 * thread of rtvnet ("rtv-poll...") and by a NAPI kthread ("napi/..."). Needs
 * tracefs mounted; its buffer is drained while the run goes. */
struct napitrace_state {
	struct rtv_napitrace *nt; /* the parent's */
	uint64_t polls;
	double softirq_pct, poller_pct, kthread_pct;
};

static int napitrace_check(const void *cfg, char *why, size_t len)
{
	(void)cfg;
	if (access(RTV_TRACEFS_ROOT "/events/napi/napi_poll", F_OK)) {
		snprintf(why, len, "tracefs is not mounted at %s: no napi_poll evidence of who "
			 "processes the RT packets (mount -t tracefs nodev %s)", RTV_TRACEFS_ROOT,
			 RTV_TRACEFS_ROOT);
		return -ENOENT;
	}
	return 0;
}

static int napitrace_start(struct rtv_pctx *c)
{
	const struct rtv_testbed *tb = c->tb;
	struct napitrace_state *st = c->state;
	char inst[32], glob[32];

	st->softirq_pct = st->poller_pct = st->kthread_pct = NAN;
	if (!tb)
		return -ENOENT;
	snprintf(inst, sizeof(inst), "rtvnet-%d", getpid());
	snprintf(glob, sizeof(glob), "%.12s", tb->rt_client.dev);
	glob[strlen(glob) - 2] = '?'; /* rtvc0 and rtvs0: "rtv?0" */
	if (rtv_napitrace_start(&st->nt, RTV_TRACEFS_ROOT, inst, glob) < 0)
		st->nt = NULL; /* no evidence this run: the metrics stay NaN */
	return 0;
}

static int napitrace_poll(struct rtv_pctx *c, int timeout_ms)
{
	struct napitrace_state *st = c->state;

	(void)timeout_ms;
	if (st->nt)
		rtv_napitrace_read(st->nt, NULL, 0, NULL); /* keep the buffer from filling */
	return 0;
}

static void napitrace_collect(struct rtv_pctx *c)
{
	static struct rtv_napitrace_row rows[RTV_NAPITRACE_ROWS_MAX];
	struct napitrace_state *st = c->state;
	uint64_t sirq = 0, poller = 0, kthr = 0, all = 0;
	int n;

	if (!st->nt)
		return;
	n = rtv_napitrace_read(st->nt, rows, RTV_NAPITRACE_ROWS_MAX, NULL);
	for (int i = 0; i < n && i < RTV_NAPITRACE_ROWS_MAX; i++) {
		all += rows[i].polls;
		sirq += rows[i].softirq;
		if (!strncmp(rows[i].comm, "rtv-poll", 8))
			poller += rows[i].polls - rows[i].softirq;
		else if (!strncmp(rows[i].comm, "napi/", 5))
			kthr += rows[i].polls - rows[i].softirq;
	}
	st->polls = all;
	st->softirq_pct = all ? 100.0 * (double)sirq / (double)all : NAN;
	st->poller_pct = all ? 100.0 * (double)poller / (double)all : NAN;
	st->kthread_pct = all ? 100.0 * (double)kthr / (double)all : NAN;
}

static void napitrace_stop(struct rtv_pctx *c)
{
	struct napitrace_state *st = c->state;

	rtv_napitrace_free(st->nt);
	st->nt = NULL;
}

#define S(f) offsetof(struct napitrace_state, f)
static const struct rtv_metric napitrace_metrics[] = {
	{ .key = "rt_polls", .run_key = "rt_napi_polls.polls_with_work", .type = RTV_METRIC_U64,
	  .off = S(polls), .run_only = true },
	{ .key = "rt_polls_softirq_pct", .run_key = "rt_napi_polls.softirq_pct", .off = S(softirq_pct),
	  .col = { { .table = 2, .pos = 80, .head = "RT polls s/p/k %", .width = 16 } } },
	{ .key = "rt_polls_poller_pct", .run_key = "rt_napi_polls.poller_pct", .off = S(poller_pct),
	  .col = { { .table = 2, .pos = 80, .join = "/" } } },
	{ .key = "rt_polls_kthread_pct", .run_key = "rt_napi_polls.napi_kthread_pct",
	  .off = S(kthread_pct), .col = { { .table = 2, .pos = 80, .join = "/" } } },
};
#undef S

const struct rtv_probe rtv_probe_napitrace = {
	.name = "napitrace",
	.summary = "napi:napi_poll on the RT devices: softirq, poller thread or NAPI kthread",
	.role = RTV_PROBE_EVIDENCE,
	.metrics = napitrace_metrics,
	.nmetrics = sizeof(napitrace_metrics) / sizeof(napitrace_metrics[0]),
	.size = sizeof(struct napitrace_state),
	.check = napitrace_check,
	.start = napitrace_start,
	.poll = napitrace_poll,
	.collect = napitrace_collect,
	.stop = napitrace_stop,
};
