#include "outsource/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "host/journal.h"
#include "outsource/outsource.h"
#include "outsource/policy.skel.h"
#include "outsource/policy_bpf.h"
#include "util/log.h"

#include "util/banned.h" /* last: after every header that may use what it bans */

_Static_assert((int)RTV_POLICY_OPS == (int)RTV_PP_N, "one counter pair per program");
_Static_assert(RTV_POLICY_BIND + 1 == RTV_PL_BIND && RTV_POLICY_SENDMSG + 1 == RTV_PL_SENDMSG,
	       "the BPF list is the list + 1");
_Static_assert(RTV_POLICY_OP_CONNECT4 / 2 == RTV_POLICY_CONNECT &&
		       RTV_POLICY_OP_SENDMSG6 / 2 == RTV_POLICY_SENDMSG,
	       "an operation's list is its index / 2");
_Static_assert(RTV_POLICY_RULES_MAX == 32 && RTV_POLICY_PREFIXES_MAX == 1024,
	       "policy.h and policy_bpf.h agree");

const char *const rtv_policy_list_names[RTV_POLICY_LISTS] = { "bind", "connect", "sendmsg" };
const char *const rtv_policy_op_names[RTV_POLICY_OPS] = {
	"bind4", "bind6", "connect4", "connect6", "sendmsg4", "sendmsg6",
};

struct rtv_policy {
	size_t n;
	struct rtv_policy_rule *r;
};

void rtv_policy_free(struct rtv_policy *p)
{
	if (!p)
		return;
	free(p->r);
	free(p);
}

size_t rtv_policy_count(const struct rtv_policy *p)
{
	return p ? p->n : 0;
}

const struct rtv_policy_rule *rtv_policy_rule_at(const struct rtv_policy *p, size_t i)
{
	return p && i < p->n ? &p->r[i] : NULL;
}

static int add_rule(struct rtv_policy *p, const struct rtv_policy_rule *r)
{
	struct rtv_policy_rule *n = realloc(p->r, (p->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->r = n;
	p->r[p->n++] = *r;
	return 0;
}

/* ---- prefixes ---- */

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Whether the first len bits of a and b agree. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !bits || !((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - bits)));
}

