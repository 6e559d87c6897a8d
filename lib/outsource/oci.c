#include "outsource/oci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/journal.h"
#include "util/banned.h"

/* ---- the state a runtime sends ---- */

static void copy_str(char *dst, size_t len, json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, len, "%s", s ? s : "");
}

int rtv_oci_state_parse(const char *buf, size_t len, const int *fds, size_t nfds,
			struct rtv_oci_state *st)
{
	json_error_t jerr;
	json_t *root, *state, *names, *v;
	json_int_t pid = 0;
	size_t i;
	int err = -EPROTO;

	memset(st, 0, sizeof(*st));
	st->seccomp_fd = -1;
	root = json_loadb(buf, len, 0, &jerr);
	if (!root)
		return json_error_code(&jerr) == json_error_premature_end_of_input ? -EAGAIN : -EPROTO;
	if (!json_is_object(root))
		goto out;
	state = json_object_get(root, "state");
	if (!json_is_object(state))
		state = NULL;
	v = state ? json_object_get(state, "pid") : NULL;
	if (!json_is_integer(v))
		v = json_object_get(root, "pid");
	if (json_is_integer(v))
		pid = json_integer_value(v);
	if (pid <= 0 || pid > 0x3fffffff)
		goto out;
	st->pid = (pid_t)pid;
	names = json_object_get(root, "fds");
	if (!json_is_array(names))
		goto out;
	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);

		if (s && !strcmp(s, "seccompFd")) {
			if (i >= nfds)
				goto out; /* named, but not sent */
			st->seccomp_fd = fds[i];
			break;
		}
	}
	if (st->seccomp_fd < 0)
		goto out;
	copy_str(st->metadata, sizeof(st->metadata), json_object_get(root, "metadata"));
	if (state) {
		copy_str(st->id, sizeof(st->id), json_object_get(state, "id"));
		copy_str(st->status, sizeof(st->status), json_object_get(state, "status"));
		copy_str(st->bundle, sizeof(st->bundle), json_object_get(state, "bundle"));
	}
	err = 0;
out:
	if (err)
		st->seccomp_fd = -1;
	json_decref(root);
	return err;
}

/* ---- the profile ---- */

static json_t *socket_rule(int domain)
{
	return json_pack("{s:[s], s:s, s:[{s:i, s:i, s:s}]}", "names", "socket", "action",
			 "SCMP_ACT_NOTIFY", "args", "index", 0, "value", domain, "op", "SCMP_CMP_EQ");
}

char *rtv_oci_profile_json(const char *listener_path, const char *metadata)
{
	json_t *p, *calls;
	char *s = NULL;

	p = json_pack("{s:s}", "defaultAction", "SCMP_ACT_ALLOW");
	if (!p)
		return NULL;
	if (listener_path && json_object_set_new(p, "listenerPath", json_string(listener_path)))
		goto out;
	if (metadata && json_object_set_new(p, "listenerMetadata", json_string(metadata)))
		goto out;
	calls = json_pack("[o, o, {s:[s], s:s, s:i}]", socket_rule(2), socket_rule(10), "names",
			  "io_uring_setup", "action", "SCMP_ACT_ERRNO", "errnoRet", 1);
	if (!calls || json_object_set_new(p, "architectures", json_pack("[s]", "SCMP_ARCH_X86_64")) ||
	    json_object_set_new(p, "syscalls", calls))
		goto out;
	s = json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(p);
	return s;
}

/* ---- the listening socket ---- */

int rtv_oci_listen(const char *path, int *fd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int s = -1, err;

	*fd = -1;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		/* a socket: someone's live one, or a dead one to replace */
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -errno;
		if (!connect(s, (struct sockaddr *)&a, sizeof(a))) {
			close(s);
			return -EADDRINUSE;
		}
		err = errno;
		close(s);
		if (err != ECONNREFUSED)
			return -err;
		if (unlink(path) && errno != ENOENT)
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	err = rtv_journal_is_open() ? rtv_journal_add("sockfile", 1, (const char *const[]){ path }) : 0;
	if (err < 0)
		goto fail;
	/* only root may connect: the runtime runs as root; a container's
	 * listener is worth a container */
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || chmod(path, 0600) || listen(s, 16)) {
		err = -errno;
		goto fail;
	}
	*fd = s;
	return 0;
fail:
	close(s);
	return err;
}

/* "sockfile PATH": remove it while it is a socket (someone may have put
 * another file there since: then it is not ours). */
static int sockfile_undo(int argc, char **argv)
{
	struct stat st;

	if (argc < 1 || argv[0][0] != '/')
		return -EINVAL;
	if (lstat(argv[0], &st) || !S_ISSOCK(st.st_mode))
		return RTV_JOURNAL_GONE;
	return unlink(argv[0]) ? -errno : 0;
}

