/* Device offload features by the kernel's names for them (the ETH_SS_FEATURES
 * strings: "rx-gro", "rx-udp-gro-forwarding", "tx-tcp-segmentation"), which
 * are what `ethtool -K` accepts and, for most, what `ethtool -k` prints (it
 * shows a few under older names: rx-gro as "generic-receive-offload"). All
 * through the SIOCETHTOOL ioctl on an AF_INET datagram socket
 * (ETHTOOL_GSSET_INFO/GSTRINGS for the names, ETHTOOL_GFEATURES/SFEATURES for
 * the values, ETHTOOL_GDRVINFO for the driver).
 *
 * The testbed needs them because veth has a NAPI only with GRO on (or a
 * native XDP program attached), and veth_xmit() sends a packet through it
 * only when the packet is GRO-eligible: for the RT service's UDP that means
 * rx-udp-gro-forwarding on the receiving end. Anything else goes through
 * netif_rx() to the backlog softirq of the sending CPU.
 *
 * Sockets: every call opens its own socket and closes it before returning,
 * so the plain calls act in the network namespace of the calling thread at
 * that moment; the journaled one enters the named namespace itself. Errors:
 * -ENODEV no such device, -ENOENT no feature of that name, -EOPNOTSUPP the
 * feature is fixed on this device or the kernel did not take the value (read
 * back), -EINVAL a bad argument (NULL, or a device name that is empty or
 * longer than IFNAMSIZ - 1), -EPERM setting without CAP_NET_ADMIN. Never
 * prints. */
#ifndef RTV_NET_ETHTOOL_H
#define RTV_NET_ETHTOOL_H

#include <stdbool.h>
#include <stddef.h>

/* The active value: 1 when on, 0 when off, or -errno. */
int rtv_ethtool_feature_get(const char *dev, const char *feature);
/* Set one feature and check that it took (read back). Already at the value
 * is success, even for a fixed feature. When the kernel records the wish but
 * does not act on it (a feature it depends on is off), the wish is withdrawn
 * and -EOPNOTSUPP returned: a failed call leaves the device as it was. Not
 * journaled. 0 or -errno. */
int rtv_ethtool_feature_set(const char *dev, const char *feature, bool on);

/* The name of dev's driver ("veth", "virtio_net") into buf, NUL-terminated.
 * 0 or -errno; -ENOSPC when it does not fit in len bytes. */
int rtv_ethtool_driver(const char *dev, char *buf, size_t len);

/* Journaled: in network namespace netns (NULL: the caller's), record the
 * feature's current value as a "feature" journal entry, then set it. Nothing
 * is recorded when the value is already `on`; nothing is left recorded when
 * setting fails (the module registers the kind).
 * Undo restores the old value; a device or namespace that is gone is a
 * target gone (RTV_JOURNAL_GONE); an entry made with netns NULL is undone in the namespace of the
 * thread that undoes it. 0 or -errno; -ENOENT also when netns does not
 * exist, -EBADF when the journal is not open. */
int rtv_ethtool_feature_set_journaled(const char *netns, const char *dev, const char *feature,
				      bool on);

#endif
