/* RT socket outsourcing: a process under rtvnet's seccomp filter gets its
 * AF_INET and AF_INET6 sockets made in another network namespace (the RT
 * namespace: `rtv-host` on the testbed, the host's own on a real host), so
 * its RT packets are processed once, by that namespace's stack, with no veth,
 * bridge or NAT in the path and no change to the program (static binaries
 * included: nothing is preloaded).
 *
 * The filter (rtv_outsource_filter_install) returns SECCOMP_RET_USER_NOTIF
 * for socket() with domain AF_INET or AF_INET6 only: the domain is a register
 * argument, so nothing is read from the caller's memory and there is no
 * time-of-check/time-of-use gap. It denies (EPERM) io_uring_setup (its
 * IORING_OP_SOCKET would make sockets the filter never sees), every system
 * call of another architecture (the i386 socketcall and socket through
 * `int $0x80`) and every x32 one. Everything else is allowed: AF_UNIX,
 * AF_NETLINK and AF_PACKET sockets stay the caller's own, in its own
 * namespace.
 *
 * The supervisor (struct rtv_outsource) receives the notifications of all
 * its listeners in one epoll loop, asks its helper process for the socket
 * and installs it in the caller with SECCOMP_IOCTL_NOTIF_ADDFD and
 * SECCOMP_ADDFD_FLAG_SEND, which installs the fd and answers the call in one
 * step (never SECCOMP_USER_NOTIF_FLAG_CONTINUE for an outsourced socket).
 * SOCK_NONBLOCK reaches the socket through its type; SOCK_CLOEXEC becomes
 * the new fd's O_CLOEXEC. On any failure the call returns -errno and no fd is
 * left anywhere.
 *
 * Whose socket: the kernel charges a socket's memory and runs cgroup BPF
 * programs by the cgroup v2 cgroup of the task that creates it, and checks
 * CAP_NET_RAW and friends against its credentials. So sockets are made by a
 * helper process (one per supervisor, i.e. per container), forked by
 * rtv_outsource_new, which joins the container's cgroup v2 directory, enters
 * the target namespace and takes the container's uid and gid before it makes
 * any socket. A raw socket asked for by a container running as an
 * unprivileged uid is refused (EPERM) exactly as it would be at home.
 *
 * Nested namespaces: only callers in the container's own network namespace
 * (the one the listener's first process was in when it was added) are
 * outsourced. A caller in another one (it called unshare(CLONE_NEWNET)) gets
 * its socket in its own namespace, as if there were no filter (counted as
 * skipped; see handle_notif in outsource.c for why CONTINUE is safe there).
 *
 * Failure modes, decided:
 *  - the supervisor dies (kill -9): its listeners close, and from then on
 *    every AF_INET/AF_INET6 socket() of the processes under the filter
 *    returns ENOSYS, forever (the kernel cannot attach another listener).
 *    rtvnet fails closed: such a process never gets a socket in the wrong
 *    namespace. Its helper dies with it (PR_SET_PDEATHSIG); both processes
 *    are journaled, so the next rtvnet start kills what is left. The
 *    listener is not handed to a keeper: a restarted supervisor is not
 *    implemented (see the report of issue 11).
 *  - the caller (or its whole container) exits mid-request: ADDFD fails with
 *    ENOENT; the socket is closed (counted as gone).
 *  - many threads at once: notifications queue in the kernel and are served
 *    one after the other by the one loop.
 *  - a notification id that is not pending (forged, or its caller gone):
 *    the kernel refuses it (ENOENT) and nothing is installed.
 *  - the helper dies: every later call is answered -ENETDOWN.
 *
 * Threads: a struct rtv_outsource is used by one thread at a time (the one
 * running rtv_outsource_run); nothing in it is locked. It blocks in
 * epoll_pwait and, per notification, in one round trip to its helper.
 *
 * Journal: when the host journal is open (rtv_journal_open), the helper is
 * journaled (kind "process") before it may change anything; without an open
 * journal (unit tests, benches) it is not, and dies with its parent. The
 * cgroup directory is the caller's to make (rtv_cgroup_v2_dir).
 *
 * Use from a forked child that runs a server function (compare's testbed),
 * in the parent, with the journal open:
 *
 *	char dir[512];
 *	rtv_cgroup_v2_dir(RTV_CGROUP_ROOT, "rtvnet/rts", true, dir, sizeof(dir));
 *	struct rtv_outsource_cfg cfg = { .target_netns = "rtv-host", .cgroup_v2_dir = dir,
 *		.uid = (uid_t)-1, .gid = (gid_t)-1, .sync_wakeup = true };
 *	struct rtv_outsource *o;
 *	int chan[2];
 *	rtv_outsource_new(&cfg, &o);          // forks and journals the helper
 *	rtv_outsource_channel(chan);
 *	pid_t pid = fork();
 *	if (pid == 0) {                       // the RT service
 *		close(chan[0]);
 *		// setns into the container's netns, join its cgroups, set its
 *		// scheduling; sockets made before the next line stay its own
 *		if (rtv_outsource_child_enter(chan[1]) < 0)
 *			_exit(127);
 *		_exit(server_fn(arg));        // its AF_INET/6 socket() calls are made in rtv-host
 *	}
 *	close(chan[1]);
 *	rtv_proc_journal_add(pid);
 *	rtv_outsource_add_child(o, chan[0], pid);
 *	// a thread (or the engine's loop) serves until the child exits:
 *	//	while (rtv_outsource_run(o, &stop) == -EINTR) ;
 *	// stop it from elsewhere with rtv_stop_set(&stop); rtv_outsource_wake(o);
 *	// then, after the thread is joined: rtv_outsource_free(o);
 *
 * The server function must not start threads before rtv_outsource_child_enter
 * (threads that exist then are not under the filter), and must bind to an
 * address of the target namespace (rtv-host's) or to any: its sockets live
 * there. */