/* Whether any bit of addr past len is set. */
static bool host_bits(const uint8_t *addr, int family, unsigned len)
{
	for (unsigned i = len; i < (unsigned)addr_len(family) * 8; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

/* Whether rule q applies to the prefix addr/len of family in list. */
static bool rule_covers(const struct rtv_policy_rule *q, enum rtv_policy_list list, int family,
			const uint8_t *addr, unsigned len)
{
	if (q->list != list)
		return false;
	if (q->family == AF_UNSPEC)
		return true;
	return q->family == family && q->prefix_len <= len &&
	       prefix_match(q->addr, addr, q->prefix_len);
}

/* The distinct prefixes of a family: rules of that family and, as /0, the
 * rules of both (AF_UNSPEC). */
struct pfx {
	enum rtv_policy_list list;
	unsigned len;
	uint8_t addr[16];
	size_t first; /* the first rule with this prefix, for messages */
};

static int collect_prefixes(const struct rtv_policy *p, int family, struct pfx **out, size_t *nout)
{
	struct pfx *v = NULL, *t;
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct rtv_policy_rule *r = &p->r[i];
		struct pfx c = { .list = r->list, .first = i };
		bool dup = false;

		if (r->family != AF_UNSPEC && r->family != family)
			continue;
		if (r->family == family) {
			c.len = r->prefix_len;
			memcpy(c.addr, r->addr, sizeof(c.addr));
		}
		for (size_t k = 0; k < n && !dup; k++)
			dup = v[k].list == c.list && v[k].len == c.len &&
			      !memcmp(v[k].addr, c.addr, sizeof(c.addr));
		if (dup)
			continue;
		t = realloc(v, (n + 1) * sizeof(*v));
		if (!t) {
			free(v);
			return -ENOMEM;
		}
		v = t;
		v[n++] = c;
	}
	*out = v;
	*nout = n;
	return 0;
}

static size_t rules_covering(const struct rtv_policy *p, const struct pfx *x, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += rule_covers(&p->r[i], x->list, family, x->addr, x->len);
	return n;
}

/* ---- text ---- */

static int fmt_ports(const struct rtv_policy_rule *r, char *buf, size_t len)
{
	if (r->port_lo == r->port_hi)
		return snprintf(buf, len, "%u", r->port_lo);
	return snprintf(buf, len, "%u-%u", r->port_lo, r->port_hi);
}

int rtv_policy_rule_format(const struct rtv_policy_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], ports[16], pre[8] = "";
	bool all_ports = r->port_lo == 0 && r->port_hi == 65535;
	int n;

	if (r->proto)
		snprintf(pre, sizeof(pre), "%s:", r->proto == IPPROTO_UDP ? "udp" : "tcp");
	fmt_ports(r, ports, sizeof(ports));
	if (r->family == AF_UNSPEC) {
		n = snprintf(buf, len, "%s%s", pre, all_ports ? "any" : ports);
	} else {
		bool full = r->prefix_len == addr_len(r->family) * 8;
		char plen[8] = "";

		inet_ntop(r->family, r->addr, a, sizeof(a));
		if (!full)
			snprintf(plen, sizeof(plen), "/%u", r->prefix_len);
		if (all_ports)
			n = snprintf(buf, len, "%s%s%s", pre, a, plen);
		else if (r->family == AF_INET)
			n = snprintf(buf, len, "%s%s%s:%s", pre, a, plen, ports);
		else
			n = snprintf(buf, len, "%s[%s]%s:%s", pre, a, plen, ports);
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* A decimal port of at most 5 digits, no sign: 0 or -1 (why set). */
static int parse_port(const char *s, size_t n, uint16_t *port, char *why, size_t wlen)
{
	unsigned long v = 0;

	if (!n || n > 5) {
		snprintf(why, wlen, "bad port '%.*s' (a number from 0 to 65535)",
			 (int)(n > 12 ? 12 : n), s);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			snprintf(why, wlen, "bad port '%.*s' (a number from 0 to 65535)", (int)n,
				 s);
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535) {
		snprintf(why, wlen, "port %lu out of range 0-65535", v);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* "N" or "N-M" */
static int parse_ports(const char *s, struct rtv_policy_rule *r, char *why, size_t wlen)
{
	const char *dash = strchr(s, '-');

	if (!dash) {
		if (parse_port(s, strlen(s), &r->port_lo, why, wlen) < 0)
			return -1;
		r->port_hi = r->port_lo;
		return 0;
	}
	if (parse_port(s, (size_t)(dash - s), &r->port_lo, why, wlen) < 0 ||
	    parse_port(dash + 1, strlen(dash + 1), &r->port_hi, why, wlen) < 0)
		return -1;
	if (r->port_lo > r->port_hi) {
		snprintf(why, wlen, "port range %u-%u is backwards", r->port_lo, r->port_hi);
		return -1;
	}
	return 0;
}

static bool only_chars(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]) || !s[i])
			return false;
	return true;
}

/* "ADDR[/LEN]" (n characters) of family into r. */
static int parse_prefix(const char *s, size_t n, int family, struct rtv_policy_rule *r, char *why,
			size_t wlen)
{
	char a[INET6_ADDRSTRLEN + 8];
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	unsigned max = (unsigned)addr_len(family) * 8, len = max;

	if (alen >= sizeof(a) || (memcpy(a, s, alen), a[alen] = '\0', 0) ||
	    inet_pton(family, a, r->addr) != 1) {
		snprintf(why, wlen, "bad %s address '%.*s'", family == AF_INET ? "IPv4" : "IPv6",
			 (int)(alen > 46 ? 46 : alen), s);
		return -1;
	}
	if (slash) {
		size_t ln = n - alen - 1;

		len = 0;
		for (size_t i = 0; i < ln && i < 3; i++)
			len = len * 10 + (unsigned)(slash[1 + i] - '0');
		if (!ln || ln > 3 || !only_chars(slash + 1, ln, "0123456789") || len > max) {
			snprintf(why, wlen, "bad prefix length '%.*s' (0 to %u)",
				 (int)(ln > 8 ? 8 : ln), slash + 1, max);
			return -1;
		}
	}
	if (host_bits(r->addr, family, len)) {
		char fixed[INET6_ADDRSTRLEN];
		uint8_t m[16] = { 0 };

		for (unsigned i = 0; i < len; i++)
			m[i / 8] |= r->addr[i / 8] & (0x80 >> (i % 8));
		inet_ntop(family, m, fixed, sizeof(fixed));
		snprintf(why, wlen, "bits set past the /%u prefix (%s/%u?)", len, fixed, len);
		return -1;
	}
	r->family = (uint8_t)family;
	r->prefix_len = (uint8_t)len;
	/* ::ffff:a.b.c.d/96+N is IPv4's a.b.c.d/N: the programs check mapped
	 * addresses against the IPv4 rules */
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (family == AF_INET6 && len >= 96 && !memcmp(r->addr, mapped, 12)) {
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->family = AF_INET;
		r->prefix_len = (uint8_t)(len - 96);
	}
	return 0;
}

/* One entry's text into r: 0, or -1 with why set. */
static int parse_entry(const char *s, struct rtv_policy_rule *r, char *why, size_t wlen)
{
	const char *colon = strchr(s, ':'), *t = s, *p;

	r->port_lo = 0;
	r->port_hi = 65535;
	if (!*s) {
		snprintf(why, wlen, "empty entry");
		return -1;
	}
	if (colon) {
		size_t hn = (size_t)(colon - s);

		if ((hn == 3 && !strncmp(s, "udp", 3)) || (hn == 3 && !strncmp(s, "tcp", 3))) {
			r->proto = s[0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
			t = colon + 1;
			if (!*t) {
				snprintf(why, wlen, "nothing after '%.4s'", s);
				return -1;
			}
		} else if (hn && (hn > 4 || !only_chars(s, hn, "0123456789abcdefABCDEF")) &&
			   only_chars(
			       s, hn,
			       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")) {
			snprintf(why, wlen, "unknown protocol '%.*s' (udp or tcp)",
				 (int)(hn > 16 ? 16 : hn), s);
			return -1;
		}
	}
	if (!strcmp(t, "any"))
		return 0;
	if (only_chars(t, strlen(t), "0123456789-"))
		return parse_ports(t, r, why, wlen);
	if (t[0] == '[') {
		const char *close = strchr(t, ']');

		if (!close) {
			snprintf(why, wlen, "missing ']'");
			return -1;
		}
		/* "[ADDR]" "/LEN"? ":PORTS"? into "ADDR/LEN" */
		char buf[INET6_ADDRSTRLEN + 8];
		size_t an = (size_t)(close - t - 1), ln = 0;

		p = close + 1;
		if (*p == '/')
			ln = strcspn(p, ":");
		if (an + ln >= sizeof(buf)) {
			snprintf(why, wlen, "bad IPv6 address '%.*s'", (int)(an > 46 ? 46 : an),
				 t + 1);
			return -1;
		}
		memcpy(buf, t + 1, an);
		memcpy(buf + an, p, ln);
		buf[an + ln] = '\0';
		if (parse_prefix(buf, an + ln, AF_INET6, r, why, wlen) < 0)
			return -1;
		p += ln;
		if (!*p)
			return 0;
		if (*p != ':' || !p[1]) {
			snprintf(why, wlen, "'%s' after ']' (expected /LEN and :PORTS)", p);
			return -1;
		}
		return parse_ports(p + 1, r, why, wlen);
	}
	p = strchr(t, ':');
	if (strchr(t, '.') && (!p || !strchr(p + 1, ':'))) {
		/* IPv4: at most one colon, before the ports */
		if (parse_prefix(t, p ? (size_t)(p - t) : strlen(t), AF_INET, r, why, wlen) < 0)
			return -1;
		return p ? parse_ports(p + 1, r, why, wlen) : 0;
	}
	if (p)
		return parse_prefix(t, strlen(t), AF_INET6, r, why, wlen);
	snprintf(why, wlen, "not an address, a port or 'any'");
	return -1;
}

/* "NAME: " then the message. */
static void errf(char *err, size_t errlen, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void errf(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return;
	n = snprintf(err, errlen, "%s: ", name);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* The entry text of rule i, for messages: the original JSON string. */
struct origin {
	json_t *arr[RTV_POLICY_LISTS];
	size_t idx;
};

/* The limits of the BPF maps, checked here so that a policy that parses
 * attaches. */
static int check_limits(const struct rtv_policy *p, const char *name, const size_t *idx, char *err,
			size_t errlen)
{
	static const int fams[2] = { AF_INET, AF_INET6 };

	for (int f = 0; f < 2; f++) {
		struct pfx *v;
		size_t n, c;
		int e = collect_prefixes(p, fams[f], &v, &n);

		if (e < 0)
			return e;
		if (n > RTV_POLICY_PREFIXES_MAX) {
			errf(err, errlen, name, "more than %d %s prefixes", RTV_POLICY_PREFIXES_MAX,
			     f ? "IPv6" : "IPv4");
			free(v);
			return -EINVAL;
		}
		for (size_t k = 0; k < n; k++) {
			c = rules_covering(p, &v[k], fams[f]);
			if (c > RTV_POLICY_RULES_MAX) {
				const struct rtv_policy_rule *r = &p->r[v[k].first];
				char t[80];

				rtv_policy_rule_format(r, t, sizeof(t));
				errf(err, errlen, name,
				     "%s[%zu] \"%s\": %zu entries apply to its %s addresses, more "
				     "than %d",
				     rtv_policy_list_names[r->list],
				     idx ? idx[v[k].first] : v[k].first, t, c, f ? "IPv6" : "IPv4",
				     RTV_POLICY_RULES_MAX);
				free(v);
				return -EINVAL;
			}
		}
		free(v);
	}
	return 0;
}

static int parse_doc(json_t *root, const char *name, struct rtv_policy *p, char *err, size_t errlen)
{
	json_t *lists[RTV_POLICY_LISTS] = { NULL }, *v;
	const char *key;
	size_t *idx = NULL, i;
	int e = 0;

	if (!json_is_object(root)) {
		errf(err, errlen, name, "not a JSON object");
		return -EINVAL;
	}
	json_object_foreach(root, key, v) {
		int l;

		for (l = 0; l < RTV_POLICY_LISTS; l++)
			if (!strcmp(key, rtv_policy_list_names[l]))
				break;
		if (l == RTV_POLICY_LISTS) {
			errf(err, errlen, name,
			     "unknown key \"%s\" (bind, connect and sendmsg are known)", key);
			return -EINVAL;
		}
		if (!json_is_array(v)) {
			errf(err, errlen, name, "\"%s\" is not an array", key);
			return -EINVAL;
		}
		lists[l] = v;
	}
	for (int l = 0; l < RTV_POLICY_LISTS; l++) {
		json_t *arr = lists[l];

		if (!arr && l == RTV_POLICY_SENDMSG && lists[RTV_POLICY_CONNECT])
			arr = lists[RTV_POLICY_CONNECT];
		if (!arr) {
			if (l == RTV_POLICY_BIND)
				continue;
			/* connect, or sendmsg without connect: anywhere */
			struct rtv_policy_rule any = { .list = (enum rtv_policy_list)l,
						       .port_hi = 65535 };
			size_t *t = realloc(idx, (p->n + 1) * sizeof(*idx));

			if (!t)
				goto nomem;
			idx = t;
			idx[p->n] = 0;
			if (add_rule(p, &any) < 0)
				goto nomem;
			continue;
		}
		json_array_foreach(arr, i, v) {
			struct rtv_policy_rule r = { .list = (enum rtv_policy_list)l };
			char why[160];
			size_t *t;

			if (!json_is_string(v)) {
				errf(err, errlen, name, "%s[%zu]: not a string",
				     rtv_policy_list_names[l], i);
				e = -EINVAL;
				goto out;
			}
			if (parse_entry(json_string_value(v), &r, why, sizeof(why)) < 0) {
				errf(err, errlen, name, "%s[%zu] \"%.80s\": %s",
				     rtv_policy_list_names[l], i, json_string_value(v), why);
				e = -EINVAL;
				goto out;
			}
			t = realloc(idx, (p->n + 1) * sizeof(*idx));
			if (!t)
				goto nomem;
			idx = t;
			idx[p->n] = i;
			if (add_rule(p, &r) < 0)
				goto nomem;
		}
	}
	e = check_limits(p, name, idx, err, errlen);
	goto out;
nomem:
	e = -ENOMEM;
out:
	free(idx);
	return e;
}

static int parse_root(json_t *root, const json_error_t *jerr, const char *name,
		      struct rtv_policy **out, char *err, size_t errlen)
{
	struct rtv_policy *p;
	int e;

	*out = NULL;
	if (!root) {
		if (json_error_code(jerr) == json_error_out_of_memory)
			return -ENOMEM;
		errf(err, errlen, name, "%d:%d: JSON syntax: %s", jerr->line, jerr->column,
		     jerr->text);
		/* "name: L:C:" reads better as "name:L:C:" */
		if (err && errlen) {
			char *sp = strchr(err + strlen(name), ' ');

			if (sp && sp == err + strlen(name) + 1)
				memmove(sp, sp + 1, strlen(sp + 1) + 1);
		}
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	e = parse_doc(root, name, p, err, errlen);
	if (e < 0) {
		rtv_policy_free(p);
		return e;
	}
	*out = p;
	return 0;
}

int rtv_policy_parse(const char *text, const char *name, struct rtv_policy **out, char *err,
		     size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	int e = parse_root(root, &jerr, name, out, err, errlen);

	json_decref(root);
	return e;
}

int rtv_policy_load(const char *path, struct rtv_policy **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	FILE *f = fopen(path, "re");
	int e;

	*out = NULL;
	if (!f) {
		e = -errno;
		if (err && errlen)
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-e));
		return e;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	e = parse_root(root, &jerr, path, out, err, errlen);
	json_decref(root);
	return e;
}

int rtv_policy_default(const uint16_t *udp_ports, int n_udp, const uint16_t *tcp_ports, int n_tcp,
		       struct rtv_policy **out)
{
	struct rtv_policy *p;
	int e = 0;

	*out = NULL;
	if (n_udp < 0 || n_tcp < 0)
		return -EINVAL;
	if (n_udp + n_tcp > RTV_POLICY_RULES_MAX)
		return -E2BIG;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (int i = 0; i < n_udp + n_tcp && !e; i++) {
		uint16_t port = i < n_udp ? udp_ports[i] : tcp_ports[i - n_udp];
		struct rtv_policy_rule r = {
			.list = RTV_POLICY_BIND, .proto = i < n_udp ? IPPROTO_UDP : IPPROTO_TCP,
			.port_lo = port, .port_hi = port,
		};

		e = add_rule(p, &r);
	}
	for (int l = RTV_POLICY_CONNECT; l <= RTV_POLICY_SENDMSG && !e; l++) {
		struct rtv_policy_rule any = { .list = (enum rtv_policy_list)l, .port_hi = 65535 };

		e = add_rule(p, &any);
	}
	if (e < 0) {
		rtv_policy_free(p);
		return e;
	}
	*out = p;
	return 0;
}

/* ---- attachment ---- */

struct rtv_policy_link {
	struct rtv_policy_bpf *skel;
	struct bpf_link *links[RTV_POLICY_OPS];
	size_t mark;     /* the journal's count before our entry */
	bool journaled;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	(void)level;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	rtv_debug("libbpf: %s", buf);
	return 0;
}

static struct bpf_program *prog_of(struct rtv_policy_bpf *s, int op)
{
	struct bpf_program *p[RTV_POLICY_OPS] = {
		s->progs.rtv_bind4, s->progs.rtv_bind6, s->progs.rtv_connect4,
		s->progs.rtv_connect6, s->progs.rtv_sendmsg4, s->progs.rtv_sendmsg6,
	};

	return p[op];
}

/* Fill one family's LPM trie: every distinct prefix with the rules of the
 * prefixes containing it. */
static int fill_map(const struct rtv_policy *p, int family, int map_fd)
{
	struct pfx *v;
	size_t n;
	int e = collect_prefixes(p, family, &v, &n);

	if (e < 0)
		return e;
	for (size_t k = 0; k < n && !e; k++) {
		struct rtv_lpm6_key k6 = { .list = (__u8)(v[k].list + 1) };
		struct rtv_lpm4_key k4 = { .list = (__u8)(v[k].list + 1) };
		struct rtv_rules val = { 0 };

		for (size_t i = 0; i < p->n; i++) {
			const struct rtv_policy_rule *r = &p->r[i];

			if (!rule_covers(r, v[k].list, family, v[k].addr, v[k].len))
				continue;
			if (val.n == RTV_POLICY_RULES_MAX) {
				e = -E2BIG; /* check_limits prevents it for parsed policies */
				break;
			}
			val.r[val.n++] = (struct rtv_port_rule){ .lo = r->port_lo, .hi = r->port_hi,
								 .proto = r->proto };
		}
		if (e < 0)
			break;
		if (family == AF_INET) {
			k4.prefixlen = 32 + v[k].len;
			memcpy(k4.addr, v[k].addr, 4);
			if (bpf_map_update_elem(map_fd, &k4, &val, BPF_ANY))
				e = -errno;
		} else {
			k6.prefixlen = 32 + v[k].len;
			memcpy(k6.addr, v[k].addr, 16);
			if (bpf_map_update_elem(map_fd, &k6, &val, BPF_ANY))
				e = -errno;
		}
	}
	free(v);
	return e;
}

static int prog_id(int fd, uint32_t *id)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/* Whether a list allows every protocol, address and port: its programs
 * would allow every call, so they are not attached and cost nothing. */
static bool allows_all(const struct rtv_policy *p, enum rtv_policy_list list)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct rtv_policy_rule *r = &p->r[i];

		if (r->list == list && !r->proto && r->family == AF_UNSPEC && !r->port_lo &&
		    r->port_hi == 65535)
			return true;
	}
	return false;
}

void rtv_policy_detach(struct rtv_policy_link *l)
{
	if (!l)
		return;
	/* Our entry is the newest: undo it, which detaches the links by id
	 * and removes the entry. Otherwise closing the links detaches them
	 * and the entry will find nothing. */
	if (l->journaled && rtv_journal_is_open() && rtv_journal_mark() == l->mark + 1)
		rtv_journal_undo_to(l->mark);
	for (int i = 0; i < RTV_POLICY_OPS; i++)
		bpf_link__destroy(l->links[i]);
	rtv_policy_bpf__destroy(l->skel);
	free(l);
}

int rtv_policy_attach(const struct rtv_policy *p, const char *cgroup_v2_dir,
		      struct rtv_policy_link **out)
{
	char cgid[24], ids[RTV_POLICY_OPS * 11 + 1] = "";
	struct rtv_policy_link *l = NULL;
	struct statfs sfs;
	struct stat st;
	int cg = -1, e;

	*out = NULL;
	if (!rtv_journal_is_open())
		return -EBADF;
	libbpf_set_print(libbpf_log);
	cg = open(cgroup_v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return -errno;
	if (fstatfs(cg, &sfs) || fstat(cg, &st)) {
		e = -errno;
		goto out;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		e = -ENOTSUP;
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		e = -ENOMEM;
		goto out;
	}
	l->skel = rtv_policy_bpf__open();
	if (!l->skel) {
		e = -errno ? -errno : -ENOMEM;
		goto out;
	}
	e = rtv_policy_bpf__load(l->skel);
	if (e) {
		e = e < 0 ? e : -e;
		rtv_debug("cannot load the policy's BPF programs: %s", strerror(-e));
		goto out;
	}
	e = fill_map(p, AF_INET, bpf_map__fd(l->skel->maps.rtv_rules4));
	if (!e)
		e = fill_map(p, AF_INET6, bpf_map__fd(l->skel->maps.rtv_rules6));
	if (e < 0)
		goto out;
	for (int i = 0; i < RTV_POLICY_OPS; i++) {
		uint32_t id = 0;
		size_t n = strlen(ids);

		e = prog_id(bpf_program__fd(prog_of(l->skel, i)), &id);
		if (e < 0)
			goto out;
		snprintf(ids + n, sizeof(ids) - n, "%s%" PRIu32, i ? "," : "", id);
	}
	/* a cgroup v2 directory's inode number is the cgroup's id, which a
	 * cgroup link reports */
	snprintf(cgid, sizeof(cgid), "%llu", (unsigned long long)st.st_ino);
	l->mark = rtv_journal_mark();
	e = rtv_journal_add("bpf", 3, (const char *const[]){ cgroup_v2_dir, cgid, ids });
	if (e < 0)
		goto out;
	l->journaled = true;
	for (int i = 0; i < RTV_POLICY_OPS; i++) {
		if (allows_all(p, (enum rtv_policy_list)(i / 2)))
			continue; /* bind4, bind6: bind; connect4, 6: connect... */
		l->links[i] = bpf_program__attach_cgroup(prog_of(l->skel, i), cg);
		if (!l->links[i]) {
			e = -errno ? -errno : -EINVAL;
			goto out;
		}
	}
	*out = l;
	l = NULL;
	e = 0;
out:
	rtv_policy_detach(l);
	if (cg >= 0)
		close(cg);
	return e;
}

int rtv_policy_counts_read(const struct rtv_policy_link *l, struct rtv_policy_counts *c)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(l->skel->maps.rtv_counters);
	uint64_t *v;

	memset(c, 0, sizeof(*c));
	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < RTV_POLICY_COUNTERS; k++) {
		if (bpf_map_lookup_elem(fd, &k, v)) {
			int e = -errno;

			free(v);
			return e;
		}
		for (int i = 0; i < ncpu; i++) {
			if (k % 2)
				c->refused[k / 2] += v[i];
			else
				c->calls[k / 2] += v[i];
		}
	}
	free(v);
	return 0;
}

/* ---- the journal kind "bpf" ---- */

/* Visit every cgroup link whose program is named rtv_*: fn(link fd, link
 * info, program name, arg); a negative return stops the walk. Returns the
 * number visited or -errno. */
typedef int (*link_fn)(int fd, const struct bpf_link_info *li, const char *prog, void *arg);

static int each_rtv_link(link_fn fn, void *arg)
{
	uint32_t id = 0;
	int n = 0, e;

	for (;;) {
		struct bpf_link_info li = { 0 };
		struct bpf_prog_info pi = { 0 };
		uint32_t len = sizeof(li), plen = sizeof(pi);
		int fd, pfd;

		if (bpf_link_get_next_id(id, &id))
			return errno == ENOENT ? n : -errno;
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* gone since */
			return -errno;
		}
		if (bpf_obj_get_info_by_fd(fd, &li, &len) || li.type != BPF_LINK_TYPE_CGROUP ||
		    !li.cgroup.cgroup_id) {
			close(fd);
			continue;
		}
		pfd = bpf_prog_get_fd_by_id(li.prog_id);
		if (pfd < 0 || bpf_obj_get_info_by_fd(pfd, &pi, &plen) ||
		    strncmp(pi.name, "rtv_", 4)) {
			if (pfd >= 0)
				close(pfd);
			close(fd);
			continue;
		}
		close(pfd);
		e = fn(fd, &li, pi.name, arg);
		close(fd);
		if (e < 0)
			return e;
		n++;
	}
}

struct undo_arg {
	unsigned long long cgid;
	char *ids;
	int detached, err;
};

static bool id_listed(const char *ids, uint32_t id)
{
	char want[16];
	size_t n = (size_t)snprintf(want, sizeof(want), "%" PRIu32, id);

	for (const char *p = ids; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, want, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static int undo_one(int fd, const struct bpf_link_info *li, const char *prog, void *arg)
{
	struct undo_arg *u = arg;

	(void)prog;
	if (li->cgroup.cgroup_id != u->cgid || !id_listed(u->ids, li->prog_id))
		return 0;
	if (bpf_link_detach(fd)) {
		if (!u->err)
			u->err = -errno;
		return 0;
	}
	u->detached++;
	return 0;
}

/* "bpf CGROUP_DIR CGROUP_ID PROG_ID,...": detach the links of those
 * programs to that cgroup still there. */
static int bpf_undo(int argc, char **argv)
{
	struct undo_arg u = { 0 };
	int e;

	if (argc < 3)
		return -EINVAL;
	u.cgid = strtoull(argv[1], NULL, 10);
	u.ids = argv[2];
	e = each_rtv_link(undo_one, &u);
	if (e < 0)
		return e;
	if (u.err)
		return u.err;
	return u.detached ? 0 : RTV_JOURNAL_GONE;
}

/* cgroup id to path: the v2 directory whose inode is the id */
static struct {
	unsigned long long want;
	char path[512];
} find;

static int find_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D && (unsigned long long)st->st_ino == find.want) {
		snprintf(find.path, sizeof(find.path), "%s", path);
		return 1;
	}
	return 0;
}

static void cgroup_path(unsigned long long id, char *buf, size_t len)
{
	char line[1024], dev[256], mnt[512], type[64];
	FILE *m = fopen("/proc/self/mounts", "re");

	snprintf(buf, len, "id:%llu", id);
	if (!m)
		return;
	find.want = id;
	find.path[0] = '\0';
	while (fgets(line, sizeof(line), m))
		if (sscanf(line, "%255s %511s %63s", dev, mnt, type) == 3 &&
		    !strcmp(type, "cgroup2") && nftw(mnt, find_dir, 16, FTW_PHYS | FTW_MOUNT) == 1)
			break;
	fclose(m);
	if (find.path[0])
		snprintf(buf, len, "%s", find.path);
}

static int snap_one(int fd, const struct bpf_link_info *li, const char *prog, void *arg)
{
	const char *type = libbpf_bpf_attach_type_str(li->cgroup.attach_type);
	char path[512];

	(void)fd;
	cgroup_path(li->cgroup.cgroup_id, path, sizeof(path));
	fprintf((FILE *)arg, "link %s %s prog=%s\n", path, type ? type : "?", prog);
	return 0;
}

/* Every rtvnet policy program (rtv_*) linked to a cgroup, with the
 * cgroup's path: a leftover attachment shows. Unprivileged (or without
 * BPF), one line says the links could not be read: the same before and
 * after, and such a caller cannot have attached any. */
static int bpf_snapshot(FILE *out)
{
	int e = each_rtv_link(snap_one, out);

	if (e == -EPERM || e == -ENOSYS) {
		fprintf(out, "links unreadable: %s\n", strerror(-e));
		return 0;
	}
	return e < 0 ? e : 0;
}

static const struct rtv_journal_kind bpf_kind = {
	.name = "bpf", .undo = bpf_undo, .snapshot = bpf_snapshot,
};
RTV_JOURNAL_KIND(bpf_kind)

/* The supervisor's hook (outsource/outsource.h): load the policy file and
 * attach it to the helper's cgroup for the rest of this process's life (the
 * links close, and so detach, when it ends however it ends; the journal
 * entry covers a crash). */
static struct rtv_policy_link *kept_links[16];

static int attach_for_supervisor(const char *path, const char *cgroup_v2_dir)
{
	struct rtv_policy *p = NULL;
	struct rtv_policy_link *l = NULL;
	char err[256];
	size_t i;
	int e;

	for (i = 0; i < sizeof(kept_links) / sizeof(kept_links[0]) && kept_links[i]; i++)
		;
	if (i == sizeof(kept_links) / sizeof(kept_links[0]))
		return -E2BIG;
	e = rtv_policy_load(path, &p, err, sizeof(err));
	if (e < 0) {
		rtv_err("%s", err);
		return e;
	}
	e = rtv_policy_attach(p, cgroup_v2_dir, &l);
	rtv_policy_free(p);
	if (e < 0)
		return e;
	kept_links[i] = l;
	return 0;
}

__attribute__((constructor)) static void policy_hook_register(void)
{
	rtv_outsource_policy_attach = attach_for_supervisor;
}

struct count_arg {
	unsigned long long cgid;
	int n;
};

static int count_match(int fd, const struct bpf_link_info *li, const char *prog, void *arg)
{
	struct count_arg *c = arg;

	(void)fd, (void)prog;
	c->n += li->cgroup.cgroup_id == c->cgid;
	return 0;
}

int rtv_policy_attached(const char *cgroup_v2_dir)
{
	struct count_arg c = { 0 };
	struct stat st;
	int e;

	if (stat(cgroup_v2_dir, &st))
		return -errno;
	c.cgid = (unsigned long long)st.st_ino;
	e = each_rtv_link(count_match, &c);
	return e < 0 ? e : c.n;
}
