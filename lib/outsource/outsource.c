#include "outsource/outsource.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/journal.h"
#include "host/proc.h"
#include "util/time.h"
#include "util/banned.h"

/* Debian 12's headers lack the newer ones. */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

#if !defined(__x86_64__)
#error "the outsourcing filter is written for x86-64"
#endif

/* ---- the filter ---- */

#define ARG0_LO offsetof(struct seccomp_data, args[0]) /* little-endian: the int domain */
#define DENY (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

static const struct sock_filter filter_code[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	/* 2 */ BPF_STMT(BPF_RET | BPF_K, DENY), /* i386 (socketcall) and anything else */
	/* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, __X32_SYSCALL_BIT, 0, 1),
	/* 5 */ BPF_STMT(BPF_RET | BPF_K, DENY), /* x32 */
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
	/* 7 */ BPF_STMT(BPF_RET | BPF_K, DENY),
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0),
	/* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 10: the kernel reads the domain as an int: the low word only */
	/* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO),
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0),
	/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0),
	/* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
};

static int rtv_seccomp(unsigned op, unsigned flags, void *arg)
{
	return (int)syscall(SYS_seccomp, op, flags, arg);
}

int rtv_outsource_filter_install(unsigned *features)
{
	struct sock_fprog prog = {
		.len = sizeof(filter_code) / sizeof(filter_code[0]),
		.filter = (struct sock_filter *)filter_code,
	};
	unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	int fd;

	if (features)
		*features = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	fd = rtv_seccomp(SECCOMP_SET_MODE_FILTER, (unsigned)flags, &prog);
	if (fd < 0 && errno == EINVAL) { /* before 5.19 */
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = rtv_seccomp(SECCOMP_SET_MODE_FILTER, (unsigned)flags, &prog);
	}
	if (fd < 0)
		return -errno;
	if (features && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
		*features |= RTV_OUTSOURCE_WAIT_KILLABLE;
	/* the kernel makes the listener O_CLOEXEC already; say it */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* ---- fds over AF_UNIX ---- */

/* Send data (len bytes) and, when fd >= 0, fd. 0 or -errno. */
static int send_with_fd(int sock, const void *data, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EPROTO;
}

/* Receive exactly len bytes and at most one fd (*fd, -1 when none came; any
 * extra is closed). 0 or -errno; -EPIPE when the peer closed. */
static int recv_with_fd(int sock, void *data, size_t len, int *fd)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < nfd; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)len || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	return 0;
}

int rtv_outsource_channel(int chan[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) ? -errno : 0;
}

/* What rtv_outsource_child_enter sends with the listener: the child's own
 * namespace, read before its filter was in place (the parent cannot read it
 * from /proc once the child has exited, which it may do at once). */
struct child_msg {
	int32_t err;
	uint32_t features;
	uint64_t ns_dev, ns_ino;
};

int rtv_outsource_child_enter(int chan)
{
	struct child_msg m = { 0 };
	struct stat st;
	int fd, err;

	if (stat("/proc/self/ns/net", &st)) {
		m.err = -errno;
		fd = -1;
	} else {
		m.ns_dev = st.st_dev;
		m.ns_ino = st.st_ino;
		fd = rtv_outsource_filter_install(&m.features);
		m.err = fd < 0 ? fd : 0;
	}
	err = send_with_fd(chan, &m, sizeof(m), fd);
	if (fd >= 0)
		close(fd);
	close(chan);
	return fd < 0 ? fd : err;
}

/* ---- the helper: makes the sockets ---- */

struct helper_req {
	int32_t domain, type, protocol;
};

struct helper_reply {
	int32_t err; /* 0: the socket comes with it */
};

/* The helper's loop, in the forked child: one request, one socket. It never
 * returns. Everything it runs is async-signal-safe: its parent may have
 * threads. */
