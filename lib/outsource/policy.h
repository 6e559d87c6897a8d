/* The outsourcing policy: which addresses and ports the sockets of a
 * container may bind, connect and send to, enforced in the kernel by cgroup
 * sock_addr BPF programs (bind4/6, connect4/6, sendmsg4/6; policy.bpf.c)
 * attached to the container's cgroup v2 cgroup. They run for every socket
 * *created* by a task of that cgroup or its descendants, whoever uses it
 * later (the kernel takes a socket's cgroup at creation): so the outsourcing
 * helper that creates the container's sockets must live in it. A refused
 * bind(), connect(), sendto() or sendmsg() fails with EPERM; nothing else
 * changes (the programs never rewrite an address).
 *
 * The policy file (JSON):
 *
 *   { "bind":    [ "udp:7000", "tcp:8080-8089", "udp:0" ],
 *     "connect": [ "198.18.0.0/15", "udp:[2001:db8::]/32:53", "tcp:any" ],
 *     "sendmsg": [ "198.18.0.0/15" ] }
 *
 * Each list holds entries; an operation is allowed when one entry of its
 * list matches its protocol, address and port, refused otherwise. An entry
 * is a string "[PROTO:]TARGET":
 *   PROTO   "udp" or "tcp"; without it the entry matches every protocol.
 *   TARGET  "any"                       every address, every port
 *           PORTS                       every address, these ports
 *           IPV4[/LEN][:PORTS]          an IPv4 prefix (default /32)
 *           IPV6[/LEN]                  an IPv6 prefix (default /128)
 *           [IPV6][/LEN][:PORTS]        the same with ports: brackets needed
 *   PORTS   N or N-M (inclusive), 0 to 65535; without PORTS every port.
 * The address is the local one for "bind" (0.0.0.0 and :: are the wildcard
 * addresses a bind names: "any" or a port-only entry allows them), the
 * destination for "connect" and "sendmsg". An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is checked against the IPv4 entries, so "::/0" never
 * opens IPv4. A prefix must have no bit set past its length
 * ("198.18.0.1/15" is refused: write 198.18.0.0/15).
 * Binding port 0 (the kernel picks an ephemeral port) needs an entry
 * allowing port 0, such as "udp:0"; the implicit binding a connect(), a
 * first sendto() or a listen() of an unbound socket makes is not a bind()
 * (no program runs) and is always allowed: it takes a free port of the
 * ephemeral range (net.ipv4.ip_local_port_range).
 * "sendmsg" applies to datagrams sent with an address (sendto, sendmsg with
 * msg_name; UDP); a connected socket's sends were checked at connect().
 * A missing key: "bind" none allowed, "connect" ["any"], "sendmsg" the same
 * entries as "connect". An empty list allows nothing. Other keys are
 * refused (a typo would otherwise loosen a policy).
 * Limits: at most RTV_POLICY_RULES_MAX (32) entries may apply to one prefix
 * of one list (its own and those of the prefixes containing it; an entry
 * without an address applies to every prefix of its list), at most
 * RTV_POLICY_PREFIXES_MAX (1024) distinct prefixes per address family.
 *
 * The default policy (rtv_policy_default): bind only the ports the
 * container declared, connect and send anywhere.
 *
 * Needs: kernel 5.7+ (bpf_link for cgroups, BPF_LINK_DETACH 5.9), root
 * (CAP_BPF + CAP_NET_ADMIN + CAP_SYS_ADMIN for the cgroup and the journal).
 * Units and byte orders: ports are host order, addresses network order,
 * prefix lengths bits. */
#ifndef RTV_OUTSOURCE_POLICY_H
#define RTV_OUTSOURCE_POLICY_H

#include <stddef.h>
#include <stdint.h>

enum rtv_policy_list { RTV_POLICY_BIND, RTV_POLICY_CONNECT, RTV_POLICY_SENDMSG, RTV_POLICY_LISTS };

/* Entries that may apply to one prefix of one list, and distinct prefixes
 * per family (the BPF maps' sizes; policy_bpf.h has the same values). */
#define RTV_POLICY_RULES_MAX 32
#define RTV_POLICY_PREFIXES_MAX 1024

/* One entry, parsed. */
struct rtv_policy_rule {
	enum rtv_policy_list list;
	uint8_t proto;      /* IPPROTO_UDP, IPPROTO_TCP, or 0: every protocol */
	uint8_t family;     /* AF_INET, AF_INET6, or AF_UNSPEC: both ("any", PORTS) */
	uint8_t prefix_len; /* bits; 0 for AF_UNSPEC */
	uint8_t addr[16];   /* network order: 4 bytes for AF_INET, the rest zero */
	uint16_t port_lo;   /* host order, inclusive; 0-65535 when the entry */
	uint16_t port_hi;   /* names no port */
};

