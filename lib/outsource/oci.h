/* Real OCI containers under the outsourcing supervisor (lib/outsource/
 * outsource.h): the runtime installs the seccomp filter that
 * rtv_oci_profile_json describes (the `linux.seccomp` object of the bundle's
 * config.json) and hands its listener to rtv_oci_serve over an AF_UNIX
 * socket, as the OCI runtime spec says (config-linux.md, "seccomp":
 * listenerPath, listenerMetadata). crun 0.19+ and runc 1.1+ do.
 *
 * The hand-over: per container the runtime connects to the listener path,
 * sends one JSON state, with the fds by SCM_RIGHTS in its first sendmsg
 * only, and closes:
 *	{"ociVersion": ..., "fds": ["seccompFd"], "pid": PID, "metadata": STR,
 *	 "state": {"ociVersion", "id", "status", "pid", "bundle", "annotations"}}
 * The listener is the fd whose name in "fds" is "seccompFd". Parsed
 * leniently: any ociVersion (crun 1.8 writes "0.2.0"), unknown keys
 * ignored, the text may come in several reads.
 *
 * One supervisor, one loop: rtv_oci_serve runs one epoll loop over the
 * listening socket, the connections being read and every container's
 * struct rtv_outsource (one per container: its own helper, in its own
 * cgroup, with its own statistics), dispatched with rtv_outsource_dispatch.
 *
 * Whose socket (see outsource.h): the helper of a container joins the
 * container's cgroup v2 cgroup (the "0::" line of /proc/PID/cgroup, under
 * the v2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid
 * host) when that cgroup is the container's own: not the root, and every
 * process in it is in the container's pid namespace, which is not rtvnet's.
 * Otherwise (a runtime that made no cgroup, e.g. crun --cgroup-manager=
 * disabled, or a container sharing rtvnet's pid namespace, where it cannot
 * be told) rtvnet makes one for the helper alone, rtvnet/oci-ID (journaled,
 * removed when serve ends), and moves nothing of the container: its sockets
 * are then charged to that cgroup, and a policy applies there. The helper
 * takes the uid and gid the container's process has when the listener
 * arrives (its effective ids, /proc/PID/status, as rtvnet sees them).
 *
 * pid namespace: the state's pid is read in rtvnet's pid namespace; serve
 * must run in the runtime's (the host's). */
#ifndef RTV_OUTSOURCE_OCI_H
#define RTV_OUTSOURCE_OCI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "outsource/outsource.h"

/* What a runtime sent, parsed. */
struct rtv_oci_state {
	pid_t pid;          /* the container's process (state.pid, else the top-level pid) */
	int seccomp_fd;     /* the listener (one of the fds given to the parser), -1 when none */
	char id[128];       /* state.id, "" when missing; cut to fit */
	char status[32];    /* state.status ("creating") */
	char bundle[512];   /* state.bundle */
	char metadata[256]; /* the listenerMetadata the runtime copied */
};

/* Parse the text buf[0..len) a runtime sent with the fds fds[0..nfds) that
 * came with it. 0: *st filled, st->seccomp_fd is one of fds (the caller
 * still owns all of fds and decides which to close). -EAGAIN: the JSON is
 * not complete yet (read more). -EPROTO: not JSON, or no positive pid, or no
 * "seccompFd" in "fds", or fewer fds came than "fds" names. */
int rtv_oci_state_parse(const char *buf, size_t len, const int *fds, size_t nfds,
			struct rtv_oci_state *st);

/* The `linux.seccomp` object of an OCI config.json (a JSON text, indented,
 * malloc'd, NUL-terminated; NULL when out of memory): defaultAction
 * SCMP_ACT_ALLOW; listenerPath and listenerMetadata (omitted when NULL);
 * architectures ["SCMP_ARCH_X86_64"] only; socket() with argument 0 equal
 * to AF_INET (2), and in a second rule AF_INET6 (10): SCMP_ACT_NOTIFY;
 * io_uring_setup: SCMP_ACT_ERRNO with errnoRet 1 (EPERM). With only x86-64
 * listed, libseccomp's filter gives a system call of another architecture
 * (i386 through int 0x80, x32) its bad-architecture action, which runtimes
 * leave at libseccomp's default, SCMP_ACT_KILL (crun 1.8.1 here: an x32
 * call ends the container's process with SIGSYS), so no socket escapes the
 * filter through them. */
char *rtv_oci_profile_json(const char *listener_path, const char *metadata);

/* Make the AF_UNIX SOCK_STREAM socket listening at path (O_CLOEXEC,
 * nonblocking), the file journaled before it is made (kind "sockfile": the
 * undo removes it while it is still a socket), so it is gone after serve
 * ends, after signals, and after kill -9 at the next rtvnet start. A socket
 * file nobody listens on is replaced. 0 and *fd, or -errno: -EEXIST when
 * path exists and is not a socket, -EADDRINUSE when something listens
 * there, -ENAMETOOLONG. */
int rtv_oci_listen(const char *path, int *fd);

enum rtv_oci_event {
	RTV_OCI_ACCEPTED, /* a container's listener is supervised */
	RTV_OCI_REFUSED,  /* a connection or container could not be served (err) */
	RTV_OCI_ENDED,    /* a container's processes are gone, or serve stops */
};

/* A container as rtv_oci_serve sees it, given to the event callback. */
struct rtv_oci_container {
	struct rtv_oci_state state;       /* seccomp_fd is the supervisor's once accepted */
	char cgroup[512];                 /* the helper's cgroup v2 directory, "" when none */
	bool own_cgroup;                  /* the container's own; false: one rtvnet made */
	uid_t uid;                        /* the helper's credentials */
	gid_t gid;
	unsigned features;                /* RTV_OUTSOURCE_* in force */
	bool still_running;               /* ENDED by a stop while its processes ran:
					     their later IPv4/IPv6 socket() calls fail
					     with ENOSYS */
	struct rtv_outsource_stats stats; /* what it served (final at ENDED) */
	struct rtv_outsource *o;
};

struct rtv_oci_serve_cfg {
	int listen_fd;           /* from rtv_oci_listen; stays the caller's */
	const char *target_netns; /* as in struct rtv_outsource_cfg (NULL: rtvnet's) */
	const char *policy_path;  /* NULL: none */
	const char *cgroup_root;  /* the cgroup tree (NULL: RTV_CGROUP_ROOT); a tree
				     without cgroup v2 (a test's empty directory):
				     the helpers stay in rtvnet's cgroup */
	bool sync_wakeup;
	bool once;                /* return once the first container has ENDED */
	/* called from rtv_oci_serve's thread; c is valid during the call only;
	 * err is -errno for RTV_OCI_REFUSED, else 0 */
	void (*event)(void *arg, enum rtv_oci_event ev, const struct rtv_oci_container *c, int err);
	void *arg;
};

/* Serve until *stop is set (checked whenever a signal handler ran: the
 * thread's signals are blocked except while it waits), or with cfg->once
 * until the first accepted container has ended. Containers still supervised
 * then get RTV_OCI_ENDED with still_running set and their listeners closed.
 * A connection whose text is incomplete stays open until its runtime sends
 * the rest or closes. 0, or -errno when the loop itself fails. */
int rtv_oci_serve(const struct rtv_oci_serve_cfg *cfg, const volatile sig_atomic_t *stop);

#endif
