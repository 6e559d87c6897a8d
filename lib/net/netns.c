#include "net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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
	err = rtv_journal_add_netns(name);
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
