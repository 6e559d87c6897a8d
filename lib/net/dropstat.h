/* Where packets were dropped, as procfs counts them: a network namespace's
 * device drops (/proc/<pid>/net/dev), its UDP socket errors
 * (/proc/<pid>/net/snmp) and the CPUs' backlog drops
 * (/proc/net/softnet_stat). Readers of text only: the proc root or path is a
 * parameter, so tests give them fake files. No function prints or keeps
 * state; each opens, reads and closes its files (a few KiB: call them
 * between trials, not per packet).
 *
 * Formats read (Linux 2.6 .. 6.x, unchanged):
 *   net/dev:  two header lines ("Inter-|   Receive ...",
 *             " face |bytes    packets errs drop ..."), then one line per
 *             device: "  NAME: " and 16 decimal counters, receive
 *             (bytes packets errs drop fifo frame compressed multicast)
 *             then transmit (bytes packets errs drop fifo colls carrier
 *             compressed). rx drop is counter 4, tx drop counter 12.
 *   net/snmp: pairs of lines "Udp: Name Name ..." and "Udp: n n ...";
 *             the values are found by name ("UdpLite:" is another row).
 *   softnet_stat: one line per online CPU of at least 3 hex counters:
 *             processed, dropped (backlog full: netdev_max_backlog), and
 *             time_squeeze (net_rx_action out of budget or time). It is
 *             global, not per namespace.
 * The counters are the kernel's since boot (or since the device or
 * namespace was created): callers take differences. */
#ifndef RTV_NET_DROPSTAT_H
#define RTV_NET_DROPSTAT_H

#include <stdint.h>

/* One network namespace's drop counters, as /proc/<pid>/net/{dev,snmp}
 * show them for that pid's netns. */
struct rtv_dropstat {
	/* summed over the namespace's devices ("drop" columns of net/dev), lo excluded */
	uint64_t rx_dropped, tx_dropped;
	/* "Udp:" rows of net/snmp (RcvbufErrors, InErrors, SndbufErrors, NoPorts) */
	uint64_t udp_rcvbuf_errors, udp_in_errors, udp_sndbuf_errors, udp_no_ports;
};

/* Read them from <root>/net/dev and <root>/net/snmp; root "/proc/self" or
 * "/proc/1234" on a real host, a directory of fake files in tests.
 * /proc/<pid>/net is the namespace of that process's main thread: a thread
 * that setns()'d into another namespace reads its own with
 * "/proc/thread-self"; another namespace is read through the pid of any
 * process in it (a reflector's, a sleeper's). Returns 0
 * or -errno: -ENOENT (a file missing, as open() says), -EINVAL (NULL
 * argument; a file not in the format above: a bad header or device line, no
 * Udp rows, a Udp row lacking one of the four names, rows of unequal
 * length). *out is written only on success. */
int rtv_dropstat_read(const char *root, struct rtv_dropstat *out);

/* One device's drops, from <root>/net/dev. */
struct rtv_dropdev {
	char name[16]; /* IFNAMSIZ: always NUL-terminated */
	uint64_t rx_dropped, tx_dropped;
};

/* The per-device drops too: up to max devices' {name, rx_dropped,
 * tx_dropped} in the file's order (lo included). Returns the number stored
 * (devices beyond max are left out), or -errno as rtv_dropstat_read(). */
int rtv_dropstat_devs(const char *root, struct rtv_dropdev *out, int max);

/* /proc/net/softnet_stat (path): summed over CPUs, column 2 (dropped:
 * backlog full) and column 3 (time_squeeze). Hex columns. Returns 0, or
 * -errno: -EINVAL for NULL arguments, a line of fewer than 3 hex columns or
 * a file with no line; as open() says for a missing file. */
int rtv_softnet_read(const char *path, uint64_t *dropped, uint64_t *squeezed);

#endif