/* Paths are the user's (anywhere): what can be read is the journal's own
 * list of them; each one that exists is printed. */
static int sockfile_snapshot(FILE *out)
{
	struct rtv_journal_state js;
	struct stat st;
	int err = rtv_journal_state_read(RTV_JOURNAL_DIR, &js);

	if (err < 0)
		return err == -ENOENT ? 0 : err;
	for (size_t i = 0; i < js.n; i++) {
		const char *l = js.e[i].line;

		if (strncmp(l, "sockfile ", 9))
			continue;
		/* the argument is %-encoded; a plain path is printed as is */
		if (!lstat(l + 9, &st))
			fprintf(out, "%s\n", l + 9);
	}
	rtv_journal_state_free(&js);
	return 0;
}

static const struct rtv_journal_kind sockfile_kind = {
	.name = "sockfile", .undo = sockfile_undo, .snapshot = sockfile_snapshot,
};
RTV_JOURNAL_KIND(sockfile_kind)

/* ---- a container's cgroup and credentials ---- */

static int ns_ino(pid_t pid, const char *ns, ino_t *ino)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(p, &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* The container's cgroup v2 directory when it is its own: 1 (dir set), 0
 * (not its own or none), -errno. */
static int own_cgroup(const char *root, pid_t pid, char *dir, size_t len)
{
	char p[64], line[600], *rel = NULL;
	ino_t cns = 0, myns = 0, x = 0;
	FILE *f;
	int err, own = 1;

	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			rel = line + 3;
			rel[strcspn(rel, "\n")] = '\0';
			break;
		}
	fclose(f);
	if (!rel || !strcmp(rel, "/") || rel[0] != '/')
		return 0;
	/* strip " (deleted)" and the like: such a cgroup is not usable */
	err = rtv_cgroup_v2_dir(root, rel + 1, false, dir, len);
	if (err < 0)
		return err == -ENOENT || err == -ENOTSUP || err == -EINVAL ? 0 : err;
	if ((err = ns_ino(pid, "pid", &cns)) < 0 || (err = ns_ino(getpid(), "pid", &myns)) < 0)
		return err;
	if (cns == myns)
		return 0; /* cannot tell it from rtvnet's own processes */
	snprintf(line, sizeof(line), "%s/cgroup.procs", dir);
	f = fopen(line, "re");
	if (!f)
		return -errno;
	while (own && fgets(p, sizeof(p), f)) {
		pid_t q = (pid_t)atoi(p);

		if (q > 0 && !ns_ino(q, "pid", &x) && x != cns)
			own = 0;
	}
	fclose(f);
	return own;
}

/* Effective uid and gid of pid. */
static int creds_of(pid_t pid, uid_t *uid, gid_t *gid)
{
	char p[64], line[256];
	unsigned long r, e;
	int got = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %lu %lu", &r, &e) == 2) {
			*uid = (uid_t)e;
			got |= 1;
		} else if (sscanf(line, "Gid: %lu %lu", &r, &e) == 2) {
			*gid = (gid_t)e;
			got |= 2;
		}
	}
	fclose(f);
	return got == 3 ? 0 : -EPROTO;
}

/* ---- the loop ---- */

enum { SRC_LISTEN, SRC_CONN, SRC_CONTAINER };

#define CONN_MAX_TEXT (64 * 1024)
#define CONN_MAX_FDS 8

struct src {
	int type;
	int fd;
	/* SRC_CONN */
	char *text;
	size_t len;
	int fds[CONN_MAX_FDS];
	size_t nfds;
	bool fds_seen; /* fds come with the first message only */
	/* SRC_CONTAINER */
	struct rtv_oci_container c;
	struct src *next;
};

struct serve {
	const struct rtv_oci_serve_cfg *cfg;
	int epfd;
	struct src *list;
	unsigned seq;
	bool done;
};

static void emit(struct serve *s, enum rtv_oci_event ev, const struct rtv_oci_container *c, int err)
{
	if (s->cfg->event)
		s->cfg->event(s->cfg->arg, ev, c, err);
}

static void src_unlink(struct serve *s, struct src *x)
{
	for (struct src **p = &s->list; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			break;
		}
}

static void conn_free(struct serve *s, struct src *x)
{
	src_unlink(s, x);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, x->fd, NULL);
	close(x->fd);
	for (size_t i = 0; i < x->nfds; i++)
		if (x->fds[i] >= 0)
			close(x->fds[i]);
	free(x->text);
	free(x);
}

static void container_end(struct serve *s, struct src *x, bool running)
{
	src_unlink(s, x);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, x->fd, NULL);
	rtv_outsource_stats(x->c.o, &x->c.stats);
	x->c.features = rtv_outsource_features(x->c.o);
	x->c.still_running = running;
	rtv_outsource_free(x->c.o); /* closes the listener, ends the helper */
	x->c.o = NULL;
	emit(s, RTV_OCI_ENDED, &x->c, 0);
	free(x);
}