#ifndef RTV_OUTSOURCE_OUTSOURCE_H
#define RTV_OUTSOURCE_OUTSOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Features the running kernel gave (rtv_outsource_filter_install's *features
 * and rtv_outsource_features). */
#define RTV_OUTSOURCE_WAIT_KILLABLE 0x1u /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19) */
#define RTV_OUTSOURCE_SYNC_WAKEUP   0x2u /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6) set */

struct rtv_outsource_cfg {
	/* named network namespace (/run/netns/NAME) where sockets are made;
	 * NULL: the namespace of the process calling rtv_outsource_new */
	const char *target_netns;
	/* absolute path of the cgroup v2 directory the helper joins (the
	 * container's: rtv_cgroup_v2_dir); NULL: it stays in its parent's */
	const char *cgroup_v2_dir;
	/* the helper's credentials (the container's); (uid_t)-1 / (gid_t)-1:
	 * keep the parent's */
	uid_t uid;
	gid_t gid;
	/* ask for SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on every listener (used
	 * where the kernel has it; rtv_outsource_features says) */
	bool sync_wakeup;
	/* the address/port policy file (lib/outsource/policy: cgroup sock_addr
	 * BPF programs on cgroup_v2_dir), passed through; NULL: none */
	const char *policy_path;
};

struct rtv_outsource_stats {
	uint64_t notifications; /* notifications received */
	uint64_t sockets;       /* sockets made in the target and installed */
	uint64_t refused;       /* answered -errno (the helper's socket() failed,
				   the caller's fd table was full, ...) */
	uint64_t skipped;       /* callers in a nested namespace: left to make
				   their own socket */
	uint64_t gone;          /* callers gone before their answer (ENOENT) */
	int64_t max_ns;         /* longest notification handled, receive to
				   answer, CLOCK_MONOTONIC ns */
};

struct rtv_outsource;

/* Child side. Install the filter on the calling process (every thread it
 * creates afterwards inherits it; threads that exist already do not: call it
 * before starting any) and return the listener fd (O_CLOEXEC), or -errno.
 * Sets no_new_privs first (needed unless the caller has CAP_SYS_ADMIN; set
 * anyway). features, when not NULL, gets RTV_OUTSOURCE_WAIT_KILLABLE when
 * the kernel took that flag (it is dropped on EINVAL). A process can have one
 * listener in its filter chain: a second call fails with -EBUSY. */
int rtv_outsource_filter_install(unsigned *features);

/* Child side, the usual way: install the filter, send the listener over the
 * AF_UNIX socket chan (from rtv_outsource_channel) with SCM_RIGHTS, then
 * close the listener and chan, so the program never holds its own listener.
 * Call it in a forked child right before exec or before running a server
 * function; sockets made before it stay the child's own. 0 or -errno (the
 * filter may be installed even on error: the child should then exit). */
int rtv_outsource_child_enter(int chan);

/* Parent side. A pair of connected AF_UNIX SOCK_SEQPACKET sockets, both
 * O_CLOEXEC, to hand a listener from child to parent: chan[0] for the
 * parent, chan[1] for the child. 0 or -errno. */
int rtv_outsource_channel(int chan[2]);

