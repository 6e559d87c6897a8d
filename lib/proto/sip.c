/* SIP over UDP for the SIP proxy service; see sip.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proto/sip.h"
#include "util/stop.h"
#include "util/banned.h"

#define UAS_BUF_SIZE  65536u
#define UAS_RESP_SIZE 65536u
#define STOP_CHECK_US 100000 /* *stop seen within 100 ms */

/* ---- output: a cursor that fails once cap is reached ---- */

struct out {
	char *p, *end;
	bool full;
};

static inline void put_mem(struct out *o, const char *s, size_t n)
{
	if (o->full || (size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static inline void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

#define PUT_LIT(o, lit) put_mem((o), (lit), sizeof(lit) - 1)

static inline void put_sstr(struct out *o, struct rtv_sip_str s)
{
	put_mem(o, s.p, s.len);
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(o, tmp + i, sizeof(tmp) - i);
}

static void put_hex16(struct out *o, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];

	for (int i = 15; i >= 0; i--) {
		tmp[i] = hex[v & 0xf];
		v >>= 4;
	}
	put_mem(o, tmp, sizeof(tmp));
}

static ssize_t out_len(const struct out *o, const char *start)
{
	return o->full ? -ENOSPC : (ssize_t)(o->p - start);
}

/* ---- the client's requests ---- */

ssize_t rtv_sip_encode(const struct rtv_sip_req *r, char *buf, size_t cap)
{
	struct out o = { buf, buf + cap, false };

	if (!r || !buf || !r->method || !r->ruri || !r->via_host || !r->from_uri || !r->to_uri)
		return -EINVAL;
	put_str(&o, r->method);
	PUT_LIT(&o, " ");
	put_str(&o, r->ruri);
	PUT_LIT(&o, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	put_str(&o, r->via_host);
	PUT_LIT(&o, ":");
	put_u64(&o, r->via_port);
	PUT_LIT(&o, ";branch=z9hG4bK");
	put_hex16(&o, r->tag);
	PUT_LIT(&o, ".");
	put_u64(&o, r->seq);
	PUT_LIT(&o, ".");
	put_u64(&o, r->cseq);
	if (!strcmp(r->method, "ACK"))
		PUT_LIT(&o, "a");
	if (r->max_forwards >= 0) {
		PUT_LIT(&o, "\r\nMax-Forwards: ");
		put_u64(&o, (uint64_t)r->max_forwards);
	}
	PUT_LIT(&o, "\r\nFrom: <");
	put_str(&o, r->from_uri);
	PUT_LIT(&o, ">;tag=");
	put_hex16(&o, r->tag);
	PUT_LIT(&o, "\r\nTo: <");
	put_str(&o, r->to_uri);
	PUT_LIT(&o, ">");
	if (r->to_tag.p) {
		PUT_LIT(&o, ";tag=");
		put_mem(&o, r->to_tag.p, r->to_tag.len);
	}
	PUT_LIT(&o, "\r\nCall-ID: ");
	put_hex16(&o, r->tag);
	PUT_LIT(&o, "-");
	put_u64(&o, r->seq);
	PUT_LIT(&o, "@rtvnet\r\nCSeq: ");
	put_u64(&o, r->cseq);
	PUT_LIT(&o, " ");
	put_str(&o, r->method);
	PUT_LIT(&o, "\r\nContent-Length: 0\r\n\r\n");
	return out_len(&o, buf);
}

/* ---- parsing ---- */

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3261's token characters: a method name, a header name */
static inline bool is_token(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	switch (c) {
	case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`':
	case '\'': case '~':
		return true;
	default:
		return false;
	}
}

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool eq_nocase(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!b[i] || lower(a[i]) != lower(b[i]))
			return false;
	return !b[i];
}

/* Trim spaces, tabs and (folded values) CR/LF from both ends. */
static struct rtv_sip_str trim(const char *p, const char *e)
{
	while (p < e && (is_ws(*p) || *p == '\r' || *p == '\n'))
		p++;
	while (e > p && (is_ws(e[-1]) || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	return (struct rtv_sip_str){ p, (size_t)(e - p) };
}

/* A decimal number of 1..10 digits <= max, the whole of s. */
static int parse_uint(const char *p, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 10)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -EBADMSG;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	if (x > max)
		return -EBADMSG;
	*v = x;
	return 0;
}

/* The end of the line starting at p (its CR or LF), or NULL when none. */
static const char *line_end(const char *p, const char *e)
{
	const char *q = memchr(p, '\n', (size_t)(e - p));

	if (!q)
		return NULL;
	return q > p && q[-1] == '\r' ? q - 1 : q;
}

/* Past the line break at q (CRLF or LF). */
static const char *next_line(const char *q)
{
	return *q == '\r' ? q + 2 : q + 1;
}

/* The tag parameter of a From/To value v into *tag (p NULL: none): after
 * the name-addr (past its '>' when it has one, skipping a quoted display
 * name), ";tag=" in any case. -EBADMSG for an unclosed quote or '<'. */
static int find_tag(struct rtv_sip_str v, struct rtv_sip_str *tag)
{
	const char *p = v.p, *e = v.p + v.len, *lt = NULL;
	bool quoted = false;

	*tag = (struct rtv_sip_str){ NULL, 0 };
	for (const char *q = p; q < e; q++) {
		if (*q == '"')
			quoted = !quoted;
		else if (*q == '\\' && quoted && q + 1 < e)
			q++;
		else if (!quoted && *q == '<') {
			lt = q;
			break;
		}
	}
	if (quoted)
		return -EBADMSG;
	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(e - lt));

		if (!gt)
			return -EBADMSG;
		p = gt + 1;
	}
	/* params: ;name[=value] ... */
	while ((p = memchr(p, ';', (size_t)(e - p)))) {
		const char *n = p + 1, *ne, *ve;

		while (n < e && is_ws(*n))
			n++;
		ne = n;
		while (ne < e && is_token(*ne))
			ne++;
		ve = memchr(ne, ';', (size_t)(e - ne));
		if (!ve)
			ve = e;
		if (ne - n == 3 && eq_nocase(n, 3, "tag")) {
			const char *eqs = ne;

			while (eqs < ve && is_ws(*eqs))
				eqs++;
			if (eqs < ve && *eqs == '=') {
				struct rtv_sip_str t = trim(eqs + 1, ve);

				if (t.len) {
					*tag = t;
					return 0;
				}
			}
		}
		p = ve;
	}
	return 0;
}

enum hdr { H_OTHER, H_VIA, H_CALLID, H_CSEQ, H_FROM, H_TO, H_MAXFWD, H_CLEN };

static enum hdr header_kind(const char *n, size_t len)
{
	if (len == 1) {
		switch (lower(*n)) {
		case 'v': return H_VIA;
		case 'i': return H_CALLID;
		case 'f': return H_FROM;
		case 't': return H_TO;
		case 'l': return H_CLEN;
		default: return H_OTHER;
		}
	}
	switch (lower(*n)) {
	case 'v': return eq_nocase(n, len, "via") ? H_VIA : H_OTHER;
	case 'c':
		if (eq_nocase(n, len, "call-id"))
			return H_CALLID;
		if (eq_nocase(n, len, "cseq"))
			return H_CSEQ;
		return eq_nocase(n, len, "content-length") ? H_CLEN : H_OTHER;
	case 'f': return eq_nocase(n, len, "from") ? H_FROM : H_OTHER;
	case 't': return eq_nocase(n, len, "to") ? H_TO : H_OTHER;
	case 'm': return eq_nocase(n, len, "max-forwards") ? H_MAXFWD : H_OTHER;
	default: return H_OTHER;
	}
}

static int parse_start_line(const char *p, const char *e, struct rtv_sip_msg *m)
{
	const char *sp1, *sp2;

	if (e - p >= 8 && eq_nocase(p, 8, "SIP/2.0 ")) {
		uint64_t st;

		p += 8;
		if (e - p < 3 || parse_uint(p, 3, 699, &st) || st < 100 ||
		    (e - p > 3 && p[3] != ' '))
			return -EBADMSG;
		m->is_request = false;
		m->status = (int)st;
		m->reason = e - p > 3 ? (struct rtv_sip_str){ p + 4, (size_t)(e - p - 4) }
				      : (struct rtv_sip_str){ p + 3, 0 };
		return 0;
	}
	sp1 = memchr(p, ' ', (size_t)(e - p));
	if (!sp1 || sp1 == p)
		return -EBADMSG;
	for (const char *q = p; q < sp1; q++)
		if (!is_token(*q))
			return -EBADMSG;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || e - sp2 - 1 != 7 || !eq_nocase(sp2 + 1, 7, "SIP/2.0"))
		return -EBADMSG;
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return -EBADMSG;
	m->is_request = true;
	m->status = 0;
	m->method = p;
	m->method_len = (size_t)(sp1 - p);
	m->ruri = (struct rtv_sip_str){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	return 0;
}

/* One header's value v, of kind k, into m; seen holds the kinds met. */
static int take_header(enum hdr k, struct rtv_sip_str v, struct rtv_sip_msg *m, unsigned *seen,
		       uint64_t *clen)
{
	uint64_t x;

	if (k == H_OTHER)
		return 0;
	if (k == H_VIA) {
		if (m->nvia == RTV_SIP_MAX_VIA || !v.len)
			return -EBADMSG;
		m->via[m->nvia++] = v;
		return 0;
	}
	if (*seen & (1u << k))
		return -EBADMSG; /* given twice: which one counts is anyone's guess */
	*seen |= 1u << k;
	switch (k) {
	case H_CALLID:
		if (!v.len)
			return -EBADMSG;
		for (size_t i = 0; i < v.len; i++)
			if ((unsigned char)v.p[i] <= ' ' || v.p[i] == 0x7f)
				return -EBADMSG;
		m->call_id = v.p;
		m->call_id_len = v.len;
		return 0;
	case H_CSEQ: {
		const char *sp = v.p, *e = v.p + v.len, *mp;

		while (sp < e && is_digit(*sp))
			sp++;
		if (parse_uint(v.p, (size_t)(sp - v.p), UINT32_MAX, &x))
			return -EBADMSG;
		mp = sp;
		while (mp < e && (is_ws(*mp) || *mp == '\r' || *mp == '\n'))
			mp++;
		if (mp == sp || mp == e)
			return -EBADMSG;
		for (const char *q = mp; q < e; q++)
			if (!is_token(*q))
				return -EBADMSG;
		m->cseq = (uint32_t)x;
		m->cseq_method = mp;
		m->cseq_method_len = (size_t)(e - mp);
		return 0;
	}
	case H_FROM:
	case H_TO:
		if (!v.len)
			return -EBADMSG;
		if (k == H_FROM) {
			m->from = v;
			return find_tag(v, &m->from_tag);
		}
		m->to = v;
		return find_tag(v, &m->to_tag);
	case H_MAXFWD:
		if (parse_uint(v.p, v.len, 255, &x))
			return -EBADMSG;
		m->max_forwards = (int)x;
		return 0;
	case H_CLEN:
		return parse_uint(v.p, v.len, UINT32_MAX, clen);
	default:
		return 0;
	}
}

#define REQUIRED ((1u << H_CALLID) | (1u << H_CSEQ) | (1u << H_FROM) | (1u << H_TO))

int rtv_sip_parse(const char *buf, size_t len, struct rtv_sip_msg *m)
{
	const char *p = buf, *e = buf + len, *le;
	const char *name = NULL, *val = NULL, *val_end = NULL;
	size_t name_len = 0;
	unsigned seen = 0;
	uint64_t clen = 0;
	int err;

	if (!buf || !m)
		return -EBADMSG;
	memset(m, 0, sizeof(*m));
	m->max_forwards = -1;
	le = line_end(p, e);
	if (!le || (err = parse_start_line(p, le, m)))
		return -EBADMSG;
	p = next_line(le);
	for (;;) {
		le = line_end(p, e);
		if (!le)
			return -EBADMSG; /* truncated: no empty line */
		if (le == p || is_ws(*p)) {
			/* the end of the previous header: the empty line, or a line
			 * that does not continue it */
			if (le != p) {
				if (!name)
					return -EBADMSG; /* folding the start line */
				val_end = le;
				p = next_line(le);
				continue;
			}
		}
		if (name) {
			err = take_header(header_kind(name, name_len), trim(val, val_end), m, &seen,
					  &clen);
			if (err)
				return err;
			name = NULL;
		}
		if (le == p)
			break;
		/* name: value */
		name = p;
		while (p < le && is_token(*p))
			p++;
		name_len = (size_t)(p - name);
		while (p < le && is_ws(*p))
			p++;
		if (!name_len || p == le || *p != ':')
			return -EBADMSG;
		val = p + 1;
		val_end = le;
		p = next_line(le);
	}
	p = next_line(le);
	m->header_len = (size_t)(p - buf);
	if ((seen & REQUIRED) != REQUIRED || !m->nvia)
		return -EBADMSG;
	if (seen & (1u << H_CLEN)) {
		if (clen > (uint64_t)(e - p))
			return -EBADMSG;
		m->content_length = (size_t)clen;
	} else {
		m->content_length = (size_t)(e - p); /* UDP: the rest of the datagram */
	}
	m->body = p;
	m->len = m->header_len + m->content_length;
	if (m->is_request) {
		if (m->method_len != m->cseq_method_len ||
		    memcmp(m->method, m->cseq_method, m->method_len))
			return -EBADMSG;
	} else {
		m->method = m->cseq_method;
		m->method_len = m->cseq_method_len;
	}
	return 0;
}

int rtv_sip_call_id(const struct rtv_sip_msg *m, uint64_t *tag, uint64_t *seq)
{
	static const char suffix[] = "@rtvnet";
	const char *p, *e;
	uint64_t t = 0, s = 0;
	size_t nd;

	if (!m || !m->call_id || m->call_id_len < 16 + 1 + 1 + sizeof(suffix) - 1)
		return -EBADMSG;
	p = m->call_id;
	e = p + m->call_id_len - (sizeof(suffix) - 1);
	if (memcmp(e, suffix, sizeof(suffix) - 1))
		return -EBADMSG;
	for (int i = 0; i < 16; i++) {
		char c = p[i];
		unsigned d;

		if (is_digit(c))
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -EBADMSG;
		t = t << 4 | d;
	}
	p += 16;
	if (*p++ != '-')
		return -EBADMSG;
	nd = (size_t)(e - p);
	/* decimal as put_u64() writes it: no leading zero, at most 20 digits */
	if (!nd || nd > 20 || (nd > 1 && *p == '0'))
		return -EBADMSG;
	for (; p < e; p++) {
		if (!is_digit(*p))
			return -EBADMSG;
		if (s > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EBADMSG;
		s = s * 10 + (uint64_t)(*p - '0');
	}
	if (tag)
		*tag = t;
	if (seq)
		*seq = s;
	return 0;
}

ssize_t rtv_sip_response_hdrs(const struct rtv_sip_msg *m, int status, const char *reason,
			      uint64_t to_tag, const char *extra, char *buf, size_t cap)
{
	struct out o = { buf, buf + cap, false };

	if (!m || !buf || !m->is_request || status < 100 || status > 699 || !reason ||
	    strpbrk(reason, "\r\n"))
		return -EINVAL;
	PUT_LIT(&o, "SIP/2.0 ");
	put_u64(&o, (uint64_t)status);
	PUT_LIT(&o, " ");
	put_str(&o, reason);
	PUT_LIT(&o, "\r\n");
	for (size_t i = 0; i < m->nvia; i++) {
		PUT_LIT(&o, "Via: ");
		put_sstr(&o, m->via[i]);
		PUT_LIT(&o, "\r\n");
	}
	PUT_LIT(&o, "From: ");
	put_sstr(&o, m->from);
	PUT_LIT(&o, "\r\nTo: ");
	put_sstr(&o, m->to);
	if (!m->to_tag.p) {
		PUT_LIT(&o, ";tag=");
		put_hex16(&o, to_tag);
	}
	PUT_LIT(&o, "\r\nCall-ID: ");
	put_mem(&o, m->call_id, m->call_id_len);
	PUT_LIT(&o, "\r\nCSeq: ");
	put_u64(&o, m->cseq);
	PUT_LIT(&o, " ");
	put_mem(&o, m->cseq_method, m->cseq_method_len);
	PUT_LIT(&o, "\r\n");
	if (extra)
		put_str(&o, extra);
	PUT_LIT(&o, "Content-Length: 0\r\n\r\n");
	return out_len(&o, buf);
}

ssize_t rtv_sip_response(const struct rtv_sip_msg *m, int status, const char *reason,
			 uint64_t to_tag, char *buf, size_t cap)
{
	return rtv_sip_response_hdrs(m, status, reason, to_tag, NULL, buf, cap);
}

/* ---- the UAS ---- */

static inline void count_inc(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

static bool method_is(const struct rtv_sip_msg *m, const char *name)
{
	size_t n = strlen(name);

	return m->method_len == n && !memcmp(m->method, name, n);
}

/* FNV-1a of the Call-ID, mixed with this UAS's salt: one To tag per dialog */
static uint64_t dialog_tag(const struct rtv_sip_msg *m, uint64_t salt)
{
	uint64_t h = 0xcbf29ce484222325ull ^ salt;

	for (size_t i = 0; i < m->call_id_len; i++)
		h = (h ^ (unsigned char)m->call_id[i]) * 0x100000001b3ull;
	return h;
}

int rtv_sip_uas_serve(int fd, const volatile sig_atomic_t *stop, struct rtv_sip_uas_stats *st)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = STOP_CHECK_US };
	struct rtv_sip_uas_stats dummy = { 0 };
	struct sockaddr_storage from;
	struct rtv_sip_msg msg;
	char *buf, *resp, *contact;
	uint64_t salt = 0;
	int err = 0;

	if (fd < 0 || !stop)
		return -EINVAL;
	if (!st)
		st = &dummy;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (getrandom(&salt, sizeof(salt), GRND_NONBLOCK) != sizeof(salt))
		salt = (uint64_t)getpid();
	/* request, response, and the Contact line (an R-URI fits in the request) */
	buf = malloc(UAS_BUF_SIZE + UAS_RESP_SIZE + UAS_BUF_SIZE + 16);
	if (!buf)
		return -ENOMEM;
	resp = buf + UAS_BUF_SIZE;
	contact = resp + UAS_RESP_SIZE;

	while (!rtv_stop_read(stop)) {
		socklen_t fl = sizeof(from);
		const char *extra = NULL;
		ssize_t n, rn;
		int status = 200;
		const char *reason = "OK";

		n = recvfrom(fd, buf, UAS_BUF_SIZE, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
				continue;
			err = -errno;
			break;
		}
		if (rtv_sip_parse(buf, (size_t)n, &msg)) {
			count_inc(&st->malformed);
			continue;
		}
		if (!msg.is_request)
			continue;
		count_inc(&st->requests);
		if (method_is(&msg, "ACK"))
			continue;
		if (method_is(&msg, "INVITE")) {
			struct out o = { contact, contact + UAS_BUF_SIZE + 16, false };

			PUT_LIT(&o, "Contact: <");
			put_sstr(&o, msg.ruri);
			PUT_LIT(&o, ">\r\n");
			PUT_LIT(&o, "\0");
			if (o.full)
				continue; /* cannot happen: the buffer holds any R-URI */
			extra = contact;
		} else if (!method_is(&msg, "OPTIONS") && !method_is(&msg, "BYE")) {
			status = 405;
			reason = "Method Not Allowed";
			extra = "Allow: OPTIONS, INVITE, ACK, BYE\r\n";
		}
		rn = rtv_sip_response_hdrs(&msg, status, reason, dialog_tag(&msg, salt), extra, resp,
					   UAS_RESP_SIZE);
		if (rn < 0)
			continue; /* cannot happen: a response is shorter than its request + 64 KiB */
		if (sendto(fd, resp, (size_t)rn, 0, (struct sockaddr *)&from, fl) == rn)
			count_inc(&st->answered);
	}
	free(buf);
	return err;
}

/* ---- Kamailio ---- */

/* addr as Kamailio's listen and forward take it: IPv6 in brackets */
static int kam_host(const char *addr, char *out, size_t len)
{
	struct in6_addr a6;
	struct in_addr a4;
	int n;

	if (!addr)
		return -EINVAL;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		n = snprintf(out, len, "%s", addr);
	else if (inet_pton(AF_INET6, addr, &a6) == 1)
		n = snprintf(out, len, "[%s]", addr);
	else
		return -EINVAL;
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

int rtv_sip_kamailio_cfg(FILE *f, const char *addr, uint16_t port, const char *uas_addr,
			 uint16_t uas_port, int children)
{
	char host[INET6_ADDRSTRLEN + 2], uas[INET6_ADDRSTRLEN + 2];

	if (!f || !port || !uas_port || children < 1 || children > 256 ||
	    kam_host(addr, host, sizeof(host)) || kam_host(uas_addr, uas, sizeof(uas)))
		return -EINVAL;
	if (fprintf(f,
		    "#!KAMAILIO\n"
		    "# rtvnet's stateless SIP proxy (lib/proto/sip.c): every request is\n"
		    "# forwarded to the UAS at %s:%u, replies go back by Via, to the\n"
		    "# address and port each request came from (rport: a client may\n"
		    "# send from several ports, whatever its Via says).\n"
		    "debug=2\n"
		    "log_stderror=yes\n"
		    "children=%d\n"
		    "listen=udp:%s:%u\n"
		    "auto_aliases=no\n"
		    "disable_tcp=yes\n"
		    "enable_sctp=no\n"
		    "dns=no\n"
		    "rev_dns=no\n"
		    "use_dns_cache=no\n"
		    "sip_warning=0\n"
		    "loadmodule \"sl.so\"\n"
		    "loadmodule \"maxfwd.so\"\n"
		    "modparam(\"maxfwd\", \"max_limit\", 70)\n"
		    "request_route {\n"
		    "\tforce_rport();\n"
		    "\t# Max-Forwards: decremented, or added as 70; 0 already: 483\n"
		    "\tif (!mf_process_maxfwd_header(\"70\")) {\n"
		    "\t\tsl_send_reply(\"483\", \"Too Many Hops\");\n"
		    "\t\texit;\n"
		    "\t}\n"
		    "\tforward(\"%s\", %u);\n"
		    "\texit;\n"
		    "}\n",
		    uas, uas_port, children, host, port, uas, uas_port) < 0)
		return -EIO;
	return ferror(f) ? -EIO : 0;
}

/* Strings for an argv, in buf. */
struct argbuf {
	char *p, *end;
	char **argv;
	int argc, max;
	bool full;
};

static void arg(struct argbuf *a, const char *s)
{
	if (a->argc + 1 >= a->max) {
		a->full = true;
		return;
	}
	a->argv[a->argc++] = (char *)s;
}

/* A formatted argument kept in the buffer. */
__attribute__((format(printf, 2, 3))) static void argf(struct argbuf *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(a->p, (size_t)(a->end - a->p), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= a->end - a->p) {
		a->full = true;
		return;
	}
	arg(a, a->p);
	a->p += n + 1;
}

static int arg_done(struct argbuf *a)
{
	if (a->full)
		return -ENOSPC;
	a->argv[a->argc] = NULL;
	return a->argc;
}

int rtv_sip_kamailio_argv(const char *kamailio_path, const char *cfg_path, const char *run_dir,
			  char *buf, size_t len, char **argv, int maxargv)
{
	struct argbuf a = { buf, buf + len, argv, 0, maxargv, false };

	if (!kamailio_path || !cfg_path || !run_dir || !buf || !argv || maxargv < 1 || !*run_dir)
		return -EINVAL;
	arg(&a, kamailio_path);
	arg(&a, "-f");
	arg(&a, cfg_path);
	arg(&a, "-DD"); /* no daemon: the main process stays, forks the children */
	arg(&a, "-E");  /* logs to stderr */
	arg(&a, "-m");
	arg(&a, "64");
	arg(&a, "-M");
	arg(&a, "8");
	arg(&a, "-w");
	arg(&a, run_dir);
	arg(&a, "-Y");
	arg(&a, run_dir);
	arg(&a, "-P");
	argf(&a, "%s/kamailio.pid", run_dir);
	return arg_done(&a);
}

/* ---- SIPp ---- */

int rtv_sip_sipp_scenario(FILE *f, const char *ruri)
{
	if (!f || !ruri || !*ruri || strpbrk(ruri, "[]<>&\r\n"))
		return -EINVAL;
	if (fprintf(f,
		    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n"
		    "<!-- rtvnet (lib/proto/sip.c): one OPTIONS per call, timed as rtd 1 -->\n"
		    "<scenario name=\"rtvnet options\">\n"
		    "  <send start_rtd=\"1\">\n"
		    "    <![CDATA[\n"
		    "\n"
		    "      OPTIONS %s SIP/2.0\n"
		    "      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
		    "      Max-Forwards: 70\n"
		    "      From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]\n"
		    "      To: <%s>\n"
		    "      Call-ID: [call_id]\n"
		    "      CSeq: 1 OPTIONS\n"
		    "      Content-Length: 0\n"
		    "\n"
		    "    ]]>\n"
		    "  </send>\n"
		    "  <recv response=\"200\" rtd=\"1\"/>\n"
		    "</scenario>\n",
		    ruri, ruri) < 0)
		return -EIO;
	return ferror(f) ? -EIO : 0;
}

/* One rtt line "DATE;RTT;NAME" (without its newline) into *ns. */
static int rtt_line(const char *p, size_t n, int64_t *ns)
{
	char line[256], *s, *end, *semi;
	double date, ms;

	if (n >= sizeof(line))
		return -EBADMSG;
	memcpy(line, p, n);
	line[n] = '\0';
	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	semi = strchr(line, ';');
	if (!semi || semi == line)
		return -EBADMSG;
	*semi = '\0';
	errno = 0;
	date = strtod(line, &end);
	if (*end || errno || !isfinite(date) || date < 0)
		return -EBADMSG;
	s = semi + 1;
	semi = strchr(s, ';');
	if (!semi || semi == s || !semi[1] || strchr(semi + 1, ';'))
		return -EBADMSG;
	*semi = '\0';
	ms = strtod(s, &end);
	if (*end || errno || !isfinite(ms) || ms < 0 || ms > 1e12)
		return -EBADMSG;
	*ns = llround(ms * 1e6);
	return 0;
}

static int rtt_walk(const char *text, size_t len, struct rtv_hist *h, uint64_t *count)
{
	static const char header[] = "Date_ms;response_time_ms;rtd_no";
	const char *p = text, *e = text + len, *nl;
	uint64_t c = 0;

	while (p < e && (nl = memchr(p, '\n', (size_t)(e - p)))) {
		size_t n = (size_t)(nl - p);
		int64_t ns;

		if (n && p[n - 1] == '\r')
			n--;
		if (n == sizeof(header) - 1 && !memcmp(p, header, n)) {
			p = nl + 1;
			continue;
		}
		if (rtt_line(p, n, &ns))
			return -EBADMSG;
		if (h)
			rtv_hist_record(h, ns);
		c++;
		p = nl + 1;
	}
	if (count)
		*count = c;
	return 0;
}

int rtv_sip_sipp_rtt_parse(const char *text, size_t len, struct rtv_hist *h, uint64_t *count)
{
	int err;

	if (!text && len)
		return -EBADMSG;
	if (!text) {
		if (count)
			*count = 0;
		return 0;
	}
	/* check every line first, so that a bad one records nothing */
	err = rtt_walk(text, len, NULL, NULL);
	if (err)
		return err;
	return rtt_walk(text, len, h, count);
}

int rtv_sip_sipp_argv(const struct rtv_sip_sipp_cfg *c, char *buf, size_t len, char **argv,
		      int maxargv)
{
	struct argbuf a = { buf, buf + len, argv, 0, maxargv, false };
	struct in_addr ia;
	int64_t rto;

	if (!c || !buf || !argv || maxargv < 1 || !c->sipp_path || !c->scenario_path ||
	    !c->proxy_addr || !c->proxy_port || !c->local_addr ||
	    inet_pton(AF_INET, c->proxy_addr, &ia) != 1 ||
	    inet_pton(AF_INET, c->local_addr, &ia) != 1 || !(c->rate > 0) || !isfinite(c->rate) ||
	    (!c->calls && c->duration_ns <= 0) || c->duration_ns < 0 || c->recv_timeout_ns < 0)
		return -EINVAL;
	rto = c->recv_timeout_ns ? c->recv_timeout_ns : INT64_C(1000000000);
	arg(&a, c->sipp_path);
	argf(&a, "%s:%u", c->proxy_addr, c->proxy_port);
	arg(&a, "-sf");
	arg(&a, c->scenario_path);
	arg(&a, "-t");
	arg(&a, "u1");
	arg(&a, "-i");
	arg(&a, c->local_addr);
	arg(&a, "-bind_local");
	if (c->local_port) {
		arg(&a, "-p");
		argf(&a, "%u", c->local_port);
	}
	if (c->ctrl_port) {
		arg(&a, "-cp");
		argf(&a, "%u", c->ctrl_port);
	}
	if (c->media_port) {
		arg(&a, "-mp");
		argf(&a, "%u", c->media_port);
	}
	/* calls per second: -r (a double to SIPp) per -rp 1000 ms */
	arg(&a, "-r");
	argf(&a, "%.17g", c->rate);
	arg(&a, "-rp");
	arg(&a, "1000");
	if (c->calls) {
		arg(&a, "-m");
		argf(&a, "%" PRIu64, c->calls);
	}
	if (c->duration_ns) {
		arg(&a, "-timeout");
		argf(&a, "%" PRId64 "s", (c->duration_ns + INT64_C(999999999)) / INT64_C(1000000000));
	}
	arg(&a, "-recv_timeout");
	argf(&a, "%" PRId64, (rto + INT64_C(999999)) / INT64_C(1000000)); /* ms */
	arg(&a, "-trace_rtt");
	arg(&a, "-rtt_freq");
	arg(&a, "1");
	arg(&a, "-nostdin");
	return arg_done(&a);
}