static void helper_main(int sock, const char *procs, int netns_fd, uid_t uid, gid_t gid,
			pid_t parent)
{
	struct helper_req rq;
	struct helper_reply rp = { 0 };
	int fd, e;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(1); /* the parent died before the line above */
	prctl(PR_SET_NAME, "rtv-osock", 0, 0, 0);
	if (procs[0]) {
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			rp.err = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (!rp.err && netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET))
		rp.err = -errno;
	if (!rp.err && gid != (gid_t)-1 && (setgroups(0, NULL) || setresgid(gid, gid, gid)))
		rp.err = -errno;
	if (!rp.err && uid != (uid_t)-1 && setresuid(uid, uid, uid))
		rp.err = -errno;
	/* the uid change cleared it: a helper that can be ptraced by the
	 * container's uid would give it the helper's namespace */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (netns_fd >= 0)
		close(netns_fd);
	/* it holds nothing of its parent's but its socket */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < 3; i++)
		if (i != sock)
			dup2(fd, i);
	if (sock > 3)
		close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0U, 0);
	if (send_with_fd(sock, &rp, sizeof(rp), -1) < 0 || rp.err)
		_exit(1);
	for (;;) {
		int fdr;

		e = recv_with_fd(sock, &rq, sizeof(rq), &fdr);
		if (fdr >= 0)
			close(fdr);
		if (e == -EPIPE)
			_exit(0);
		if (e < 0)
			continue;
		fd = socket(rq.domain, rq.type | SOCK_CLOEXEC, rq.protocol);
		rp.err = fd < 0 ? -errno : 0;
		e = send_with_fd(sock, &rp, sizeof(rp), fd);
		if (fd >= 0)
			close(fd);
		if (e == -EPIPE)
			_exit(0);
	}
}

/* ---- the supervisor ---- */

int (*rtv_outsource_policy_attach)(const char *policy_path, const char *cgroup_v2_dir);

struct listener {
	int fd;
	pid_t pid;
	dev_t ns_dev; /* the container's network namespace */
	ino_t ns_ino;
};

struct rtv_outsource {
	int epfd;
	int wakefd; /* eventfd: rtv_outsource_wake */
	int helper_sock; /* -1 once the helper is gone */
	pid_t helper_pid;
	unsigned features;
	bool sync_wakeup, sync_failed, sync_set;
	char *policy_path;
	struct listener *l;
	size_t nl, cap;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	struct rtv_outsource_stats st;
};

int rtv_outsource_new(const struct rtv_outsource_cfg *cfg, struct rtv_outsource **out)
{
	struct seccomp_notif_sizes sizes;
	struct helper_reply rp;
	struct rtv_outsource *o;
	char procs[600] = "";
	int sv[2] = { -1, -1 }, nsfd = -1, err, fdr;
	pid_t parent = getpid();

	*out = NULL;
	if (cfg->policy_path && (!rtv_outsource_policy_attach || !cfg->cgroup_v2_dir))
		return -EOPNOTSUPP;
	if (rtv_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sizes))
		return -errno;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->epfd = o->helper_sock = o->wakefd = -1;
	o->sync_wakeup = cfg->sync_wakeup;
	o->req_size = sizes.seccomp_notif > sizeof(*o->req) ? sizes.seccomp_notif : sizeof(*o->req);
	o->resp_size = sizes.seccomp_notif_resp > sizeof(*o->resp) ? sizes.seccomp_notif_resp
								    : sizeof(*o->resp);
	o->req = calloc(1, o->req_size);
	o->resp = calloc(1, o->resp_size);
	if (cfg->policy_path)
		o->policy_path = strdup(cfg->policy_path);
	err = -ENOMEM;
	if (!o->req || !o->resp || (cfg->policy_path && !o->policy_path))
		goto fail;
	o->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (o->epfd < 0)
		goto fail_errno;
	o->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->wakefd < 0)
		goto fail_errno;
	if (epoll_ctl(o->epfd, EPOLL_CTL_ADD, o->wakefd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.fd = o->wakefd }))
		goto fail_errno;
	if (cfg->target_netns) {
		char p[300];

		if (!cfg->target_netns[0] || strchr(cfg->target_netns, '/')) {
			err = -EINVAL;
			goto fail;
		}
		snprintf(p, sizeof(p), "/run/netns/%s", cfg->target_netns);
		nsfd = open(p, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			goto fail_errno;
	}
	if (cfg->cgroup_v2_dir) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cfg->cgroup_v2_dir);
		if (access(procs, W_OK))
			goto fail_errno;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		goto fail_errno;
	o->helper_pid = fork();
	if (o->helper_pid < 0)
		goto fail_errno;
	if (o->helper_pid == 0) {
		close(sv[0]);
		helper_main(sv[1], procs, nsfd, cfg->uid, cfg->gid, parent);
	}
	close(sv[1]);
	sv[1] = -1;
	o->helper_sock = sv[0];
	sv[0] = -1;
	/* journaled before it may change anything: it waits for nothing, but it
	 * only joins a cgroup and a namespace, which its death undoes */
	if (rtv_journal_is_open()) {
		err = rtv_proc_journal_add(o->helper_pid);
		if (err < 0)
			goto fail;
	}
	err = recv_with_fd(o->helper_sock, &rp, sizeof(rp), &fdr);
	if (fdr >= 0)
		close(fdr);
	if (!err)
		err = rp.err;
	if (err < 0)
		goto fail;
	/* policy attaches here: the policy module (lib/outsource/policy, built
	 * apart) attaches its cgroup sock_addr programs to cfg->cgroup_v2_dir,
	 * where the helper now lives, before the helper makes its first socket
	 * (it makes none before the first listener is served) */
	if (o->policy_path) {
		err = rtv_outsource_policy_attach && cfg->cgroup_v2_dir
			      ? rtv_outsource_policy_attach(o->policy_path, cfg->cgroup_v2_dir)
			      : -EOPNOTSUPP;
		if (err < 0)
			goto fail;
	}
	if (nsfd >= 0)
		close(nsfd);
	*out = o;
	return 0;
