/* The built-in testbed: hosts are network namespaces joined by veth pairs,
 * each process-carrying host in its own cgroup (its "container"). Two
 * shapes (struct rtv_tb_shape):
 *
 * host (the default), a container host as podman's and docker's default
 * bridge networks make it, and as the outsourcing paper measured it:
 *
 *   external peers              rtv-host (forwarding on)            containers
 *   rtv-rtc [rtvc0 .0.1] --- [rtvh0 198.18.0.254]  NIC   rtv-br0 --[rtvb0]--- [rtvs0 198.19.0.2] rtv-rts
 *   rtv-s1c [rtvc1 .1.1] --- [rtvh1 198.18.1.254]  NIC  198.19.0.254 [rtvb1]--- [rtvs1 198.19.0.3] rtv-s1s
 *   ...                                                              ...
 *
 *   A peer's packets cross its NIC (a veth pair into rtv-host), are routed by
 *   the host onto the bridge and reach the container through its veth pair.
 *   With nat, each container is published on its NIC's address by DNAT (as
 *   `podman run -p` does, conntrack included), and peers send there.
 *
 * direct, the earlier shape: one veth pair straight from each client to its
 * server, no host in the path.
 *
 *   rtv-rtc  [rtvc0 198.18.0.1] ---- [rtvs0 198.18.0.2]  rtv-rts   RT pair
 *   rtv-s1c  [rtvc1 198.18.1.1] ---- [rtvs1 198.18.1.2]  rtv-s1s   stream 1
 *
 * External peers (rtv-rtc, rtv-sNc) stand for other machines. On veth a
 * packet's receive work runs in the softirq of the CPU that sent it, so a
 * peer's CPU is where its NIC's receive work runs, the role an IRQ affinity
 * plays for a real NIC. The stream sources run on the peer CPUs
 * (shape.peer_cpus, the same for every method), so that where the bulk
 * receive work runs is the host's configuration, never where a source
 * happened to run. The RT client is not confined with them: its sender and
 * receiver threads on one CPU shared with the sources measured the client's
 * own queueing (idle p99 0.6-3.7 ms here against 0.2-0.3 floating); it
 * floats unless a method steers it (dedicated's partition, the RT path
 * pinned by separate, busypoll and hybrid move it to the RT CPU, as they
 * would the RT NIC's interrupt).
 *
 * Addresses are from 198.18.0.0/15, the range RFC 2544 sets aside for
 * benchmarks. Cgroups are rtvnet/<host>. Everything is journaled; the shape
 * is kept in RTV_TESTBED_SHAPE_FILE for later commands. */
#ifndef RTV_TESTBED_TESTBED_H
#define RTV_TESTBED_TESTBED_H

#include <stdbool.h>
#include <sys/types.h>

#include "host/cgroup.h"

#define RTV_TESTBED_MAX_STREAMS 8
#define RTV_TESTBED_CGROUP "rtvnet"
#define RTV_TESTBED_HOST_NS "rtv-host"
#define RTV_TESTBED_BRIDGE "rtv-br0"
#define RTV_TESTBED_SHAPE_FILE "/run/rtvnet/testbed"

enum rtv_tb_topology { RTV_TB_HOST, RTV_TB_DIRECT };

struct rtv_tb_shape {
	int nstreams;
	enum rtv_tb_topology topology;
	bool nat;             /* host topology: containers published by DNAT */
	char peer_cpus[64];   /* CPU list of the external peers; "" for anywhere */
};

struct rtv_tb_host {
	char name[8];    /* "rtc", "rts", "s1c", ..., "host" */
	char ns[16];     /* "rtv-rtc" */
	char cgroup[32]; /* "rtvnet/rtc"; "" for rtv-host, which runs no process of ours */
	char dev[16];    /* its end of its link: "rtvc0", "rtvs0" */
	char hdev[16];   /* host topology: rtv-host's end of that link, a peer's NIC
			  * ("rtvh0") or a container's bridge port ("rtvb0"); "" direct */
	char addr[24];   /* own address */
	char peer[24];   /* a peer: where its server is reached (the container, or under
			  * nat the NIC's address); a container: its peer's address */
	char gw[24];     /* host topology: its default gateway */
	bool external;   /* an external peer (client side) */
};

struct rtv_testbed {
	int nstreams;
	struct rtv_tb_shape shape;
	struct rtv_cgroups cg;
	struct rtv_tb_host host; /* rtv-host (host topology) */
	struct rtv_tb_host rt_client, rt_server;
	struct rtv_tb_host stream_client[RTV_TESTBED_MAX_STREAMS];
	struct rtv_tb_host stream_server[RTV_TESTBED_MAX_STREAMS];
};

/* Fill in names and addresses for a shape; touches nothing. -EINVAL for a
 * stream count out of range, nat without the host topology, or peer CPUs
 * that are not a CPU list. */
int rtv_testbed_init(struct rtv_testbed *tb, const struct rtv_tb_shape *shape,
		     const struct rtv_cgroups *cg);
/* The default shape: host topology, no nat, peer CPUs "" (anywhere). */
void rtv_testbed_shape_default(struct rtv_tb_shape *shape, int nstreams);
/* "host, 2 stream pairs, nat, peers on CPU 0" for messages and results. */
void rtv_testbed_shape_describe(const struct rtv_tb_shape *shape, char *buf, size_t len);
/* Create it all, and keep the shape in RTV_TESTBED_SHAPE_FILE (journaled).
 * -EEXIST (nothing changed) when a testbed already exists; -ENOENT for nat
 * without the nft command (Debian package nftables). */
int rtv_testbed_up(struct rtv_testbed *tb);
/* Whether any testbed namespace exists; when it does and shape is not NULL,
 * the shape it was made with (from RTV_TESTBED_SHAPE_FILE, or guessed from
 * the namespaces when the file is missing). */
bool rtv_testbed_exists(struct rtv_tb_shape *shape);
/* How many stream pairs a testbed needs to have host name (rtc, rts: 0;
 * sNc, sNs: N, from 1 to RTV_TESTBED_MAX_STREAMS), or -1 for a name that is
 * no testbed host's. */
int rtv_testbed_host_streams(const char *name);
/* The host called name, or NULL when tb has none such. */
const struct rtv_tb_host *rtv_testbed_host(const struct rtv_testbed *tb, const char *name);
/* Call fn for each host: RT client, RT server, then the stream pairs (not
 * rtv-host, which has no cgroup). */
void rtv_testbed_for_each(struct rtv_testbed *tb, void (*fn)(struct rtv_tb_host *h, void *arg),
			  void *arg);

/* A device of the testbed, in its namespace. */
struct rtv_tb_dev {
	const char *ns, *name;
};
/* The devices of a flow's path in the order a request crosses them, for
 * the RT path (stream 0) or stream k (1..nstreams): direct: client's,
 * server's; host: the peer's, its NIC, the container's bridge port, the
 * container's. Returns the count (at most 4). */
int rtv_testbed_path_devs(const struct rtv_testbed *tb, int stream, struct rtv_tb_dev *out);

/* Start fn(arg) in a child process inside host h (its cgroup and namespace),
 * or, h NULL, here (tb may then be NULL). The child dies with its parent
 * (PR_SET_PDEATHSIG), ignores SIGINT (the parent's to handle), ends on
 * SIGTERM, and is journaled when the journal is open, so that even after a
 * crash nothing of it outlives the run. fn's return value (0 or -errno)
 * becomes the exit status (0 or 1). */
int rtv_testbed_spawn(const struct rtv_testbed *tb, const struct rtv_tb_host *h,
		      int (*fn)(void *arg), void *arg, pid_t *pid);

#endif
