/* The outsourcing policy in the kernel: cgroup sock_addr programs that let
 * a socket created by a task of the cgroup bind, connect or send only where
 * the policy's rules allow (lib/outsource/policy.h). A program returning 0
 * makes the system call fail with EPERM.
 *
 * Built with clang -target bpf; embedded in rtvnet by `bpftool gen
 * skeleton`. It reads only struct bpf_sock_addr, the context's stable uapi
 * (the verifier rewrites each field access to the kernel's layout), so it
 * needs no vmlinux.h and no CO-RE relocations. */
#include <linux/bpf.h>
#include <linux/in.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "policy_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, RTV_POLICY_PREFIXES_MAX);
	__type(key, struct rtv_lpm4_key);
	__type(value, struct rtv_rules);
} rtv_rules4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, RTV_POLICY_PREFIXES_MAX);
	__type(key, struct rtv_lpm6_key);
	__type(value, struct rtv_rules);
} rtv_rules6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RTV_POLICY_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} rtv_counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&rtv_counters, &idx);

	/* atomic: two tasks on one CPU may interleave (these programs run
	 * with migration, not preemption, disabled) */
	if (c)
		__sync_fetch_and_add(c, 1);
}

/* Whether one of the rules allows proto to port (host order). */
static __always_inline int rules_allow(const struct rtv_rules *v, __u8 proto, __u16 port)
{
	if (!v)
		return 0;
	for (__u32 i = 0; i < RTV_POLICY_RULES_MAX; i++) {
		const struct rtv_port_rule *r = &v->r[i];

		if (i >= v->n)
			break;
		if ((!r->proto || r->proto == proto) && port >= r->lo && port <= r->hi)
			return 1;
	}
	return 0;
}

static __always_inline int verdict(enum rtv_policy_bpf_prog prog, int ok)
{
	count(2 * prog);
	if (!ok)
		count(2 * prog + 1);
	return ok;
}

/* addr in network order, as the context holds it */
static __always_inline int allow4(__u8 list, __u32 addr, __u8 proto, __u16 port)
{
	struct rtv_lpm4_key k = { .prefixlen = 64, .list = list };

	__builtin_memcpy(k.addr, &addr, 4);
	return rules_allow(bpf_map_lookup_elem(&rtv_rules4, &k), proto, port);
}

static __always_inline int check4(struct bpf_sock_addr *ctx, __u8 list,
				  enum rtv_policy_bpf_prog prog)
{
	return verdict(prog, allow4(list, ctx->user_ip4, (__u8)ctx->protocol,
				    bpf_ntohs((__u16)ctx->user_port)));
}

/* An IPv4-mapped address (::ffff:a.b.c.d) reaches IPv4 through an IPv6
 * socket: it is checked against the IPv4 rules, so ::/0 never opens IPv4. */
static __always_inline int check6(struct bpf_sock_addr *ctx, __u8 list,
				  enum rtv_policy_bpf_prog prog)
{
	struct rtv_lpm6_key k = { .prefixlen = 32 + 128, .list = list };
	__u8 proto = (__u8)ctx->protocol;
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1];
	__u32 a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];

	if (!a0 && !a1 && a2 == bpf_htonl(0xffff))
		return verdict(prog, allow4(list, a3, proto, port));
	__builtin_memcpy(k.addr, &a0, 4);
	__builtin_memcpy(k.addr + 4, &a1, 4);
	__builtin_memcpy(k.addr + 8, &a2, 4);
	__builtin_memcpy(k.addr + 12, &a3, 4);
	return verdict(prog, rules_allow(bpf_map_lookup_elem(&rtv_rules6, &k), proto, port));
}

SEC("cgroup/bind4")
int rtv_bind4(struct bpf_sock_addr *ctx)
{
	return check4(ctx, RTV_PL_BIND, RTV_PP_BIND4);
}

SEC("cgroup/bind6")
int rtv_bind6(struct bpf_sock_addr *ctx)
{
	return check6(ctx, RTV_PL_BIND, RTV_PP_BIND6);
}

SEC("cgroup/connect4")
int rtv_connect4(struct bpf_sock_addr *ctx)
{
	return check4(ctx, RTV_PL_CONNECT, RTV_PP_CONNECT4);
}

SEC("cgroup/connect6")
int rtv_connect6(struct bpf_sock_addr *ctx)
{
	return check6(ctx, RTV_PL_CONNECT, RTV_PP_CONNECT6);
}

SEC("cgroup/sendmsg4")
int rtv_sendmsg4(struct bpf_sock_addr *ctx)
{
	return check4(ctx, RTV_PL_SENDMSG, RTV_PP_SENDMSG4);
}

SEC("cgroup/sendmsg6")
int rtv_sendmsg6(struct bpf_sock_addr *ctx)
{
	return check6(ctx, RTV_PL_SENDMSG, RTV_PP_SENDMSG6);
}

char LICENSE[] SEC("license") = "GPL";