fail_errno:
	err = -errno;
fail:
	if (nsfd >= 0)
		close(nsfd);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	rtv_outsource_free(o);
	return err;
}

static int ns_of(pid_t pid, dev_t *dev, ino_t *ino)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	if (stat(p, &st))
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static int add_listener(struct rtv_outsource *o, int listener_fd, pid_t pid, const dev_t *dev,
			const ino_t *ino)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct listener *l;
	int err = 0;

	if (o->nl == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 4;
		struct listener *n = realloc(o->l, cap * sizeof(*n));

		if (!n) {
			close(listener_fd);
			return -ENOMEM;
		}
		o->l = n;
		o->cap = cap;
	}
	l = &o->l[o->nl];
	l->fd = listener_fd;
	l->pid = pid;
	if (dev) {
		l->ns_dev = *dev;
		l->ns_ino = *ino;
	} else {
		err = ns_of(pid, &l->ns_dev, &l->ns_ino);
	}
	if (err < 0)
		goto fail;
	if (o->sync_wakeup) {
		if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			  (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP))
			o->sync_failed = true; /* before 6.6: EINVAL; recorded, not fatal */
		else
			o->sync_set = true;
	}
	ev.data.fd = listener_fd;
	if (epoll_ctl(o->epfd, EPOLL_CTL_ADD, listener_fd, &ev)) {
		err = -errno;
		goto fail;
	}
	o->nl++;
	return 0;
fail:
	close(listener_fd);
	return err;
}

int rtv_outsource_add_listener(struct rtv_outsource *o, int listener_fd, pid_t pid)
{
	return add_listener(o, listener_fd, pid, NULL, NULL);
}

int rtv_outsource_add_child(struct rtv_outsource *o, int chan, pid_t pid)
{
	struct child_msg m;
	dev_t dev;
	ino_t ino;
	int fd, err;

	err = recv_with_fd(chan, &m, sizeof(m), &fd);
	close(chan);
	if (err < 0)
		goto out;
	if (m.err < 0 || fd < 0) {
		err = m.err < 0 ? m.err : -EPROTO;
		goto out;
	}
	rtv_outsource_note_features(o, m.features);
	dev = (dev_t)m.ns_dev;
	ino = (ino_t)m.ns_ino;
	err = add_listener(o, fd, pid, &dev, &ino);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int rtv_outsource_install_fd(int listener, uint64_t id, int fd, bool cloexec)
{
	struct seccomp_notif_addfd a = {
		.id = id,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
		.srcfd = (uint32_t)fd,
		.newfd = 0,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);

	return r < 0 ? -errno : r;
}

/* Answer id with error err (< 0), or let the call run (err 0: CONTINUE).
 * Whether the caller is still there does not matter: -ENOENT is its end. */
static int answer(struct rtv_outsource *o, int listener, uint64_t id, int err)
{
	memset(o->resp, 0, o->resp_size);
	o->resp->id = id;
	o->resp->error = err;
	o->resp->val = 0;
	o->resp->flags = err ? 0 : SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, o->resp) ? -errno : 0;
}

