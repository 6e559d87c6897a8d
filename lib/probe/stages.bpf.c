/* The per-stage latency tracer in the kernel (lib/probe/stages.h): BTF
 * raw tracepoints (tp_btf) only, attached by BTF id, so no tracefs is
 * needed. fentry/fexit would reach the socket enqueue and the send path
 * directly, but on the development machines' 6.18 kernel (no kprobes) their
 * load fails with EPERM, so every point is a tracepoint. Each program
 * filters what concerns the traced UDP port and reserves one event in a ring
 * buffer, without waking the reader (which would then run once per event,
 * on the very CPUs it measures: it reads every few tens of ms instead);
 * nothing is allocated, every map is preallocated and bounded, and a full
 * ring buffer is counted (drops[0]), never hidden.
 *
 * Points of a datagram's path, joined in user space by the skb's address:
 * the send system call's entry (sys_enter, kept per CPU and taken by the
 * first xmit of a traced datagram in the same thread before that call
 * returns), every net_dev_start_xmit and netif_receive_skb (a veth's xmit is
 * the enqueue on its peer: the time from an xmit to the next receive is the
 * wait to be polled), the wake-up of a receiver of the port that follows a
 * traced receive on the same CPU (the socket's data_ready) and that thread
 * getting the CPU, and the receive call's return (sys_exit of a call in
 * which sock_recv_length saw a socket of the port take datagrams): there
 * the datagrams' first 16 bytes are read from the caller's buffers (UDP
 * copies a linear skb with no tracepoint, and frees it later on another
 * CPU, so the skb is not seen again), which joins them by NetRT's tag and
 * seq in user space. On the RT CPUs, the occupants (tasks
 * between switches, softirqs between entry and exit) that held the CPU at
 * least min_occ_ns. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "stages_bpf.h"

/* BPF_PROG passes ctx to every program, used or not */
#pragma clang diagnostic ignored "-Wunused-parameter"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u16 port = 0;          /* host order */
const volatile __u32 netns_ino = 0;     /* sockets' netns inode; 0: any */
const volatile __u64 rt_cpu_mask = 0;   /* CPUs < 64 whose occupants are recorded; 0: all */
const volatile __u64 min_occ_ns = 20000;
/* the system calls' numbers on this architecture (sys/syscall.h) */
const volatile long nr_sendto = -1, nr_sendmsg = -1, nr_sendmmsg = -1;
const volatile long nr_recvfrom = -1, nr_recvmsg = -1, nr_recvmmsg = -1;
/* a wake-up this long after a traced receive on its CPU is not its */
#define WAKE_WINDOW_NS 500000

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP_ 17
#define NET_RX_VEC 3

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21);
} events SEC(".maps");

/* [0] events the ring buffer had no room for */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct pcpu {
	__u64 send_ts;   /* a send system call's entry ... */
	__u64 send_tid;  /* ... by this thread */
	__u64 rx_skb;    /* the last traced datagram received on this CPU ... */
	__u64 rx_ts;     /* ... when */
	__u32 rx_aux;
	__u32 sirq_on;   /* in a softirq since sirq_since */
	__u32 sirq_vec;
	__u32 pad;
	__u64 sirq_since;
	__u64 occ_since; /* the current task has run since */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pcpu);
} cpus SEC(".maps");

/* What a receiver of the port (a thread that took one of its datagrams)
 * carries, in task-local storage: created by its first receive, so that
 * every other task's wake-ups, switches and system calls cost one lookup
 * that finds nothing (a hash lookup there cost 400-800 ns on the
 * development VMs). */
struct receiver {
	__u64 wake_skb;  /* woken after this traced receive, not yet switched in */
	__u32 wake_aux;
	__u32 in_recv;   /* in a receive call that took datagrams: 0x100 | direction */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct receiver);
} receivers SEC(".maps");

static __always_inline struct pcpu *this_cpu(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&cpus, &k);
}