/* A name for rtvnet's cgroup of a container: rtvnet/oci-ID when ID is a
 * plain word, else rtvnet/oci-PID-N. */
static void cgroup_name(struct serve *s, const char *id, char *buf, size_t len)
{
	size_t n = strlen(id);
	bool plain = n > 0 && n <= 64;

	for (size_t i = 0; plain && i < n; i++)
		plain = isalnum((unsigned char)id[i]) || id[i] == '-' || id[i] == '_' || id[i] == '.';
	if (plain && id[0] != '.')
		snprintf(buf, len, "rtvnet/oci-%s", id);
	else
		snprintf(buf, len, "rtvnet/oci-%d-%u", (int)getpid(), s->seq);
}

/* A complete state came: supervise its listener. Takes st->seccomp_fd. */
static int container_add(struct serve *s, struct rtv_oci_state *st)
{
	struct rtv_outsource_cfg oc = { .target_netns = s->cfg->target_netns,
					.policy_path = s->cfg->policy_path,
					.sync_wakeup = s->cfg->sync_wakeup };
	struct src *x = calloc(1, sizeof(*x));
	const char *root = s->cfg->cgroup_root ? s->cfg->cgroup_root : RTV_CGROUP_ROOT;
	char name[128];
	int err, fd = st->seccomp_fd, probe;

	st->seccomp_fd = -1;
	if (!x) {
		close(fd);
		return -ENOMEM;
	}
	probe = dup(fd); /* to tell "gone already" apart, after fd is given away */
	x->type = SRC_CONTAINER;
	x->c.state = *st;
	s->seq++;
	err = creds_of(st->pid, &x->c.uid, &x->c.gid);
	if (err < 0)
		goto fail;
	err = own_cgroup(root, st->pid, x->c.cgroup, sizeof(x->c.cgroup));
	if (err < 0)
		goto fail;
	x->c.own_cgroup = err == 1;
	if (!x->c.own_cgroup) {
		cgroup_name(s, st->id, name, sizeof(name));
		err = rtv_cgroup_v2_dir(root, name, true, x->c.cgroup, sizeof(x->c.cgroup));
		if (err == -ENOTSUP && !oc.policy_path)
			x->c.cgroup[0] = '\0'; /* no v2 hierarchy: rtvnet's own */
		else if (err < 0)
			goto fail;
	}
	oc.cgroup_v2_dir = x->c.cgroup[0] ? x->c.cgroup : NULL;
	/* the same as rtvnet's: nothing to change (an unprivileged rtvnet
	 * could not drop its supplementary groups) */
	oc.uid = x->c.uid == geteuid() ? (uid_t)-1 : x->c.uid;
	oc.gid = x->c.gid == getegid() && oc.uid == (uid_t)-1 ? (gid_t)-1 : x->c.gid;
	err = rtv_outsource_new(&oc, &x->c.o);
	if (err < 0)
		goto fail;
	err = rtv_outsource_add_listener(x->c.o, fd, st->pid);
	fd = -1;
	if (err < 0)
		goto fail;
	x->fd = rtv_outsource_fd(x->c.o);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, x->fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = x })) {
		err = -errno;
		goto fail;
	}
	x->c.state.seccomp_fd = -1;
	x->c.features = rtv_outsource_features(x->c.o);
	x->next = s->list;
	s->list = x;
	if (probe >= 0)
		close(probe);
	emit(s, RTV_OCI_ACCEPTED, &x->c, 0);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	x->c.state.seccomp_fd = -1;
	/* A container whose processes all exited before its listener was
	 * read (it made no IPv4/IPv6 socket, or the runtime was quick): its
	 * /proc entries are gone and the listener hangs up once the last one
	 * is reaped. That is an end, not a refusal. */
	if ((err == -ENOENT || err == -ESRCH) && probe >= 0) {
		struct pollfd pf = { .fd = probe, .events = POLLIN };

		/* a zombie is reaped by its runtime soon: wait a little */
		if (poll(&pf, 1, 500) == 1 && (pf.revents & POLLHUP))
			err = 1;
	}
	if (probe >= 0)
		close(probe);
	if (err == 1) {
		rtv_outsource_free(x->c.o);
		x->c.o = NULL;
		emit(s, RTV_OCI_ENDED, &x->c, 0);
		free(x);
		return 1;
	}
	emit(s, RTV_OCI_REFUSED, &x->c, err);
	rtv_outsource_free(x->c.o);
	free(x);
	return err;
}

