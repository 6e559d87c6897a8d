/* NAPI control: per-NAPI settings through the generic netlink family "netdev"
 * (napi-get, napi-set), and the per-device sysfs switch
 * /sys/class/net/DEV/threaded as the fallback for kernels without per-NAPI
 * "threaded" (before 6.17).
 *
 * Sockets: every netlink call opens its own NETLINK_GENERIC socket and closes
 * it before returning, so a call acts on the network namespace of the calling
 * thread at that moment (use rtv_netns_run() to act inside another one) and
 * no fd outlives the call. Only the family id is cached, once per process
 * (generic netlink ids are the same in every namespace).
 *
 * Errors common to the netlink calls:
 *   -EOPNOTSUPP  the kernel has no "netdev" family (before 6.3) or no NAPI
 *                commands in it (before 6.8): kernel too old
 *   -ENOENT      no NAPI with that id (in the caller's namespace)
 *   -ENODEV      no device with that ifindex
 *   -EPERM       rtv_napi_set() needs CAP_NET_ADMIN
 *   -EINVAL      a bad argument, caught here before anything is sent; or
 *                from the kernel, an attribute it does not know (per-NAPI
 *                threaded before 6.17, irq_suspend before 6.13)
 *   -ERANGE      from the kernel, a value outside what it accepts
 *                (threaded = 2 "busy-poll" before 6.19)
 *
 * The plain setters (rtv_napi_set(), rtv_napi_dev_threaded_set()) do not go
 * through the journal (host/journal.h): callers that use them record the old
 * values themselves. rtv_napi_dev_apply() and rtv_napi_dev_reapply() do: they
 * record a "napi" journal entry for each NAPI before changing it.
 *
 * A NAPI does not keep its settings for life: link down/up and GRO or XDP
 * toggles destroy it and make a new one (new id, new kthread at SCHED_OTHER,
 * the device-level defaults). Watch the device (net/linkwatch.h) and call
 * rtv_napi_dev_reapply() on every event. */
#ifndef RTV_NET_NAPI_H
#define RTV_NET_NAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values of threaded, per NAPI and in sysfs. */
enum {
	RTV_NAPI_THREADED_OFF = 0,
	RTV_NAPI_THREADED_ON = 1,
	RTV_NAPI_THREADED_BUSY_POLL = 2, /* 6.19 and later */
};

/* One NAPI instance as napi-get reports it. */
struct rtv_napi {
	uint32_t id;
	uint32_t ifindex;
	int32_t irq;                     /* -1 none */
	int32_t pid;                     /* kthread pid, -1 when not threaded */
	uint32_t defer_hard_irqs;
	uint64_t gro_flush_timeout_ns;
	uint64_t irq_suspend_timeout_ns; /* 0 also when the kernel has none (< 6.13) */
	int32_t threaded;                /* RTV_NAPI_THREADED_*, -1 unknown (< 6.17) */
};

/* What rtv_napi_set() changes: only the fields whose has_ flag is true. */
struct rtv_napi_params {
	bool has_threaded;
	uint32_t threaded;               /* RTV_NAPI_THREADED_*, at most 2 */
	bool has_defer;
	uint32_t defer_hard_irqs;        /* at most INT32_MAX */
	bool has_gro_flush;
	uint64_t gro_flush_timeout_ns;
	bool has_irq_suspend;
	uint64_t irq_suspend_timeout_ns;
};

/* The numeric id of the "netdev" generic netlink family (cached after the
 * first success), or -EOPNOTSUPP when the kernel has none, or -errno. */
int rtv_napi_family_id(void);

/* List the NAPIs of device ifindex (ifindex 0: of every device in the
 * caller's namespace) into out[0..max-1]. Returns how many there are, which
 * may be more than max (only max are stored then), or -errno. out may be
 * NULL when max is 0, to count them. */
int rtv_napi_list(int ifindex, struct rtv_napi *out, int max);

/* Read NAPI id into *out. 0 or -errno (-ENOENT: no such NAPI). */
int rtv_napi_get(uint32_t id, struct rtv_napi *out);

/* Change the fields of NAPI id that p marks as present; the kernel's answer
 * is checked (acked request). 0 or -errno; -EINVAL when p marks nothing or a
 * value is out of range (threaded > 2, defer_hard_irqs > INT32_MAX). A NAPI
 * that is destroyed and recreated (link down/up, GRO or XDP toggled) gets a
 * new id and loses these values: callers must re-apply them. */
int rtv_napi_set(uint32_t id, const struct rtv_napi_params *p);