static __always_inline void count_drop(void)
{
	__u32 k = 0;
	__u64 *c = bpf_map_lookup_elem(&drops, &k);

	if (c)
		(*c)++;
}

static __always_inline struct rtv_stg_event *ev_new(__u32 kind, __u64 ts)
{
	struct rtv_stg_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop();
		return NULL;
	}
	e->ts = ts;
	e->t2 = 0;
	e->skb = 0;
	e->tag = 0;
	e->seq = 0;
	e->kind = kind;
	e->cpu = bpf_get_smp_processor_id();
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->aux = 0;
	__builtin_memset(e->comm, 0, sizeof(e->comm)); /* set where it is read */
	__builtin_memset(e->dev, 0, sizeof(e->dev));
	return e;
}

struct udp_peek {
	__be16 source, dest, len, check;
	__u64 tag, seq;
};

/* A frame as a device sends or receives it: Ethernet at the mac header,
 * read in one go (one probe read cost about 100 ns on the development VMs;
 * the frame's first 80 bytes lie in the skb's head buffer, which is longer).
 * IPv4 without options or IPv6 without extension headers; a later fragment
 * is not matched. */
#define L2_PEEK (ETH_HLEN + 40 + 8 + 16)
static __always_inline int l2_match(struct sk_buff *skb, struct udp_peek *u, __u32 *aux)
{
	unsigned char *head = skb->head;
	__u16 mac = skb->mac_header;
	__u8 f[L2_PEEK];
	__u16 sp, dp, len;
	int l4;

	if (mac == (__u16)~0U || bpf_probe_read_kernel(f, sizeof(f), head + mac))
		return 0;
	if (f[12] == 0x08 && f[13] == 0x00) {
		if (f[14] != 0x45 || f[14 + 9] != IPPROTO_UDP_ || ((f[14 + 6] & 0x1f) | f[14 + 7]))
			return 0;
		l4 = ETH_HLEN + 20;
	} else if (f[12] == 0x86 && f[13] == 0xDD) {
		if (f[14 + 6] != IPPROTO_UDP_)
			return 0;
		l4 = ETH_HLEN + 40;
	} else {
		return 0;
	}
	if (l4 + 24 > L2_PEEK)
		return 0;
	sp = (__u16)(f[l4] << 8 | f[l4 + 1]);
	dp = (__u16)(f[l4 + 2] << 8 | f[l4 + 3]);
	len = (__u16)(f[l4 + 4] << 8 | f[l4 + 5]);
	if (dp == port)
		*aux = 0;
	else if (sp == port)
		*aux = RTV_STG_REPLY;
	else
		return 0;
	if (len >= 8 + 16) {
		__builtin_memcpy(&u->tag, &f[l4 + 8], 8);
		__builtin_memcpy(&u->seq, &f[l4 + 16], 8);
	} else {
		u->tag = u->seq = 0;
	}
	return 1;
}

/* The current task is in the traced namespace. */
static __always_inline int netns_ok(void)
{
	struct task_struct *t;

	if (!netns_ino)
		return 1;
	t = bpf_get_current_task_btf();
	return BPF_CORE_READ(t, nsproxy, net_ns, ns.inum) == netns_ino;
}

static __always_inline void fill(struct rtv_stg_event *e, struct sk_buff *skb,
				 const struct udp_peek *u, __u32 aux)
{
	e->skb = (__u64)skb;
	e->tag = u->tag;
	e->seq = u->seq;
	e->aux = aux;
}

/* ---- system calls ---- */

SEC("tp_btf/sys_enter")
int BPF_PROG(stg_sys_enter, struct pt_regs *regs, long id)
{
	struct pcpu *c;

	if (id != nr_sendto && id != nr_sendmsg && id != nr_sendmmsg)
		return 0;
	c = this_cpu();
	if (c) {
		c->send_ts = bpf_ktime_get_ns();
		c->send_tid = (__u32)bpf_get_current_pid_tgid();
	}
	return 0;
}

