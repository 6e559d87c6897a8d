/* RPS masks of network devices, through a detached sysfs mount of the
 * device's namespace; the "rps" journal kind. See rps.h. */
#include "net/rps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/journal.h"
#include "net/netns.h"
#include "util/file.h"

#define JOURNAL_KIND "rps"
#define QUEUES_MAX 64

/* ---- masks ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rtv_rps_mask_parse(const char *s, cpu_set_t *set)
{
	size_t n;
	int bit = 0, digits = 0;

	if (!s || !set)
		return -EINVAL;
	CPU_ZERO(set);
	n = strcspn(s, "\n");
	/* from the least significant digit; commas only between groups */
	for (size_t i = n; i-- > 0;) {
		int v = hexval(s[i]);

		if (s[i] == ',') {
			if (i == 0 || i == n - 1)
				return -EINVAL;
			continue;
		}
		if (v < 0)
			return -EINVAL;
		digits++;
		for (int b = 0; b < 4; b++, bit++)
			if (v & (1 << b)) {
				if (bit >= CPU_SETSIZE)
					return -ERANGE;
				CPU_SET(bit, set);
			}
	}
	return digits ? 0 : -EINVAL;
}

int rtv_rps_mask_format(const cpu_set_t *set, int ncpus, char *buf, size_t len)
{
	int groups = ncpus > 0 ? (ncpus + 31) / 32 : 1;
	size_t n = 0;

	if (!set || !buf || groups * 32 > CPU_SETSIZE)
		return -EINVAL;
	for (int g = groups - 1; g >= 0; g--) {
		unsigned v = 0;

		for (int b = 0; b < 32; b++)
			if (CPU_ISSET(g * 32 + b, set))
				v |= 1u << b;
		int w = snprintf(buf + n, n < len ? len - n : 0, "%s%08x", n ? "," : "", v);

		n += (size_t)w;
	}
	if (n >= len)
		return -ENOSPC;
	return (int)n;
}

/* ---- sysfs of a namespace ---- */

/* A detached sysfs mount made in the calling thread's network namespace. */
static int sysfs_here(void *arg)
{
	int *out = arg, mnt = rtv_fs_detached("sysfs");

	if (mnt < 0)
		return mnt;
	*out = mnt;
	return 0;
}

