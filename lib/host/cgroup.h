/* Container cgroups on either hierarchy. cgroup v2 (most hosts): one tree,
 * controllers enabled through cgroup.subtree_control. cgroup v1 (these
 * development machines): one tree per controller; rtvnet uses cpuset (CPU
 * placement) and cpuacct (CPU accounting) there, and the v1 cpu controller
 * only for a container that `rtvnet reserve --container` gave a cpu cgroup
 * with RT runtime (without some, RT group scheduling would leave its
 * SCHED_FIFO threads none). The root is a parameter so that tests can use a
 * fake tree.
 * Every directory made and every file changed is journaled first. */
#ifndef RTV_HOST_CGROUP_H
#define RTV_HOST_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RTV_CGROUP_ROOT "/sys/fs/cgroup"

struct rtv_cgroups {
	int version;    /* 1 or 2 */
	char root[200]; /* usually /sys/fs/cgroup */
};

/* -ENOTSUP when neither a v2 tree nor v1 cpuset+cpuacct is mounted there. */
int rtv_cgroup_detect(const char *root, struct rtv_cgroups *cg);
/* Make NAME ("rtvnet/rts"); its parent must exist or be made first. */
int rtv_cgroup_create(const struct rtv_cgroups *cg, const char *name);
/* Move a process into NAME (not journaled: the directory's undo kills it);
 * on v1 into its cpuset and cpuacct cgroups, and its cpu cgroup when one
 * exists (made by a reservation). */
int rtv_cgroup_attach(const struct rtv_cgroups *cg, const char *name, pid_t pid);
/* Restrict NAME to a CPU list ("1", "0-2"): journaled. */
int rtv_cgroup_set_cpus(const struct rtv_cgroups *cg, const char *name, const char *cpus);
/* Cumulative CPU time used by NAME's tasks, in ns. */
int rtv_cgroup_usage_ns(const struct rtv_cgroups *cg, const char *name, uint64_t *ns);
/* Path of NAME's directory for a controller ("cpuset", "cpuacct"; ignored on v2). */
void rtv_cgroup_path(const struct rtv_cgroups *cg, const char *ctrl, const char *name,
		     char *buf, size_t len);

/* The cgroup v2 directory of a container NAME ("rtvnet/rts"), for what
 * only v2 offers (cgroup BPF programs, socket accounting): on a v2 host
 * ROOT/NAME, the container's own cgroup; on a hybrid host (v1 at ROOT, the
 * unified tree at ROOT/unified, as on these machines) ROOT/unified/NAME, a
 * cgroup of its own beside the v1 ones. When it is missing and create is
 * true, it and its missing parents are made, each journaled first (kind
 * "cgroup": the undo kills its tasks and removes it). The path goes to buf.
 * 0 when found or made; -ENOENT when missing and !create; -ENOTSUP when there
 * is no v2 hierarchy; -EINVAL for a NAME with "..", an empty part or a
 * leading '/'. */
int rtv_cgroup_v2_dir(const char *root, const char *name, bool create, char *buf, size_t len);

#endif