/* One received datagram's first 16 bytes, at ubuf in the caller's memory. */
static __always_inline void ret_event(const void *ubuf, __u32 aux, __u64 now)
{
	struct rtv_stg_event *e;
	__u64 peek[2] = {};

	if (bpf_probe_read_user(peek, sizeof(peek), ubuf))
		return;
	e = ev_new(RTV_STG_RET, now);
	if (!e)
		return;
	e->tag = peek[0];
	e->seq = peek[1];
	e->aux = aux;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline void msghdr_event(const struct user_msghdr *um, __u32 aux, __u64 now)
{
	struct iovec *iov = NULL;
	void *base = NULL;

	if (bpf_probe_read_user(&iov, sizeof(iov), &um->msg_iov) || !iov ||
	    bpf_probe_read_user(&base, sizeof(base), &iov->iov_base) || !base)
		return;
	ret_event(base, aux, now);
}

#define RECVMMSG_MAX 16

SEC("tp_btf/sys_exit")
int BPF_PROG(stg_sys_exit, struct pt_regs *regs, long ret)
{
	struct pcpu *c = this_cpu();
	struct receiver *r;
	__u64 now;
	__u32 aux;
	long id;

	if (c && c->send_ts && c->send_tid == (__u32)bpf_get_current_pid_tgid())
		c->send_ts = 0; /* the send is over: no later xmit is its */
	r = bpf_task_storage_get(&receivers, bpf_get_current_task_btf(), 0, 0);
	if (!r || !r->in_recv)
		return 0;
	aux = r->in_recv & RTV_STG_REPLY;
	r->in_recv = 0;
	/* woken while still on its CPU, it never switched in: no run to wait for */
	r->wake_skb = 0;
	if (ret <= 0)
		return 0;
	now = bpf_ktime_get_ns();
#if defined(__TARGET_ARCH_x86)
	id = BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	id = BPF_CORE_READ(regs, syscallno);
#else
	id = -1;
#endif
	if (id == nr_recvfrom) {
		ret_event((const void *)PT_REGS_PARM2_CORE_SYSCALL(regs), aux, now);
	} else if (id == nr_recvmsg) {
		msghdr_event((const void *)PT_REGS_PARM2_CORE_SYSCALL(regs), aux, now);
	} else if (id == nr_recvmmsg) {
		const struct mmsghdr *v = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);

		for (int i = 0; i < RECVMMSG_MAX && i < ret; i++)
			msghdr_event(&v[i].msg_hdr, aux, now);
	}
	return 0;
}

/* ---- devices ---- */