/* An fd of class/net/DEV/queues under the sysfs mount mnt, or -errno. */
static int queues_dir_at(int mnt, const char *dev)
{
	char path[64];
	int fd;

	if (!dev || !dev[0] || strchr(dev, '/') || strlen(dev) > 15)
		return -EINVAL;
	snprintf(path, sizeof(path), "class/net/%s/queues", dev);
	fd = openat(mnt, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	return fd;
}

/* An fd of netns's class/net/DEV/queues directory, or -errno. */
static int queues_dir(const char *netns, const char *dev)
{
	int mnt = -1, err;

	if (!dev || !dev[0] || strchr(dev, '/') || strlen(dev) > 15)
		return -EINVAL;
	if (netns && !rtv_netns_exists(netns))
		return -ENOENT;
	err = netns ? rtv_netns_run(netns, sysfs_here, &mnt) : sysfs_here(&mnt);
	if (err < 0)
		return err;
	err = queues_dir_at(mnt, dev);
	close(mnt); /* the open directory keeps the mount alive */
	return err;
}

static int read_mask(int qdir, const char *queue, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/rps_cpus", queue);
	fd = openat(qdir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	int err = n < 0 ? -errno : 0;

	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_mask(int qdir, const char *queue, const char *mask)
{
	char path[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/rps_cpus", queue);
	fd = openat(qdir, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, mask, strlen(mask));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/* The names of dev's receive queues ("rx-0", ...). */
static int rx_queues(int qdir, char (*names)[16], int max)
{
	int fd = dup(qdir), n = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) && n < max)
		if (!strncmp(de->d_name, "rx-", 3) && strlen(de->d_name) < 16)
			snprintf(names[n++], 16, "%s", de->d_name);
	closedir(d);
	return n;
}

int rtv_rps_get(const char *netns, const char *dev, cpu_set_t *set)
{
	char buf[256];
	int q, err;

	if (!set)
		return -EINVAL;
	q = queues_dir(netns, dev);
	if (q < 0)
		return q;
	err = read_mask(q, "rx-0", buf, sizeof(buf));
	close(q);
	if (err == -ENOENT)
		return -ENOENT; /* no RPS in this kernel */
	return err < 0 ? err : rtv_rps_mask_parse(buf, set);
}

int rtv_rps_set_journaled(const char *netns, const char *dev, const cpu_set_t *set)
{
	char names[QUEUES_MAX][16], old[256], mask[256];
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	int q, n, err;

	if (!set)
		return -EINVAL;
	err = rtv_rps_mask_format(set, (int)ncpus, mask, sizeof(mask));
	if (err < 0)
		return err;
	q = queues_dir(netns, dev);
	if (q < 0)
		return q;
	n = rx_queues(q, names, QUEUES_MAX);
	err = n < 0 ? n : n == 0 ? -ENOENT : 0;
	for (int i = 0; i < n && !err; i++) {
		cpu_set_t cur;

		err = read_mask(q, names[i], old, sizeof(old));
		if (err < 0)
			break;
		if (!rtv_rps_mask_parse(old, &cur) && CPU_EQUAL(&cur, set))
			continue;
		err = rtv_journal_add(JOURNAL_KIND, 4,
				      (const char *const[]){ netns ? netns : "-", dev, names[i], old });
		if (!err)
			err = write_mask(q, names[i], mask);
	}
	close(q);
	return err;
}

/* "rps NETNS DEV QUEUE MASK": write the old mask back. */
static int rps_undo(int argc, char **argv)
{
	const char *netns;
	int q, err;

	if (argc != 4 || strncmp(argv[2], "rx-", 3) || strchr(argv[2], '/'))
		return -EINVAL;
	netns = strcmp(argv[0], "-") ? argv[0] : NULL;
	q = queues_dir(netns, argv[1]);
	if (q == -ENOENT || q == -ENODEV)
		return RTV_JOURNAL_GONE;
	if (q < 0)
		return q;
	err = write_mask(q, argv[2], argv[3]);
	close(q);
	return err == -ENOENT ? RTV_JOURNAL_GONE : err;
}

/* Every device's receive queues' masks, in every namespace: one sysfs
 * mount per namespace (the devices come namespace by namespace). */
struct snap {
	FILE *out;
	char ns[64];
	int mnt;
};

static int put_rps(const char *ns, unsigned ifindex, const char *dev, void *arg)
{
	char names[QUEUES_MAX][16], mask[256];
	struct snap *sn = arg;
	int q, n;

	(void)ifindex;
	if (sn->mnt < 0 || strcmp(sn->ns, ns)) {
		if (sn->mnt >= 0)
			close(sn->mnt);
		sn->mnt = rtv_fs_detached("sysfs"); /* the thread is in ns already */
		snprintf(sn->ns, sizeof(sn->ns), "%s", ns);
		if (sn->mnt < 0)
			return 0;
	}
	q = queues_dir_at(sn->mnt, dev);
	if (q < 0)
		return 0;
	n = rx_queues(q, names, QUEUES_MAX);
	for (int i = 0; i < n; i++)
		if (!read_mask(q, names[i], mask, sizeof(mask)))
			fprintf(sn->out, "%s %s %s %s\n", ns, dev, names[i], mask);
	close(q);
	return 0;
}

static int rps_snapshot(FILE *out)
{
	struct snap sn = { .out = out, .mnt = -1 };
	int err = rtv_netns_each_dev(put_rps, &sn);

	if (sn.mnt >= 0)
		close(sn.mnt);
	return err;
}

static const struct rtv_journal_kind rps_kind = {
	.name = JOURNAL_KIND, .undo = rps_undo, .snapshot = rps_snapshot,
};
RTV_JOURNAL_KIND(rps_kind)