struct rtv_policy; /* opaque; immutable once made */

/* Parse the JSON text of a policy; name (a file name) is what messages
 * cite. On -EINVAL err gets a message naming the file, the entry (its list
 * and index, its text) and what is wrong, such as
 *   "p.json: bind[1] \"udp:70000\": port 70000 out of range 0-65535"
 *   "p.json:3:12: JSON syntax: '[' or '{' expected near 'x'"
 * -ENOMEM when out of memory. *out is the caller's (rtv_policy_free). */
int rtv_policy_parse(const char *text, const char *name, struct rtv_policy **out, char *err,
		     size_t errlen);
/* The same from a file: also -ENOENT and the like when it cannot be read
 * (err says so, naming it). */
int rtv_policy_load(const char *path, struct rtv_policy **out, char *err, size_t errlen);
/* The default: bind only the declared ports (each on any address; 0 allows
 * the kernel's choice), connect and send anywhere. -E2BIG when more than
 * RTV_POLICY_RULES_MAX ports are declared, -ENOMEM. */
int rtv_policy_default(const uint16_t *udp_ports, int n_udp, const uint16_t *tcp_ports, int n_tcp,
		       struct rtv_policy **out);
void rtv_policy_free(struct rtv_policy *p); /* NULL is fine */

/* The rules, in file order by list (bind, connect, sendmsg; defaults
 * filled in); NULL past the end. */
const struct rtv_policy_rule *rtv_policy_rule_at(const struct rtv_policy *p, size_t i);
size_t rtv_policy_count(const struct rtv_policy *p);
/* The canonical text of a rule ("udp:198.18.0.0/15:7000-7010",
 * "tcp:[2001:db8::]/32:53", "2001:db8::/32", "udp:0", "any"), which parses
 * back to the same rule. Returns the length or -ENOSPC. */
int rtv_policy_rule_format(const struct rtv_policy_rule *r, char *buf, size_t len);
extern const char *const rtv_policy_list_names[RTV_POLICY_LISTS]; /* "bind", ... */

/* An attachment: the six programs linked to one cgroup, their maps and
 * counters. */
struct rtv_policy_link;

/* Load the programs with p's rules and attach them to cgroup_v2_dir (a
 * cgroup v2 directory, such as /sys/fs/cgroup/unified/rtvnet/rts), through
 * bpf_links. The programs of a list that allows everything (an entry
 * "any") are not attached, so they cost nothing: with the default policy
 * only bind4 and bind6 run, and sends (the hot path) meet no program. They
 * stay attached while the link's fds are open, so a crash
 * (even kill -9) detaches them. The attachment is journaled first (kind
 * "bpf": the cgroup's path and id and the program ids; its undo detaches
 * the links still there), so the journal must be open. The fds (links,
 * programs, maps) are the link's, close-on-exec: a forked child shares
 * them (the programs then stay attached until every holder closed them or
 * exited; an exec closes them). p may be freed afterwards.
 * Returns 0, -EBADF (journal not open), -ENOTSUP (not a cgroup v2
 * directory), -EPERM (not privileged), -ENOENT, -ENOMEM, or another -errno
 * from loading (-EINVAL: the verifier refused them; the log goes to
 * rtv_debug). Nothing stays attached on failure. */
int rtv_policy_attach(const struct rtv_policy *p, const char *cgroup_v2_dir,
		      struct rtv_policy_link **out);
/* Detach and free (NULL is fine). When the attachment's journal entry is
 * the newest, it is undone (the entry goes with the links); otherwise the
 * links close and the entry, finding nothing, is dropped later. */
void rtv_policy_detach(struct rtv_policy_link *l);

/* The programs' counts since attachment, summed over CPUs. */
enum rtv_policy_op {
	RTV_POLICY_OP_BIND4, RTV_POLICY_OP_BIND6, RTV_POLICY_OP_CONNECT4, RTV_POLICY_OP_CONNECT6,
	RTV_POLICY_OP_SENDMSG4, RTV_POLICY_OP_SENDMSG6, RTV_POLICY_OPS
};
extern const char *const rtv_policy_op_names[RTV_POLICY_OPS]; /* "bind4", ... */
struct rtv_policy_counts {
	uint64_t calls[RTV_POLICY_OPS];   /* times the program ran (0: not attached) */
	uint64_t refused[RTV_POLICY_OPS]; /* of which refused (EPERM) */
};
/* 0 or -errno (c zeroed). Not for a hot path: one system call per counter. */
int rtv_policy_counts_read(const struct rtv_policy_link *l, struct rtv_policy_counts *c);

/* How many rtvnet policy programs (named rtv_*) are linked to the cgroup
 * whose directory is cgroup_v2_dir now, by anyone: 0 or more, or -errno. */
int rtv_policy_attached(const char *cgroup_v2_dir);

#endif
