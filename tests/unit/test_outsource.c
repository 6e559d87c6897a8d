/* Unit tests for lib/outsource: the filter installed in forked children
 * (which calls are notified, denied, passed), the supervisor answering them
 * with a helper in this namespace (flags passed through, statistics), a
 * forged notification id and a caller killed mid-request (ENOENT, no fd
 * leaked), a closed listener (ENOSYS: fails closed) and a second listener
 * (EBUSY). No namespace or cgroup is changed: it runs unprivileged too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outsource/outsource.h"
#include "util/kernel.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* What a child under the filter saw, written to a pipe. */
struct seen {
	int inet_fd, inet_errno, inet_nonblock, inet_cloexec;
	int inet6_fd, inet6_errno, inet6_cloexec;
	int unix_fd, unix_errno;
	int uring_errno;
	int x32_errno;
	int enter_err;
};

static volatile sig_atomic_t child_done;

static void on_chld(int sig)
{
	(void)sig;
	child_done = 1;
}

static void child_calls(int chan, int out)
{
	struct seen s;
	int fd;

	memset(&s, 0, sizeof(s));
	s.enter_err = rtv_outsource_child_enter(chan);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s.inet_fd = fd;
	s.inet_errno = fd < 0 ? errno : 0;
	if (fd >= 0) {
		s.inet_nonblock = !!(fcntl(fd, F_GETFL) & O_NONBLOCK);
		s.inet_cloexec = !!(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	s.inet6_fd = fd;
	s.inet6_errno = fd < 0 ? errno : 0;
	if (fd >= 0) {
		s.inet6_cloexec = !!(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	s.unix_fd = fd;
	s.unix_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	s.uring_errno = syscall(__NR_io_uring_setup, 4, NULL) < 0 ? errno : 0;
	s.x32_errno = syscall(0x40000000 | __NR_socket, AF_INET, SOCK_DGRAM, 0) < 0 ? errno : 0;
	if (write(out, &s, sizeof(s)) != (ssize_t)sizeof(s))
		_exit(3);
	_exit(0);
}

/* The supervisor answers a child's calls: AF_INET/AF_INET6 outsourced with
 * their flags, AF_UNIX untouched, io_uring_setup and x32 denied. */
static void test_supervised_child(void **state)
{
	struct rtv_outsource_cfg cfg = { .uid = (uid_t)-1, .gid = (gid_t)-1, .sync_wakeup = true };
	struct rtv_outsource_stats st;
	struct rtv_outsource *o;
	struct sigaction sa = { .sa_handler = on_chld };
	struct seen s;
	int chan[2], p[2], status, fds0, r;
	pid_t pid;

	(void)state;
	fds0 = count_fds();
	sigaction(SIGCHLD, &sa, NULL);
	child_done = 0;
	assert_int_equal(rtv_outsource_new(&cfg, &o), 0);
	assert_true(rtv_outsource_helper_pid(o) > 0);
	assert_int_equal(rtv_outsource_channel(chan), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(chan[0]);
		close(p[0]);
		child_calls(chan[1], p[1]);
	}
	close(chan[1]);
	close(p[1]);
	assert_int_equal(rtv_outsource_add_child(o, chan[0], pid), 0);
	if (rtv_kernel_at_least(5, 19)) /* the flag is dropped before, and that is recorded */
		assert_true(rtv_outsource_features(o) & RTV_OUTSOURCE_WAIT_KILLABLE);
	if (rtv_kernel_at_least(6, 6))
		assert_true(rtv_outsource_features(o) & RTV_OUTSOURCE_SYNC_WAKEUP);
	do
		r = rtv_outsource_run(o, &child_done);
	while (r == -EINTR);
	assert_true(r == 0 || r == 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read(p[0], &s, sizeof(s)), (ssize_t)sizeof(s));
	close(p[0]);
	assert_int_equal(s.enter_err, 0);
	assert_true(s.inet_fd >= 0);
	assert_int_equal(s.inet_nonblock, 1);
	assert_int_equal(s.inet_cloexec, 1);
	assert_true(s.inet6_fd >= 0);
	assert_int_equal(s.inet6_cloexec, 0);
	assert_true(s.unix_fd >= 0);
	assert_int_equal(s.uring_errno, EPERM);
	assert_int_equal(s.x32_errno, EPERM);
	rtv_outsource_stats(o, &st);
	assert_int_equal(st.notifications, 2); /* AF_UNIX was not */
	assert_int_equal(st.sockets, 2);
	assert_int_equal(st.refused, 0);
	assert_int_equal(st.skipped, 0);
	rtv_outsource_free(o);
	signal(SIGCHLD, SIG_DFL);
	assert_int_equal(count_fds(), fds0);
}

/* A child under the filter that blocks in socket(); the parent takes its
 * listener with pidfd_getfd. Returns the child's pid, the listener in *lfd. */
static pid_t blocked_child(int *lfd)
{
	int p[2], fd, pidfd;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		fd = rtv_outsource_filter_install(NULL);
		if (write(p[1], &fd, sizeof(fd)) != (ssize_t)sizeof(fd))
			_exit(3);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		_exit(fd >= 0 ? 0 : 4);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &fd, sizeof(fd)), (ssize_t)sizeof(fd));
	close(p[0]);
	assert_true(fd >= 0);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	*lfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	assert_true(*lfd >= 0);
	return pid;
}

/* A forged id is refused (ENOENT) and installs nothing; a caller killed
 * mid-request gives ENOENT and the socket stays ours to close. */
static void test_forged_id_and_caller_gone(void **state)
{
	struct seccomp_notif_sizes sz;
	struct seccomp_notif *rq;
	uint64_t forged;
	int lfd, sock, fds0, status;
	pid_t pid;

	(void)state;
	fds0 = count_fds();
	pid = blocked_child(&lfd);
	assert_int_equal(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz), 0);
	rq = calloc(1, sz.seccomp_notif > sizeof(*rq) ? sz.seccomp_notif : sizeof(*rq));
	assert_non_null(rq);
	assert_int_equal(ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, rq), 0);
	assert_int_equal(rq->data.nr, __NR_socket);
	assert_int_equal((int)rq->data.args[0], AF_INET);
	assert_int_equal(rq->pid, pid);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sock >= 0);
	forged = rq->id + 12345;
	assert_int_equal(rtv_outsource_install_fd(lfd, forged, sock, false), -ENOENT);
	assert_int_equal(ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &forged), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &rq->id), 0);
	/* the caller dies with its request pending */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(rtv_outsource_install_fd(lfd, rq->id, sock, false), -ENOENT);
	close(sock);
	close(lfd);
	free(rq);
	assert_int_equal(count_fds(), fds0);
}

