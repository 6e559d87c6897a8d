/* Receive packet steering (RPS): which CPUs process the packets a device
 * receives through the backlog. netif_rx() (a driver without NAPI, and veth
 * for every packet that does not take its NAPI) queues a packet on the
 * backlog of the CPU that received it, which on veth is the CPU that sent it;
 * with a non-empty rps_cpus on the receive queue, get_rps_cpu() picks one of
 * those CPUs by the flow's hash instead, and the packet's whole stack work
 * (bridge, forwarding, TCP) runs in that CPU's NET_RX softirq. The separate
 * method uses it to keep the bulk devices' receive work off the RT CPUs
 * while the bulk applications stay free to run anywhere.
 *
 * The interface is sysfs only: /sys/class/net/DEV/queues/rx-N/rps_cpus, a
 * hexadecimal CPU mask in comma-separated groups of 32 bits. A sysfs mount
 * shows the devices of the network namespace its mounter was in, so for a
 * device in a named namespace rtvnet makes a detached sysfs mount from inside
 * that namespace (fsopen/fsmount: nothing is attached to any mount tree, and
 * the mount goes when its fd is closed).
 *
 * Errors: -ENODEV no such device, -ENOENT no such namespace or no RPS in
 * this kernel (CONFIG_RPS off), -EINVAL a bad argument, -errno of sysfs.
 * Never prints. */
#ifndef RTV_NET_RPS_H
#define RTV_NET_RPS_H

#include <sched.h>
#include <stddef.h>

/* Mask text as rps_cpus takes and shows it ("3", "00000000,00000001") to a
 * CPU set, and back (groups of 8 hex digits, most significant first, as the
 * kernel prints it). Pure. */
int rtv_rps_mask_parse(const char *s, cpu_set_t *set);
int rtv_rps_mask_format(const cpu_set_t *set, int ncpus, char *buf, size_t len);

/* The RPS CPUs of dev's receive queue 0 in netns (NULL: the caller's). An
 * empty set: RPS off, the receiving CPU processes. */
int rtv_rps_get(const char *netns, const char *dev, cpu_set_t *set);

/* Journaled: record every receive queue's mask (a "rps" entry each), then
 * set them all to set (empty: off). Undo writes the old masks back; a
 * namespace or device that went is a target gone. 0 or -errno; on error the
 * queues already set stay recorded. */
int rtv_rps_set_journaled(const char *netns, const char *dev, const cpu_set_t *set);

#endif