/* The per-device fallback: write on ("0\n", "1\n" or "2\n", as `echo` does
 * and as the kernel prints it back) to SYSFS_NET_ROOT/DEV/threaded, where
 * sysfs_net_root is "/sys/class/net" on a real host (the files of the caller's
 * namespace, once /sys is mounted for it as `ip netns exec` does). Writes
 * the file directly, NOT through the journal. 0 or -errno: -EINVAL for a bad
 * name or on outside 0..2, -ENODEV when DEV is absent, -EOPNOTSUPP when DEV
 * has no threaded file (kernel before 5.12) or the kernel refuses the value
 * (no NAPI on the device; 2 before 6.19). */
int rtv_napi_dev_threaded_set(const char *sysfs_net_root, const char *dev, int on);

/* Read SYSFS_NET_ROOT/DEV/threaded: returns its value (0, 1 or 2) or -errno
 * (-ENODEV, -EOPNOTSUPP as above; -EINVAL when the content is not a number). */
int rtv_napi_dev_threaded_get(const char *sysfs_net_root, const char *dev);

/* ---- Settings as text: journal entries and command lines ---- */

/* Format the fields p marks as present as "threaded=N,defer=N,gro-flush=N,
 * irq-suspend=N" (in that order, only the present ones; timeouts in ns,
 * decimal) into buf. Returns the length (without the NUL), -EINVAL when p
 * marks nothing, or -ENOSPC when it does not fit in len bytes. */
int rtv_napi_params_format(const struct rtv_napi_params *p, char *buf, size_t len);

/* Parse what rtv_napi_params_format() writes into *p (every field it does not
 * name is marked absent). Keys in any order, each at most once; values whole
 * decimal numbers without sign. 0, -EINVAL on syntax (empty, unknown or
 * repeated key, a missing "=", a stray comma), -ERANGE for a value out of
 * range (threaded > 2, defer > INT32_MAX, beyond 64 bits). *p is changed
 * only on success. */
int rtv_napi_params_parse(const char *s, struct rtv_napi_params *p);

/* ---- Journaled settings of a whole device ---- */

/* The "napi" journal kind (host/journal.h, registered by this module): an
 * entry is "napi NETNS DEV IFINDEX ID OLD": NETNS the namespace's name or
 * "-" for the namespace of the thread that undoes it, DEV the device's name
 * (for reading), IFINDEX and ID the NAPI's, OLD the values before the change
 * of the fields that were set, as rtv_napi_params_format() writes them.
 * Undo enters NETNS and napi-sets OLD on ID. A namespace, device or NAPI
 * that is gone, or an ID that now belongs to another ifindex, is a target
 * gone (RTV_JOURNAL_GONE: the kernel forgot the values with the NAPI). */

/* The NAPIs of device dev in network namespace netns (NULL: the caller's),
 * as rtv_napi_list() returns them: the count (possibly more than max, only
 * max stored) or -errno; -ENODEV no such device, -ENOENT no such netns. */
int rtv_napi_dev_list(const char *netns, const char *dev, struct rtv_napi *out, int max);

/* For every NAPI of device dev in network namespace netns (NULL: the
 * caller's): record the current values of the fields p marks as present (one
 * "napi" journal entry per NAPI, see above), then set them (rtv_napi_set()).
 * A NAPI whose fields already have p's values is neither recorded nor set.
 * Registers the "napi" kind itself; the journal must be open (-EBADF).
 *
 * Fills out[0..max-1] with the device's NAPIs as read back after setting (so
 * pid is the kthread's pid once threaded; out may be NULL when max is 0).
 * Returns the number of NAPIs, possibly more than max, 0 when the device has
 * none (veth with GRO off and no XDP, or a device that is down), or -errno:
 * -EINVAL for a bad argument or when the kernel has no per-NAPI threaded
 * (before 6.17) and p sets it; -ENODEV, -ENOENT (netns), -EBADF as above;
 * the errors of rtv_napi_set(). On error nothing this call changed stays
 * changed and nothing it recorded stays recorded (changes to the NAPIs before
 * the failing one are undone through their entries). A NAPI that vanishes
 * while this runs (link down/up) makes it start over on the new ones, at most
 * three times. */
int rtv_napi_dev_apply(const char *netns, const char *dev, const struct rtv_napi_params *p,
		       struct rtv_napi *out, int max);

/* Re-apply after a link event: list the NAPIs of dev (in netns, NULL: the
 * caller's) and compare them with known[0..*nknown-1], what the last apply
 * returned. When the set of NAPIs differs (an id or a kthread pid is new or
 * gone, or the count changed), apply p again with rtv_napi_dev_apply()
 * (journaled), store what it read back in known[0..max-1] and its count, at
 * most max, in *nknown. Returns 1 when the NAPIs had changed (p then applied
 * to the ones there are now, possibly none: *nknown 0 while the link is
 * down), 0 when nothing changed, or -errno as rtv_napi_dev_apply() (known
 * and *nknown are unchanged then). */
int rtv_napi_dev_reapply(const char *netns, const char *dev, const struct rtv_napi_params *p,
			 struct rtv_napi *known, int *nknown, int max);

#endif