static __always_inline void l2_point(__u32 kind, struct sk_buff *skb, struct net_device *dev)
{
	struct rtv_stg_event *e;
	struct udp_peek u;
	__u32 aux;

	__u64 now = bpf_ktime_get_ns();
	struct pcpu *c = this_cpu();

	if (!l2_match(skb, &u, &aux) || !c)
		return;
	if (kind == RTV_STG_XMIT && c->send_ts &&
	    c->send_tid == (__u32)bpf_get_current_pid_tgid()) {
		__u64 sent = c->send_ts;

		c->send_ts = 0;
		if (netns_ok()) {
			e = ev_new(RTV_STG_SEND, sent);
			if (e) {
				fill(e, skb, &u, aux);
				e->t2 = now;
				bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
			}
		}
	}
	if (kind == RTV_STG_RX) {
		c->rx_skb = (__u64)skb;
		c->rx_ts = now;
		c->rx_aux = aux;
	}
	e = ev_new(kind, now);
	if (!e)
		return;
	fill(e, skb, &u, aux);
	if (dev)
		bpf_probe_read_kernel_str(e->dev, sizeof(e->dev), dev->name);
	if (kind == RTV_STG_RX && c->sirq_on && c->sirq_vec == NET_RX_VEC)
		e->aux |= RTV_STG_SOFTIRQ;
	if (kind == RTV_STG_RX) /* who polled: a NAPI kthread, a poller, ksoftirqd, ... */
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(stg_xmit, struct sk_buff *skb, struct net_device *dev)
{
	l2_point(RTV_STG_XMIT, skb, dev);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(stg_rx, struct sk_buff *skb)
{
	l2_point(RTV_STG_RX, skb, BPF_CORE_READ(skb, dev));
	return 0;
}

/* ---- the receiver ---- */

SEC("tp_btf/sched_waking")
int BPF_PROG(stg_waking, struct task_struct *p)
{
	struct rtv_stg_event *e;
	struct pcpu *c = this_cpu();
	struct receiver *r;
	__u64 now, skb;

	if (!c || !c->rx_skb)
		return 0;
	now = bpf_ktime_get_ns();
	if (now - c->rx_ts > WAKE_WINDOW_NS) {
		c->rx_skb = 0; /* not its: an intermediate hop's, or nobody slept */
		return 0;
	}
	r = bpf_task_storage_get(&receivers, p, 0, 0);
	if (!r)
		return 0;
	skb = c->rx_skb;
	c->rx_skb = 0; /* one wake-up per datagram */
	r->wake_skb = skb;
	r->wake_aux = c->rx_aux;
	e = ev_new(RTV_STG_WAKE, now);
	if (!e)
		return 0;
	e->skb = skb;
	e->aux = c->rx_aux;
	e->pid = BPF_CORE_READ(p, pid);
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

static __always_inline int rt_cpu(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return !rt_cpu_mask || (cpu < 64 && (rt_cpu_mask >> cpu) & 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(stg_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();
	struct rtv_stg_event *e;
	struct pcpu *c = this_cpu();
	struct receiver *r;

	if (c && rt_cpu()) {
		if (c->occ_since && now - c->occ_since >= min_occ_ns) {
			e = ev_new(RTV_STG_OCC, now);
			if (e) {
				e->t2 = c->occ_since;
				e->pid = BPF_CORE_READ(prev, pid);
				BPF_CORE_READ_STR_INTO(&e->comm, prev, comm);
				bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
			}
		}
		c->occ_since = now;
	}
	r = bpf_task_storage_get(&receivers, next, 0, 0);
	if (!r || !r->wake_skb)
		return 0;
	e = ev_new(RTV_STG_RUN, now);
	if (e) {
		e->skb = r->wake_skb;
		e->aux = r->wake_aux;
		e->pid = BPF_CORE_READ(next, pid);
		BPF_CORE_READ_STR_INTO(&e->comm, next, comm);
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	r->wake_skb = 0;
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(stg_sirq_entry, unsigned int vec)
{
	struct pcpu *c = this_cpu();

	if (c) {
		c->sirq_on = 1;
		c->sirq_vec = vec;
		c->sirq_since = bpf_ktime_get_ns();
	}
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(stg_sirq_exit, unsigned int vec)
{
	__u64 now = bpf_ktime_get_ns();
	struct rtv_stg_event *e;
	struct pcpu *c = this_cpu();

	if (!c || !c->sirq_on)
		return 0;
	c->sirq_on = 0;
	if (!rt_cpu() || now - c->sirq_since < min_occ_ns)
		return 0;
	e = ev_new(RTV_STG_SIRQ, now);
	if (!e)
		return 0;
	e->t2 = c->sirq_since;
	e->aux = vec << 8;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* ---- the receive call ---- */

/* A socket of the port took a datagram in a receive call: its thread is a
 * receiver (its wake-ups count), and the call's return will say which
 * datagrams it took. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(stg_recv, struct sock *sk, int ret, int flags)
{
	struct receiver *r;
	__u32 v;

	if (ret < 0 || !sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP_)
		return 0;
	if (BPF_CORE_READ(sk, __sk_common.skc_num) == port)
		v = 0x100;
	else if (BPF_CORE_READ(sk, __sk_common.skc_dport) == bpf_htons(port))
		v = 0x100 | RTV_STG_REPLY;
	else
		return 0;
	if (netns_ino && BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != netns_ino)
		return 0;
	r = bpf_task_storage_get(&receivers, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (r)
		r->in_recv = v;
	return 0;
}
