/* The layout shared by the policy's BPF programs (policy.bpf.c) and the
 * loader (policy.c): map keys, values and counter indexes. Not a public
 * interface: include lib/outsource/policy.h instead.
 *
 * Two LPM tries, one per family, hold the rules. A key is the list (bind,
 * connect, sendmsg) in a 32-bit big-endian-ordered prefix followed by the
 * address in network order; its prefixlen is 32 + the address's prefix
 * length, so one lookup finds the longest prefix of that list containing
 * the address. A value carries the port ranges and protocols allowed for
 * that prefix *and every shorter prefix of the same list containing it*
 * (the loader copies them down), so the longest match alone decides. */
#ifndef RTV_OUTSOURCE_POLICY_BPF_H
#define RTV_OUTSOURCE_POLICY_BPF_H

#include <linux/types.h>

/* Rules (protocol and port range) one prefix may carry, its covering
 * prefixes' included; the BPF loop is bounded by it. The same values as
 * policy.h's (an identical redefinition where both are included; policy.c
 * checks). */
#define RTV_POLICY_RULES_MAX 32
/* Distinct prefixes per family, over the three lists. */
#define RTV_POLICY_PREFIXES_MAX 1024

enum rtv_policy_bpf_list { RTV_PL_BIND = 1, RTV_PL_CONNECT = 2, RTV_PL_SENDMSG = 3 };

struct rtv_lpm4_key {
	__u32 prefixlen; /* 32 + the address's prefix length, in bits */
	__u8 list;       /* enum rtv_policy_bpf_list */
	__u8 pad[3];     /* zero: part of the prefix */
	__u8 addr[4];    /* network order */
};

struct rtv_lpm6_key {
	__u32 prefixlen;
	__u8 list;
	__u8 pad[3];
	__u8 addr[16];
};

struct rtv_port_rule {
	__u16 lo, hi; /* host order, inclusive */
	__u8 proto;   /* IPPROTO_UDP, IPPROTO_TCP, or 0 for any */
	__u8 pad[3];
};

struct rtv_rules {
	__u32 n;
	__u32 pad;
	struct rtv_port_rule r[RTV_POLICY_RULES_MAX];
};

/* Programs, in the counters' order. */
enum rtv_policy_bpf_prog {
	RTV_PP_BIND4, RTV_PP_BIND6, RTV_PP_CONNECT4, RTV_PP_CONNECT6,
	RTV_PP_SENDMSG4, RTV_PP_SENDMSG6, RTV_PP_N
};
/* The per-CPU counter array: index 2 * prog counts the calls, 2 * prog + 1
 * the refusals. */
#define RTV_POLICY_COUNTERS (2 * RTV_PP_N)

#endif
