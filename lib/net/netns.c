#include "net/netns.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/journal.h"

static void ns_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", RTV_NETNS_DIR, name);
}

bool rtv_netns_exists(const char *name)
{
	char path[256];

	ns_path(name, path, sizeof(path));
	return access(path, F_OK) == 0;
}

int rtv_netns_add(const char *name)
{
	char path[256];
	int fd, err, status;
	pid_t pid;

	ns_path(name, path, sizeof(path));
	if (mkdir(RTV_NETNS_DIR, 0755) && errno != EEXIST)
		return -errno;
	if (rtv_netns_exists(name))
		return -EEXIST;
	err = rtv_journal_add("netns", 1, (const char *const[]){ name });
	if (err < 0)
		return err;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	close(fd);
	/* A child makes the namespace and pins it with a bind mount, so that
	 * this process never leaves its own. */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (unshare(CLONE_NEWNET))
			_exit(errno);
		if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL))
			_exit(errno);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return WIFEXITED(status) ? -WEXITSTATUS(status) : -ECHILD;
	return 0;
}

int rtv_netns_open(const char *name)
{
	char path[256];
	int fd;

	ns_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int rtv_netns_enter(const char *name)
{
	int fd = rtv_netns_open(name), err = 0;

	if (fd < 0)
		return fd;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

int rtv_netns_run(const char *name, int (*fn)(void *arg), void *arg)
{
	int self, err, ret;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	err = rtv_netns_enter(name);
	if (err < 0) {
		close(self);
		return err;
	}
	ret = fn(arg);
	if (setns(self, CLONE_NEWNET))
		ret = -errno;
	close(self);
	return ret;
}

struct each_ctx {
	const char *ns;
	int (*fn)(const char *ns, unsigned ifindex, const char *dev, void *arg);
	void *arg;
};

static int each_dev_here(void *arg)
{
	struct each_ctx *c = arg;
	struct if_nameindex *ifs = if_nameindex(), *i;
	int err = 0, e;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		e = c->fn(c->ns, i->if_index, i->if_name, c->arg);
		if (e < 0 && !err)
			err = e;
	}
	if_freenameindex(ifs);
	return err;
}

int rtv_netns_each_dev(int (*fn)(const char *ns, unsigned ifindex, const char *dev, void *arg),
		       void *arg)
{
	struct each_ctx c = { .ns = "-", .fn = fn, .arg = arg };
	struct dirent *de;
	DIR *d;
	int err = each_dev_here(&c), e;

	d = opendir(RTV_NETNS_DIR);
	if (!d)
		return err;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		c.ns = de->d_name;
		e = rtv_netns_run(de->d_name, each_dev_here, &c);
		if (e < 0 && e != -EINVAL && e != -ENOENT && !err)
			err = e;
	}
	closedir(d);
	return err;
}

/* "netns NAME": delete the namespace (its devices go with it). */
static int netns_undo(int argc, char **argv)
{
	char path[300];
	int err = 0;

	if (argc < 1 || !*argv[0] || strchr(argv[0], '/'))
		return -EINVAL;
	ns_path(argv[0], path, sizeof(path));
	if (access(path, F_OK))
		return RTV_JOURNAL_GONE;
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		err = -errno;
	if (unlink(path) && errno != ENOENT)
		err = -errno;
	return err;
}

static int put_dev(const char *ns, unsigned ifindex, const char *dev, void *arg)
{
	struct ifreq ifr;
	FILE *out = arg;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = -1, flags = 0;

	(void)ifindex;
	if (fd >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
		if (!ioctl(fd, SIOCGIFMTU, &ifr))
			mtu = ifr.ifr_mtu;
		if (!ioctl(fd, SIOCGIFFLAGS, &ifr))
			flags = ifr.ifr_flags;
		close(fd);
	}
	fprintf(out, "dev %s %s mtu %d %s\n", ns, dev, mtu, flags & IFF_UP ? "up" : "down");
	return 0;
}

/* Every named namespace, and every namespace's devices. */
static int netns_snapshot(FILE *out)
{
	struct dirent *de;
	DIR *d = opendir(RTV_NETNS_DIR);

	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fprintf(out, "ns %s\n", de->d_name);
		closedir(d);
	}
	return rtv_netns_each_dev(put_dev, out);
}

static const struct rtv_journal_kind netns_kind = {
	.name = "netns", .undo = netns_undo, .snapshot = netns_snapshot,
};
RTV_JOURNAL_KIND(netns_kind)
