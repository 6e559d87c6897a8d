/* The built-in testbed: hosts are network namespaces joined by veth pairs
 * (one pair per "NIC"), each host in its own cgroup (its "container").
 *
 *   rtv-rtc  [rtvc0 198.18.0.1] ---- [rtvs0 198.18.0.2]  rtv-rts   RT pair
 *   rtv-s1c  [rtvc1 198.18.1.1] ---- [rtvs1 198.18.1.2]  rtv-s1s   stream 1
 *   ...                                                            stream N
 *
 * Addresses are from 198.18.0.0/15, the range RFC 2544 sets aside for
 * benchmarks. Cgroups are rtvnet/<host>. Everything is journaled. */
#ifndef RTV_TESTBED_TESTBED_H
#define RTV_TESTBED_TESTBED_H

#include <stdbool.h>
#include <sys/types.h>

#include "host/cgroup.h"

#define RTV_TESTBED_MAX_STREAMS 8
#define RTV_TESTBED_CGROUP "rtvnet"

struct rtv_tb_host {
	char name[8];    /* "rtc", "rts", "s1c", ... */
	char ns[16];     /* "rtv-rtc" */
	char cgroup[32]; /* "rtvnet/rtc" */
	char dev[16];    /* "rtvc0" */
	char addr[24];   /* own address */
	char peer[24];   /* the other end's address */
};

struct rtv_testbed {
	int nstreams;
	struct rtv_cgroups cg;
	struct rtv_tb_host rt_client, rt_server;
	struct rtv_tb_host stream_client[RTV_TESTBED_MAX_STREAMS];
	struct rtv_tb_host stream_server[RTV_TESTBED_MAX_STREAMS];
};

/* Fill in names for nstreams stream pairs; touches nothing. */
int rtv_testbed_init(struct rtv_testbed *tb, int nstreams, const struct rtv_cgroups *cg);
/* Create it all. -EEXIST (nothing changed) when a testbed already exists. */
int rtv_testbed_up(struct rtv_testbed *tb);
/* Whether any testbed namespace exists, and how many stream pairs it has. */
bool rtv_testbed_exists(int *nstreams);
/* How many stream pairs a testbed needs to have host name (rtc, rts: 0;
 * sNc, sNs: N, from 1 to RTV_TESTBED_MAX_STREAMS), or -1 for a name that is
 * no testbed host's. */
int rtv_testbed_host_streams(const char *name);
/* The host called name, or NULL when tb has none such. */
const struct rtv_tb_host *rtv_testbed_host(const struct rtv_testbed *tb, const char *name);
/* Call fn for each host: RT client, RT server, then the stream pairs. */
void rtv_testbed_for_each(struct rtv_testbed *tb, void (*fn)(struct rtv_tb_host *h, void *arg),
			  void *arg);

/* Start fn(arg) in a child process inside host h (its cgroup and namespace),
 * or, h NULL, here (tb may then be NULL). The child dies with its parent
 * (PR_SET_PDEATHSIG), ignores SIGINT (the parent's to handle), ends on
 * SIGTERM, and is journaled when the journal is open, so that even after a
 * crash nothing of it outlives the run. fn's return value (0 or -errno)
 * becomes the exit status (0 or 1). */
int rtv_testbed_spawn(const struct rtv_testbed *tb, const struct rtv_tb_host *h,
		      int (*fn)(void *arg), void *arg, pid_t *pid);

#endif