/* Without a listener the filter fails closed: AF_INET socket() returns
 * ENOSYS, AF_UNIX still works; a second listener is refused (EBUSY). */
static void test_closed_listener_fails_closed(void **state)
{
	int p[2], res[3], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = rtv_outsource_filter_install(NULL);

		close(p[0]);
		res[2] = rtv_outsource_filter_install(NULL);
		if (fd >= 0)
			close(fd); /* no supervisor any more */
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		res[0] = fd < 0 ? errno : 0;
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		res[1] = fd < 0 ? errno : 0;
		if (write(p[1], res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], res, sizeof(res)), (ssize_t)sizeof(res));
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(res[0], ENOSYS);
	assert_int_equal(res[1], 0);
	assert_int_equal(res[2], -EBUSY);
}

/* A policy without a cgroup, or without the policy module: refused before
 * anything starts. */
static void test_policy_needs_module(void **state)
{
	struct rtv_outsource_cfg cfg = { .uid = (uid_t)-1, .gid = (gid_t)-1,
					 .policy_path = "/dev/null" };
	struct rtv_outsource *o = (struct rtv_outsource *)&cfg;
	int (*hook)(const char *, const char *) = rtv_outsource_policy_attach;

	(void)state;
	assert_non_null(hook); /* the policy module, linked in, set it */
	assert_int_equal(rtv_outsource_new(&cfg, &o), -EOPNOTSUPP); /* no cgroup given */
	assert_null(o);
	rtv_outsource_policy_attach = NULL; /* a build without the module */
	cfg.cgroup_v2_dir = "/sys/fs/cgroup";
	assert_int_equal(rtv_outsource_new(&cfg, &o), -EOPNOTSUPP);
	assert_null(o);
	rtv_outsource_policy_attach = hook;
	cfg.cgroup_v2_dir = NULL;
	cfg.policy_path = NULL;
	cfg.target_netns = "no/such";
	assert_int_equal(rtv_outsource_new(&cfg, &o), -EINVAL);
	cfg.target_netns = "rtv-no-such-namespace";
	assert_int_equal(rtv_outsource_new(&cfg, &o), -ENOENT);
	rtv_outsource_free(NULL);
}

struct run_arg {
	struct rtv_outsource *o;
	int ret;
};

static void *run_thread(void *p)
{
	struct run_arg *a = p;

	a->ret = rtv_outsource_run(a->o, NULL);
	return NULL;
}

/* rtv_outsource_wake from another thread ends a run that waits (-EINTR). */
static void test_wake(void **state)
{
	struct rtv_outsource_cfg cfg = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct run_arg a = { 0 };
	pthread_t th;
	int chan[2], p[2], status;
	char c;
	pid_t pid;

	(void)state;
	assert_int_equal(rtv_outsource_new(&cfg, &a.o), 0);
	assert_int_equal(rtv_outsource_channel(chan), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(chan[0]);
		close(p[1]);
		if (rtv_outsource_child_enter(chan[1]) < 0)
			_exit(1);
		_exit(read(p[0], &c, 1) == 0 ? 0 : 2); /* until the parent closes */
	}
	close(chan[1]);
	close(p[0]);
	assert_int_equal(rtv_outsource_add_child(a.o, chan[0], pid), 0);
	assert_int_equal(pthread_create(&th, NULL, run_thread, &a), 0);
	usleep(50 * 1000);
	rtv_outsource_wake(a.o);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a.ret, -EINTR);
	close(p[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the child is gone: its listener hangs up, run says none is left */
	assert_int_equal(rtv_outsource_run(a.o, NULL), 1);
	rtv_outsource_free(a.o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supervised_child),
		cmocka_unit_test(test_forged_id_and_caller_gone),
		cmocka_unit_test(test_closed_listener_fails_closed),
		cmocka_unit_test(test_policy_needs_module),
		cmocka_unit_test(test_wake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