/* Ask the helper for a socket: the fd or -errno. */
static int helper_socket(struct rtv_outsource *o, int domain, int type, int protocol)
{
	struct helper_req rq = { .domain = domain, .type = type, .protocol = protocol };
	struct helper_reply rp;
	int err, fd;

	if (o->helper_sock < 0)
		return -ENETDOWN;
	err = send_with_fd(o->helper_sock, &rq, sizeof(rq), -1);
	if (!err)
		err = recv_with_fd(o->helper_sock, &rp, sizeof(rp), &fd);
	if (err < 0) { /* the helper died: every later call is refused */
		close(o->helper_sock);
		o->helper_sock = -1;
		return -ENETDOWN;
	}
	if (rp.err < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return rp.err < 0 ? rp.err : -EPROTO;
	}
	return fd;
}

/* One notification of listener l. */
static void handle_notif(struct rtv_outsource *o, struct listener *l)
{
	struct seccomp_notif *rq = o->req;
	int64_t t0;
	dev_t dev;
	ino_t ino;
	int domain, type, protocol, fd, r;

	memset(rq, 0, o->req_size); /* RECV wants it zeroed */
	if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, rq)) {
		if (errno == ENOENT) /* the caller went between poll and here */
			o->st.gone++;
		return;
	}
	t0 = rtv_now_ns();
	o->st.notifications++;
	/* the filter notifies nothing else; a kernel that did would get EPERM */
	if (rq->data.arch != AUDIT_ARCH_X86_64 || rq->data.nr != __NR_socket) {
		if (answer(o, l->fd, rq->id, -EPERM) == -ENOENT)
			o->st.gone++;
		else
			o->st.refused++;
		return;
	}
	domain = (int)rq->data.args[0];
	type = (int)rq->data.args[1];
	protocol = (int)rq->data.args[2];
	/* A caller in a nested network namespace is not outsourced. Its
	 * namespace is read from /proc, then NOTIF_ID_VALID proves the tid was
	 * still the caller's when it was read (not a reused pid). It is let go
	 * with CONTINUE, which is safe here, unlike for a security decision:
	 * the arguments are registers the kernel re-reads from the caller, the
	 * socket is made by the kernel in the caller's own namespace with its
	 * own credentials, exactly as without a filter, so nothing the caller
	 * could change meanwhile gives it more than it has at home. */
	r = ns_of((pid_t)rq->pid, &dev, &ino);
	if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &rq->id)) {
		o->st.gone++;
		return;
	}
	if (r < 0) { /* /proc unreadable for a live caller: refuse */
		if (answer(o, l->fd, rq->id, r) == -ENOENT)
			o->st.gone++;
		else
			o->st.refused++;
		return;
	}
	if (dev != l->ns_dev || ino != l->ns_ino) {
		if (answer(o, l->fd, rq->id, 0) == -ENOENT)
			o->st.gone++;
		else
			o->st.skipped++;
		return;
	}
	fd = helper_socket(o, domain, type & ~SOCK_CLOEXEC, protocol);
	if (fd < 0) {
		if (answer(o, l->fd, rq->id, fd) == -ENOENT)
			o->st.gone++;
		else
			o->st.refused++;
		return;
	}
	r = rtv_outsource_install_fd(l->fd, rq->id, fd, type & SOCK_CLOEXEC);
	close(fd); /* the caller's copy, if any, is the socket now */
	if (r >= 0)
		o->st.sockets++;
	else if (r == -ENOENT) /* the caller or its container is gone */
		o->st.gone++;
	else if (answer(o, l->fd, rq->id, r) == -ENOENT) /* EMFILE and the like */
		o->st.gone++;
	else
		o->st.refused++;
	t0 = rtv_now_ns() - t0;
	if (t0 > o->st.max_ns)
		o->st.max_ns = t0;
}

