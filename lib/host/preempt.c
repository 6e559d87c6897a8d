/* PREEMPT_DYNAMIC's run-time switch; the "preempt" journal kind. See
 * preempt.h. */
#include "host/preempt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/journal.h"
#include "util/file.h"

#define JOURNAL_KIND "preempt"

int rtv_preempt_parse(const char *text, char *mode, size_t len)
{
	const char *a = strchr(text, '('), *b;
	size_t n;

	if (a) {
		b = strchr(++a, ')');
		if (!b)
			return -EINVAL;
	} else { /* a single word (a file that shows only the current model) */
		a = text + strspn(text, " \n");
		b = a + strcspn(a, " \n");
		if (b[strspn(b, " \n")])
			return -EINVAL; /* several words, none marked current */
	}
	n = (size_t)(b - a);
	if (!n || n >= len)
		return -EINVAL;
	memcpy(mode, a, n);
	mode[n] = '\0';
	return 0;
}

/* ROOT/sched/preempt opened with flags; through a detached debugfs mount
 * when root is the real one and debugfs is not mounted there. */
static int open_file(const char *root, int flags)
{
	char path[300];
	int fd, mnt, err;

	snprintf(path, sizeof(path), "%s/sched/preempt", root);
	fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT || strcmp(root, RTV_DEBUGFS_ROOT))
		return fd >= 0 ? fd : -errno;
	snprintf(path, sizeof(path), "%s/sched", root);
	if (!access(path, F_OK))
		return -ENOENT; /* mounted, but no PREEMPT_DYNAMIC */
	mnt = rtv_fs_detached("debugfs");
	if (mnt < 0)
		return mnt;
	fd = openat(mnt, "sched/preempt", flags | O_CLOEXEC);
	err = fd < 0 ? -errno : fd;
	close(mnt);
	return err;
}

int rtv_preempt_get(const char *root, char *mode, size_t len)
{
	char buf[128];
	ssize_t n;
	int fd = open_file(root, O_RDONLY);

	if (fd < 0)
		return fd;
	n = read(fd, buf, sizeof(buf) - 1);
	int err = n < 0 ? -errno : 0;

	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	return rtv_preempt_parse(buf, mode, len);
}

static int put(const char *root, const char *mode)
{
	int fd = open_file(root, O_WRONLY | O_TRUNC), err = 0;

	if (fd < 0)
		return fd;
	if (write(fd, mode, strlen(mode)) < 0)
		err = -errno;
	close(fd);
	return err;
}

int rtv_preempt_set_journaled(const char *root, const char *want, char *was, size_t len)
{
	char cur[32];
	int err;

	if (!want || !want[0] || strchr(want, ' ') || strlen(want) >= sizeof(cur))
		return -EINVAL;
	err = rtv_preempt_get(root, cur, sizeof(cur));
	if (err < 0)
		return err;
	if (was)
		snprintf(was, len, "%s", cur);
	if (!strcmp(cur, want))
		return 0;
	size_t mark = rtv_journal_mark();

	err = rtv_journal_add(JOURNAL_KIND, 2, (const char *const[]){ root, cur });
	if (err < 0)
		return err;
	err = put(root, want);
	if (err < 0)
		rtv_journal_undo_to(mark); /* writes cur back: harmless */
	return err;
}

const char *rtv_preempt_why(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return "the kernel refuses debugfs sched/preempt (locked down)";
	case -ENOENT:
		return "no debugfs sched/preempt (not a PREEMPT_DYNAMIC kernel)";
	case -ENODEV:
		return "no debugfs in this kernel";
	default:
		return strerror(-err);
	}
}

/* "preempt ROOT MODE": switch back. */
static int preempt_undo(int argc, char **argv)
{
	if (argc != 2 || argv[0][0] != '/')
		return -EINVAL;
	return put(argv[0], argv[1]);
}

static int preempt_snapshot(FILE *out)
{
	char mode[32];

	if (!rtv_preempt_get(RTV_DEBUGFS_ROOT, mode, sizeof(mode)))
		fprintf(out, "%s\n", mode);
	return 0;
}

static const struct rtv_journal_kind preempt_kind = {
	.name = JOURNAL_KIND, .undo = preempt_undo, .snapshot = preempt_snapshot,
};
RTV_JOURNAL_KIND(preempt_kind)
