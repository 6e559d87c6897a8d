/* Link events of chosen devices, in one or more network namespaces, for
 * whatever has to re-apply per-NAPI settings: the kernel destroys a NAPI and
 * makes a new one (new id, new kthread at SCHED_OTHER, its settings lost) on
 * link down/up and when GRO or XDP is toggled (see net/napi.h,
 * rtv_napi_dev_reapply()).
 *
 * No thread of its own: the caller polls, either with a timeout in
 * rtv_linkwatch_poll() or by putting rtv_linkwatch_fd() in its own poll loop
 * and calling rtv_linkwatch_poll() with timeout 0 when it is readable.
 *
 * Sockets: one NETLINK_ROUTE socket per namespace, subscribed to
 * RTNLGRP_LINK and opened inside the namespace (rtv_netns_run()), since a
 * socket hears the namespace it was made in for its whole life; all of them
 * in one epoll fd. They are owned by the watch and closed by
 * rtv_linkwatch_free(). A socket holds a reference to its namespace: a
 * watched namespace removed with `ip netns del` lives on, devices and all,
 * until the watch is freed.
 *
 * What counts as a change of a watched device: it appears, goes away (also by
 * rename or by moving to another namespace), is recreated (new ifindex), goes
 * up or down (IFF_UP), gains or loses carrier (IFF_RUNNING, IFF_LOWER_UP: some
 * drivers rebuild their queues that way), changes MTU or XDP program, and the
 * kernel's "features changed" (GRO toggled) and "reboot" (the driver reset
 * the hardware) notices. Address, statistics or other attribute updates are
 * filtered out. It may still over-report; callers re-list the NAPIs and
 * compare ids. It cannot see what sends no link event at all: an XDP program
 * attached through a bpf_link (BPF_LINK_CREATE) rather than netlink, or
 * a driver that rebuilds its NAPIs without any visible change (`ethtool -L`
 * on some NICs); callers who care also re-apply on a timer.
 *
 * A device is its name in its namespace: a device added later under a
 * watched name is reported when it appears.
 *
 * Not thread-safe: one thread uses a watch at a time. Never prints. */
#ifndef RTV_NET_LINKWATCH_H
#define RTV_NET_LINKWATCH_H

#include <stdbool.h>

struct rtv_linkwatch;

/* An empty watch in *lw (NULL on error). 0 or -errno. */
int rtv_linkwatch_new(struct rtv_linkwatch **lw);

/* Watch device dev in network namespace netns (NULL: the namespace of the
 * calling thread at this moment; poll from that same namespace, since after
 * lost events the states are read again where the poll runs). Opens the namespace's socket on the first
 * device there, then reads the device's current state as the baseline
 * against which events are compared (a device that does not exist yet is
 * watched all the same, as absent). Watching a device twice is a no-op.
 * 0 or -errno: -EINVAL for a bad name (empty, IFNAMSIZ or longer), -ENOENT
 * when netns does not exist. */
int rtv_linkwatch_add(struct rtv_linkwatch *lw, const char *netns, const char *dev);

/* The epoll fd that is readable while events are pending (owned by the
 * watch: do not close it), or -EINVAL for NULL. */
int rtv_linkwatch_fd(const struct rtv_linkwatch *lw);

/* The callback: netns as given to rtv_linkwatch_add() (NULL for the
 * caller's), dev the watched name, up whether the device now exists and is
 * administratively up (IFF_UP). Both strings are the watch's, valid during
 * the call. fn must not add devices to or free the watch it is called from. */
typedef void (*rtv_linkwatch_fn)(void *arg, const char *netns, const char *dev, bool up);

/* Read pending events, waiting at most timeout_ms for the first (0: do not
 * wait, -1: wait for ever), then call fn once for each watched device that
 * changed since the last poll (several events of one device make one call,
 * with its latest state). When a socket's queue overflowed (ENOBUFS: events
 * were lost) every device of that namespace counts as changed, with its state
 * read afresh. fn may be NULL to count only. Returns the number of calls, 0
 * when nothing changed (or the timeout passed), or -errno: -EINTR when a
 * signal came first, -EINVAL for a bad argument. */
int rtv_linkwatch_poll(struct rtv_linkwatch *lw, int timeout_ms, rtv_linkwatch_fn fn, void *arg);

/* Close the sockets and the epoll fd, free the watch. NULL-safe. */
void rtv_linkwatch_free(struct rtv_linkwatch *lw);

#endif