/* Read what a connection has; parse once something came. */
static void conn_read(struct serve *s, struct src *x)
{
	union {
		char buf[CMSG_SPACE(CONN_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct rtv_oci_container c = { 0 };
	struct rtv_oci_state st;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;
	int err;

	if (!x->text) {
		x->text = malloc(CONN_MAX_TEXT);
		if (!x->text) {
			err = -ENOMEM;
			goto refuse;
		}
	}
	for (;;) {
		if (x->len >= CONN_MAX_TEXT) {
			err = -EMSGSIZE;
			goto refuse;
		}
		iov = (struct iovec){ .iov_base = x->text + x->len, .iov_len = CONN_MAX_TEXT - x->len };
		msg = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				       .msg_controllen = sizeof(u.buf) };
		n = recvmsg(x->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return; /* wait for more */
		if (n < 0) {
			err = -errno;
			goto refuse;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			size_t k;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (x->fds_seen || x->nfds == CONN_MAX_FDS)
					close(f); /* not where the spec puts them */
				else
					x->fds[x->nfds++] = f;
			}
		}
		if (n > 0 || x->nfds)
			x->fds_seen = true;
		if (msg.msg_flags & MSG_CTRUNC) {
			err = -EPROTO;
			goto refuse;
		}
		x->len += (size_t)n;
		if (n == 0 && x->len == 0 && !x->nfds) {
			/* connected and closed, said nothing: a liveness probe
			 * (rtv_oci_listen's own), not a runtime */
			conn_free(s, x);
			return;
		}
		err = rtv_oci_state_parse(x->text, x->len, x->fds, x->nfds, &st);
		if (err == -EAGAIN && n > 0)
			continue;
		if (err == -EAGAIN)
			err = -EPROTO; /* closed before the end */
		if (err < 0)
			goto refuse;
		for (size_t i = 0; i < x->nfds; i++)
			if (x->fds[i] == st.seccomp_fd)
				x->fds[i] = -1; /* taken */
		conn_free(s, x);
		if (container_add(s, &st) == 1 && s->cfg->once)
			s->done = true; /* it ended before it was served */
		return;
	}
refuse:
	c.state.seccomp_fd = -1;
	if (x->len && rtv_oci_state_parse(x->text, x->len, x->fds, x->nfds, &st) == 0) {
		c.state = st; /* for its id in the message */
		c.state.seccomp_fd = -1;
	}
	emit(s, RTV_OCI_REFUSED, &c, err);
	conn_free(s, x);
}

static void do_accept(struct serve *s)
{
	struct rtv_oci_container c = { .state.seccomp_fd = -1 };
	struct src *x;
	int fd;

	for (;;) {
		fd = accept4(s->cfg->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				emit(s, RTV_OCI_REFUSED, &c, -errno);
			return;
		}
		x = calloc(1, sizeof(*x));
		if (!x) {
			close(fd);
			emit(s, RTV_OCI_REFUSED, &c, -ENOMEM);
			continue;
		}
		x->type = SRC_CONN;
		x->fd = fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd,
			      &(struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.ptr = x })) {
			emit(s, RTV_OCI_REFUSED, &c, -errno);
			close(fd);
			free(x);
			continue;
		}
		x->next = s->list;
		s->list = x;
	}
}

int rtv_oci_serve(const struct rtv_oci_serve_cfg *cfg, const volatile sig_atomic_t *stop)
{
	struct serve s = { .cfg = cfg, .epfd = -1 };
	struct src lsrc = { .type = SRC_LISTEN, .fd = cfg->listen_fd };
	struct epoll_event ev[16];
	sigset_t all, old;
	int n, ret = 0;

	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s.epfd < 0)
		return -errno;
	if (epoll_ctl(s.epfd, EPOLL_CTL_ADD, cfg->listen_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &lsrc })) {
		ret = -errno;
		close(s.epfd);
		return ret;
	}
	/* signals only inside epoll_pwait: a handler's flag is seen at once */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	while (!s.done && !(stop && *stop)) {
		n = epoll_pwait(s.epfd, ev, 16, -1, &old);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (int i = 0; i < n && !s.done; i++) {
			struct src *x = ev[i].data.ptr;
			bool live = x == &lsrc;

			/* a source freed by an earlier event of this batch */
			for (struct src *y = s.list; !live && y; y = y->next)
				live = y == x;
			if (!live)
				continue;
			if (x->type == SRC_LISTEN) {
				do_accept(&s);
			} else if (x->type == SRC_CONN) {
				conn_read(&s, x);
			} else {
				int r = rtv_outsource_dispatch(x->c.o);

				if (r != 0) { /* its processes are gone (1), or epoll failed */
					container_end(&s, x, r < 0);
					if (cfg->once)
						s.done = true;
				}
			}
		}
	}
	while (s.list) {
		struct src *x = s.list;

		if (x->type == SRC_CONN)
			conn_free(&s, x);
		else
			container_end(&s, x, true);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(s.epfd);
	return ret;
}