static void drop_listener(struct rtv_outsource *o, int fd)
{
	for (size_t i = 0; i < o->nl; i++) {
		if (o->l[i].fd != fd)
			continue;
		epoll_ctl(o->epfd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		o->l[i] = o->l[--o->nl];
		return;
	}
}

/* Handle n ready events: -EINTR when the wake eventfd was among them. */
static int process_events(struct rtv_outsource *o, const struct epoll_event *ev, int n)
{
	int ret = 0;

	for (int i = 0; i < n; i++) {
		struct listener *l = NULL;

		if (ev[i].data.fd == o->wakefd) {
			uint64_t v;

			if (read(o->wakefd, &v, sizeof(v)) < 0)
				v = 0; /* drained already */
			ret = -EINTR;
			continue;
		}
		for (size_t k = 0; k < o->nl; k++)
			if (o->l[k].fd == ev[i].data.fd)
				l = &o->l[k];
		if (!l)
			continue;
		if (ev[i].events & EPOLLIN)
			handle_notif(o, l);
		else if (ev[i].events & (EPOLLHUP | EPOLLERR))
			drop_listener(o, ev[i].data.fd); /* every process under it exited */
	}
	return ret;
}

int rtv_outsource_run(struct rtv_outsource *o, const volatile sig_atomic_t *stop)
{
	struct epoll_event ev[16];
	sigset_t all, old;
	int n, ret = 0;

	/* signals only inside epoll_pwait: a handler's flag is seen at once */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (;;) {
		if (stop && *stop) {
			ret = 0;
			break;
		}
		if (!o->nl) {
			ret = 1;
			break;
		}
		n = epoll_pwait(o->epfd, ev, 16, -1, &old);
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = process_events(o, ev, n);
		if (ret == -EINTR) /* woken: the caller checks its flags */
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int rtv_outsource_fd(const struct rtv_outsource *o)
{
	return o->epfd;
}

int rtv_outsource_dispatch(struct rtv_outsource *o)
{
	struct epoll_event ev[16];
	int n, r;

	do {
		n = epoll_wait(o->epfd, ev, 16, 0);
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		r = process_events(o, ev, n);
	} while (n == 16 && r != -EINTR);
	return o->nl ? 0 : 1;
}

void rtv_outsource_wake(struct rtv_outsource *o)
{
	uint64_t one = 1;

	if (write(o->wakefd, &one, sizeof(one)) < 0)
		one = 0; /* the counter is full: it is woken anyway */
}

unsigned rtv_outsource_features(const struct rtv_outsource *o)
{
	unsigned f = o->features;

	if (o->sync_set && !o->sync_failed)
		f |= RTV_OUTSOURCE_SYNC_WAKEUP;
	return f;
}

void rtv_outsource_note_features(struct rtv_outsource *o, unsigned features)
{
	o->features |= features & RTV_OUTSOURCE_WAIT_KILLABLE;
}

void rtv_outsource_stats(const struct rtv_outsource *o, struct rtv_outsource_stats *st)
{
	*st = o->st;
}

pid_t rtv_outsource_helper_pid(const struct rtv_outsource *o)
{
	return o->helper_pid;
}

const char *rtv_outsource_policy_path(const struct rtv_outsource *o)
{
	return o->policy_path;
}

void rtv_outsource_free(struct rtv_outsource *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nl; i++)
		close(o->l[i].fd);
	if (o->epfd >= 0)
		close(o->epfd);
	if (o->wakefd >= 0)
		close(o->wakefd);
	if (o->helper_sock >= 0)
		close(o->helper_sock); /* the helper reads EOF and exits */
	if (o->helper_pid > 0) {
		int st;
		pid_t r;

		/* a helper blocked anywhere else is killed after a short wait */
		for (int i = 0; i < 100; i++) {
			r = waitpid(o->helper_pid, &st, WNOHANG);
			if (r != 0)
				break;
			nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
			if (i == 99) {
				kill(o->helper_pid, SIGKILL);
				waitpid(o->helper_pid, &st, 0);
			}
		}
	}
	free(o->l);
	free(o->req);
	free(o->resp);
	free(o->policy_path);
	free(o);
}