/* Make a supervisor and its helper (forked now, from the calling thread;
 * cfg's strings are copied). The helper dies with that thread
 * (PR_SET_PDEATHSIG follows the forking thread, not the process): call it
 * from a thread that outlives o, or every later call is answered -ENETDOWN. 0 and *out, or -errno (-ENOENT: no such netns or
 * cgroup directory; -EPERM: credentials refused), with nothing left. */
int rtv_outsource_new(const struct rtv_outsource_cfg *cfg, struct rtv_outsource **out);

/* Supervise a listener fd (ownership passes to o, also on error). pid is a
 * process under the filter, in the container's own network namespace: its
 * namespace is the one outsourced (callers elsewhere are skipped). 0 or
 * -errno. */
int rtv_outsource_add_listener(struct rtv_outsource *o, int listener_fd, pid_t pid);

/* Parent side of rtv_outsource_child_enter: receive the listener of child
 * pid on chan (the parent's end; closed here, also on error) and supervise
 * it; the container's namespace is the one the child reported it was in when
 * it entered (it may have exited since). Waits until the child sends it. 0
 * or -errno (-EPIPE: the child exited or failed before sending; the error
 * the child's filter_install met). */
int rtv_outsource_add_child(struct rtv_outsource *o, int chan, pid_t pid);

/* Serve notifications until *stop is set (0), until no listener is left
 * (every process under them exited: 1), or until a signal handler ran or
 * rtv_outsource_wake was called (-EINTR: the caller checks its flags and
 * calls again). The calling thread's signals are blocked except while it
 * waits (epoll_pwait), so a handler that sets *stop is never missed. stop
 * may be NULL. -errno when epoll fails. Run it in the thread that owns o: a
 * forked-child user (compare) runs it in its own thread or loop and stops it
 * with rtv_outsource_wake. */
int rtv_outsource_run(struct rtv_outsource *o, const volatile sig_atomic_t *stop);
/* Make a running (or the next) rtv_outsource_run return -EINTR; from any
 * thread or a signal handler (one write to an eventfd). */
void rtv_outsource_wake(struct rtv_outsource *o);

/* For a caller with its own event loop serving several supervisors (rtvnet
 * outsource serve: one per container, lib/outsource/oci.h): the fd to poll
 * (an epoll fd, readable when a notification, a hang-up or a wake is
 * pending; owned by o), and the step to run when it is readable. dispatch
 * handles what is ready without blocking and returns 0, or 1 once no
 * listener is left (every process under them exited), or -errno. Signals
 * are the caller's business. Either this pair or rtv_outsource_run, not
 * both at once. */
int rtv_outsource_fd(const struct rtv_outsource *o);
int rtv_outsource_dispatch(struct rtv_outsource *o);

/* RTV_OUTSOURCE_* features in force: WAIT_KILLABLE as the caller reported
 * it (rtv_outsource_note_features), SYNC_WAKEUP when every listener took it. */
unsigned rtv_outsource_features(const struct rtv_outsource *o);
/* Add the features a child's filter_install reported. */
void rtv_outsource_note_features(struct rtv_outsource *o, unsigned features);
void rtv_outsource_stats(const struct rtv_outsource *o, struct rtv_outsource_stats *st);
/* The helper's pid (its cgroup and namespace are the sockets'). */
pid_t rtv_outsource_helper_pid(const struct rtv_outsource *o);
/* The policy file given in the configuration, or NULL: the policy module
 * attaches its programs to the helper's cgroup (cgroup_v2_dir). */
const char *rtv_outsource_policy_path(const struct rtv_outsource *o);

/* The policy hook: the policy module (lib/outsource/policy) sets it at
 * program start. rtv_outsource_new calls it, when cfg->policy_path is set,
 * once the helper lives in cfg->cgroup_v2_dir and before any socket is made:
 * it attaches the policy's cgroup sock_addr programs there, journaled, and
 * returns 0 or -errno (rtv_outsource_new then fails with it). When a policy
 * is given but no module set the hook, or no cgroup directory is given,
 * rtv_outsource_new fails with -EOPNOTSUPP: a policy is never silently left
 * unenforced. */
extern int (*rtv_outsource_policy_attach)(const char *policy_path, const char *cgroup_v2_dir);

/* Close the listeners (their processes' later socket() calls then return
 * ENOSYS), stop and reap the helper, free. Accepts NULL. */
void rtv_outsource_free(struct rtv_outsource *o);

/* Lower level, exposed for the tests: install fd as the answer to
 * notification id on listener (ADDFD + SEND; newfd O_CLOEXEC when cloexec).
 * Returns the caller's new fd number, or -errno (-ENOENT: id not pending).
 * fd stays the caller's to close. */
int rtv_outsource_install_fd(int listener, uint64_t id, int fd, bool cloexec);

#endif
