/* Named network namespaces, compatible with iproute2 (`ip netns`): a
 * namespace is kept alive by a bind mount on /run/netns/NAME. */
#ifndef RTV_NET_NETNS_H
#define RTV_NET_NETNS_H

#include <stdbool.h>

#define RTV_NETNS_DIR "/run/netns"

/* Create NAME (journaled before it exists). -EEXIST if it exists. */
int rtv_netns_add(const char *name);
bool rtv_netns_exists(const char *name);
/* Open NAME's namespace file; returns an fd (caller closes) or -errno. */
int rtv_netns_open(const char *name);
/* Move the calling thread into NAME (for a child process about to run a
 * service there). */
int rtv_netns_enter(const char *name);
/* Run fn(arg) with the calling thread in NAME, then come back. Returns fn's
 * value, or -errno if entering or leaving failed. */
int rtv_netns_run(const char *name, int (*fn)(void *arg), void *arg);

/* For snapshot readers: call fn(ns, ifindex, dev, arg) for every network
 * device of the root namespace (ns "-") and of every named one, with the
 * calling thread in the device's namespace. Names are those in
 * RTV_NETNS_DIR; a namespace that cannot be entered is skipped. 0 or the
 * first -errno fn returned. */
int rtv_netns_each_dev(int (*fn)(const char *ns, unsigned ifindex, const char *dev, void *arg),
		       void *arg);

#endif
