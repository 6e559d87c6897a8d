/* The layout shared by the stage tracer's BPF programs (stages.bpf.c) and
 * its loader and aggregator (stages.c): the events of the ring buffer. Not
 * a public interface: include lib/probe/stages.h instead. */
#ifndef RTV_PROBE_STAGES_BPF_H
#define RTV_PROBE_STAGES_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* What an event records (the point of a datagram's path, or an occupant of
 * an RT CPU). */
enum rtv_stg_kind {
	RTV_STG_SEND = 1, /* the send system call entered (ts) of the thread whose xmit follows */
	RTV_STG_XMIT,     /* net_dev_start_xmit on dev */
	RTV_STG_RX,       /* netif_receive_skb on dev: the stack takes it (NAPI or backlog poll) */
	RTV_STG_WAKE,     /* sched_waking of pid, a receiver of the port, after that rx */
	RTV_STG_RUN,      /* sched_switch to that woken pid */
	RTV_STG_RET,      /* pid's receive system call returned with the datagram (tag, seq
			   * read from its buffer; no skb) */
	RTV_STG_OCC,      /* an RT CPU: pid (comm) ran from t2 to ts */
	RTV_STG_SIRQ,     /* an RT CPU: softirq vector (aux >> 8) ran from t2 to ts */
	RTV_STG_KINDS
};

/* aux bits */
#define RTV_STG_REPLY   0x1u /* the datagram's source port is the traced one */
#define RTV_STG_SOFTIRQ 0x2u /* RX: in the NET_RX softirq (softirq_entry/exit) */

struct rtv_stg_event {
	__u64 ts;      /* bpf_ktime_get_ns(): CLOCK_MONOTONIC ns */
	__u64 t2;      /* SEND: the xmit that took it; OCC, SIRQ: the start */
	__u64 skb;     /* the sk_buff's address: joins a datagram's points */
	__u64 tag;     /* the first 16 bytes of the UDP payload (NetRT's tag and seq) */
	__u64 seq;
	__u32 kind;    /* enum rtv_stg_kind */
	__u32 cpu;
	__u32 pid;     /* the current thread; WAKE, RUN: the woken one; OCC: the one that ran */
	__u32 aux;     /* RTV_STG_* bits; SIRQ: vector << 8 */
	char comm[16]; /* WAKE, RUN, OCC: pid's; SIRQ: the task it interrupted; RX: the
			* polling thread's; else empty */
	char dev[16];  /* XMIT, RX */
};

#endif
