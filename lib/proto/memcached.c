/* memcached's wire protocol: see memcached.h. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/memcached.h"
#include "util/banned.h"

_Static_assert(RTV_MC_VALUE_MAX < SIZE_MAX / 2, "reply lengths add up without overflow");

/* ---- encoding ---- */

/* v in decimal at the end of tmp[20]; returns where its digits start */
static char *u64_dec(uint64_t v, char tmp[20])
{
	char *p = tmp + 20;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static bool key_ok(const char *key, size_t keylen)
{
	if (!key || keylen == 0 || keylen > RTV_MC_KEY_MAX)
		return false;
	for (size_t i = 0; i < keylen; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static unsigned char *put(unsigned char *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, s) put((p), (s), sizeof(s) - 1)

ssize_t rtv_mc_encode(enum rtv_mc_proto p, enum rtv_mc_op op, const char *key, size_t keylen,
		      const unsigned char *value, size_t vlen, uint32_t opaque,
		      unsigned char *buf, size_t cap)
{
	char lenbuf[20], opqbuf[20];
	char *ld = NULL, *od = NULL;
	size_t ln = 0, on = 0, need;
	unsigned char *q = buf;

	if ((p != RTV_MC_ASCII && p != RTV_MC_META) || (op != RTV_MC_GET && op != RTV_MC_SET))
		return -EINVAL;
	if (!key_ok(key, keylen))
		return -EINVAL;
	if (op == RTV_MC_SET) {
		if (vlen > RTV_MC_VALUE_MAX || (vlen && !value))
			return -EINVAL;
		ld = u64_dec(vlen, lenbuf);
		ln = (size_t)(lenbuf + sizeof(lenbuf) - ld);
	}
	if (p == RTV_MC_META) {
		od = u64_dec(opaque, opqbuf);
		on = (size_t)(opqbuf + sizeof(opqbuf) - od);
	}
	/* "get " KEY "\r\n" | "set " KEY " 0 0 " LEN "\r\n" DATA "\r\n"
	 * "mg " KEY " v O" OPQ "\r\n" | "ms " KEY " " LEN " O" OPQ "\r\n" DATA "\r\n" */
	if (p == RTV_MC_ASCII)
		need = op == RTV_MC_GET ? 4 + keylen + 2 : 4 + keylen + 5 + ln + 2 + vlen + 2;
	else
		need = op == RTV_MC_GET ? 3 + keylen + 4 + on + 2
					: 3 + keylen + 1 + ln + 2 + on + 2 + vlen + 2;
	if (need > cap || need > SSIZE_MAX)
		return -ENOSPC;

	if (p == RTV_MC_ASCII) {
		q = op == RTV_MC_GET ? PUT_LIT(q, "get ") : PUT_LIT(q, "set ");
		q = put(q, key, keylen);
		if (op == RTV_MC_SET) {
			q = PUT_LIT(q, " 0 0 ");
			q = put(q, ld, ln);
		}
	} else {
		q = op == RTV_MC_GET ? PUT_LIT(q, "mg ") : PUT_LIT(q, "ms ");
		q = put(q, key, keylen);
		if (op == RTV_MC_GET) {
			q = PUT_LIT(q, " v O");
		} else {
			q = PUT_LIT(q, " ");
			q = put(q, ld, ln);
			q = PUT_LIT(q, " O");
		}
		q = put(q, od, on);
	}
	q = PUT_LIT(q, "\r\n");
	if (op == RTV_MC_SET) {
		if (vlen)
			q = put(q, value, vlen);
		q = PUT_LIT(q, "\r\n");
	}
	return (ssize_t)(q - buf);
}

/* ---- parsing ---- */

enum word_kind {
	W_BARE,   /* the line is the word alone */
	W_TEXT,   /* the word, then optionally a space and any text */
	W_VALUE,  /* ASCII VALUE KEY FLAGS LEN [CAS], then data, \r\n, END\r\n */
	W_META,   /* the word, then meta flags */
	W_META_V, /* VA LEN, then meta flags, then data and \r\n */
};

struct word {
	const char *w;
	unsigned char len;
	unsigned char kind;
	unsigned char status;
};

#define WORD(s, k, st) { s, sizeof(s) - 1, k, st }
#define ERROR_WORDS                                             \
	WORD("ERROR", W_TEXT, RTV_MC_ERROR),                    \
	WORD("CLIENT_ERROR", W_TEXT, RTV_MC_CLIENT_ERROR),      \
	WORD("SERVER_ERROR", W_TEXT, RTV_MC_SERVER_ERROR)

static const struct word ascii_get[] = {
	WORD("VALUE", W_VALUE, RTV_MC_HIT),
	WORD("END", W_BARE, RTV_MC_MISS),
	ERROR_WORDS,
};
static const struct word ascii_set[] = {
	WORD("STORED", W_BARE, RTV_MC_STORED),
	WORD("NOT_STORED", W_BARE, RTV_MC_NOT_STORED),
	WORD("EXISTS", W_BARE, RTV_MC_NOT_STORED),
	WORD("NOT_FOUND", W_BARE, RTV_MC_NOT_STORED),
	ERROR_WORDS,
};
static const struct word meta_get[] = {
	WORD("VA", W_META_V, RTV_MC_HIT),
	WORD("EN", W_META, RTV_MC_MISS),
	WORD("HD", W_META, RTV_MC_HIT),
	ERROR_WORDS,
};
static const struct word meta_set[] = {
	WORD("HD", W_META, RTV_MC_STORED),
	WORD("NS", W_META, RTV_MC_NOT_STORED),
	WORD("EX", W_META, RTV_MC_NOT_STORED),
	WORD("NF", W_META, RTV_MC_NOT_STORED),
	ERROR_WORDS,
};

/* either op's: the words differ, but for meta's HD, a set's here (see
 * memcached.h) */
static const struct word ascii_any[] = {
	WORD("VALUE", W_VALUE, RTV_MC_HIT),
	WORD("END", W_BARE, RTV_MC_MISS),
	WORD("STORED", W_BARE, RTV_MC_STORED),
	WORD("NOT_STORED", W_BARE, RTV_MC_NOT_STORED),
	WORD("EXISTS", W_BARE, RTV_MC_NOT_STORED),
	WORD("NOT_FOUND", W_BARE, RTV_MC_NOT_STORED),
	ERROR_WORDS,
};
static const struct word meta_any[] = {
	WORD("VA", W_META_V, RTV_MC_HIT),
	WORD("EN", W_META, RTV_MC_MISS),
	WORD("HD", W_META, RTV_MC_STORED),
	WORD("NS", W_META, RTV_MC_NOT_STORED),
	WORD("EX", W_META, RTV_MC_NOT_STORED),
	WORD("NF", W_META, RTV_MC_NOT_STORED),
	ERROR_WORDS,
};

#define NWORDS(a) (sizeof(a) / sizeof((a)[0]))

/* A decimal number of at most max, as [*pos, end) starts it up to the next
 * space or end; moves *pos past it. */
static int parse_num(const unsigned char *buf, size_t *pos, size_t end, uint64_t max,
		     uint64_t *v)
{
	size_t i = *pos;
	uint64_t n = 0;

	if (i >= end || buf[i] < '0' || buf[i] > '9')
		return -EBADMSG;
	for (; i < end && buf[i] != ' '; i++) {
		unsigned d = (unsigned)buf[i] - '0';

		if (d > 9 || n > (max - d) / 10)
			return -EBADMSG;
		n = n * 10 + d;
	}
	*pos = i;
	*v = n;
	return 0;
}

/* A token of printable characters, as [*pos, end) starts it up to the next
 * space or end, of 1 .. max bytes; moves *pos past it. */
static int parse_token(const unsigned char *buf, size_t *pos, size_t end, size_t max)
{
	size_t i = *pos;

	for (; i < end && buf[i] != ' '; i++)
		if (buf[i] < 0x21 || buf[i] == 0x7f)
			return -EBADMSG;
	if (i == *pos || i - *pos > max)
		return -EBADMSG;
	*pos = i;
	return 0;
}

/* " " separator, then something */
static int parse_sep(const unsigned char *buf, size_t *pos, size_t end)
{
	if (*pos + 1 >= end || buf[*pos] != ' ')
		return -EBADMSG;
	(*pos)++;
	return 0;
}

/* Meta flags from pos to end: (" " LETTER TOKEN?)*. O must be a 32-bit
 * decimal number, k a key. */
static int parse_meta_flags(const unsigned char *buf, size_t pos, size_t end,
			    struct rtv_mc_reply *r)
{
	while (pos < end) {
		unsigned char f;
		size_t start;
		uint64_t v;

		if (parse_sep(buf, &pos, end) < 0)
			return -EBADMSG;
		f = buf[pos++];
		if (!((f >= 'A' && f <= 'Z') || (f >= 'a' && f <= 'z')))
			return -EBADMSG;
		start = pos;
		if (f == 'O') {
			if (parse_num(buf, &pos, end, UINT32_MAX, &v) < 0)
				return -EBADMSG;
			r->has_opaque = true;
			r->opaque = (uint32_t)v;
		} else if (f == 'k') {
			if (parse_token(buf, &pos, end, RTV_MC_KEY_MAX) < 0)
				return -EBADMSG;
			r->key_off = start;
			r->key_len = pos - start;
		} else if (pos < end && buf[pos] != ' ') {
			if (parse_token(buf, &pos, end, RTV_MC_LINE_MAX) < 0)
				return -EBADMSG;
		}
	}
	return 0;
}

/* Whether [0, n) (no \n in it) can start a line of words. */
static int check_partial(const struct word *words, size_t nwords, const unsigned char *buf,
			 size_t n)
{
	size_t wend = 0;
	bool complete;

	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\r' && i + 1 < n)
			return -EBADMSG; /* \r not followed by \n */
	while (wend < n && buf[wend] != ' ' && buf[wend] != '\r')
		wend++;
	complete = wend < n; /* a space or the \r follows the word */
	for (size_t j = 0; j < nwords; j++) {
		const struct word *w = &words[j];

		if (!complete) {
			if (wend <= w->len && !memcmp(buf, w->w, wend))
				return 0;
		} else if (wend == w->len && !memcmp(buf, w->w, wend)) {
			if (w->kind == W_BARE && buf[wend] == ' ')
				return -EBADMSG;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Whether the len bytes at buf, all there is, start lit. */
static bool prefix_of(const unsigned char *buf, size_t len, const char *lit, size_t litlen)
{
	return !memcmp(buf, lit, len < litlen ? len : litlen);
}

ssize_t rtv_mc_parse(enum rtv_mc_proto p, enum rtv_mc_op op, const unsigned char *buf,
		     size_t len, struct rtv_mc_reply *r)
{
	const struct word *words, *w = NULL;
	size_t nwords, scan, eol, end, pos, total, dend;
	const unsigned char *nl;
	uint64_t v;

	if (p == RTV_MC_ASCII && op == RTV_MC_GET)
		words = ascii_get, nwords = NWORDS(ascii_get);
	else if (p == RTV_MC_ASCII && op == RTV_MC_SET)
		words = ascii_set, nwords = NWORDS(ascii_set);
	else if (p == RTV_MC_META && op == RTV_MC_GET)
		words = meta_get, nwords = NWORDS(meta_get);
	else if (p == RTV_MC_META && op == RTV_MC_SET)
		words = meta_set, nwords = NWORDS(meta_set);
	else if (p == RTV_MC_ASCII && op == RTV_MC_ANY)
		words = ascii_any, nwords = NWORDS(ascii_any);
	else if (p == RTV_MC_META && op == RTV_MC_ANY)
		words = meta_any, nwords = NWORDS(meta_any);
	else
		return -EBADMSG;

	memset(r, 0, sizeof(*r));
	scan = len < RTV_MC_LINE_MAX ? len : RTV_MC_LINE_MAX;
	nl = scan ? memchr(buf, '\n', scan) : NULL;
	if (!nl) {
		if (scan == RTV_MC_LINE_MAX)
			return -EBADMSG;
		return check_partial(words, nwords, buf, scan);
	}
	eol = (size_t)(nl - buf);           /* the \n */
	if (eol == 0 || buf[eol - 1] != '\r')
		return -EBADMSG;
	end = eol - 1;                      /* the line is [0, end) */
	if (memchr(buf, '\r', end))        /* a \r is only ever before \n */
		return -EBADMSG;
	total = eol + 1;

	for (size_t j = 0; j < nwords; j++) {
		if (end >= words[j].len && !memcmp(buf, words[j].w, words[j].len) &&
		    (end == words[j].len || buf[words[j].len] == ' ')) {
			w = &words[j];
			break;
		}
	}
	if (!w)
		return -EBADMSG;
	r->status = (enum rtv_mc_status)w->status;
	pos = w->len;

	switch (w->kind) {
	case W_BARE:
		if (pos != end)
			return -EBADMSG;
		return (ssize_t)total;
	case W_TEXT:
		return (ssize_t)total;
	case W_META:
		if (parse_meta_flags(buf, pos, end, r) < 0)
			return -EBADMSG;
		return (ssize_t)total;
	case W_VALUE:
		/* VALUE KEY FLAGS LEN [CAS] */
		if (parse_sep(buf, &pos, end) < 0)
			return -EBADMSG;
		r->key_off = pos;
		if (parse_token(buf, &pos, end, RTV_MC_KEY_MAX) < 0)
			return -EBADMSG;
		r->key_len = pos - r->key_off;
		if (parse_sep(buf, &pos, end) < 0 ||
		    parse_num(buf, &pos, end, UINT32_MAX, &v) < 0 ||
		    parse_sep(buf, &pos, end) < 0 ||
		    parse_num(buf, &pos, end, RTV_MC_VALUE_MAX, &v) < 0)
			return -EBADMSG;
		r->value_len = (size_t)v;
		if (pos < end) {
			uint64_t cas;

			if (parse_sep(buf, &pos, end) < 0 ||
			    parse_num(buf, &pos, end, UINT64_MAX, &cas) < 0 || pos != end)
				return -EBADMSG;
		}
		break;
	case W_META_V:
		/* VA LEN flags */
		if (parse_sep(buf, &pos, end) < 0 ||
		    parse_num(buf, &pos, end, RTV_MC_VALUE_MAX, &v) < 0)
			return -EBADMSG;
		r->value_len = (size_t)v;
		if (parse_meta_flags(buf, pos, end, r) < 0)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}

	/* data, \r\n, and for ASCII END\r\n */
	r->value_off = total;
	dend = total + r->value_len;
	total = dend + 2 + (w->kind == W_VALUE ? 5 : 0);
	if (len > dend && !prefix_of(buf + dend, len - dend, "\r\n", 2))
		return -EBADMSG;
	if (w->kind == W_VALUE && len > dend + 2 &&
	    !prefix_of(buf + dend + 2, len - dend - 2, "END\r\n", 5))
		return -EBADMSG;
	if (len < total) {
		r->need = total;
		return 0;
	}
	return (ssize_t)total;
}

/* ---- UDP ---- */

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void rtv_mc_udp_put(unsigned char *p, uint16_t id)
{
	put16(p, id);
	put16(p + 2, 0);
	put16(p + 4, 1);
	put16(p + 6, 0);
}

int rtv_mc_udp_get(const unsigned char *p, size_t len, struct rtv_mc_udp_hdr *h)
{
	if (len < RTV_MC_UDP_HDR)
		return -EBADMSG;
	h->id = get16(p);
	h->seq = get16(p + 2);
	h->total = get16(p + 4);
	h->reserved = get16(p + 6);
	if (h->total == 0 || h->seq >= h->total)
		return -EBADMSG;
	return 0;
}

/* ---- keys ---- */

size_t rtv_mc_key(uint32_t i, char *buf, size_t cap)
{
	if (cap < RTV_MC_KEY_LEN)
		return 0;
	memcpy(buf, "rtv:", 4);
	for (int j = RTV_MC_KEY_LEN - 1; j >= 4; j--) {
		buf[j] = (char)('0' + i % 10);
		i /= 10;
	}
	return RTV_MC_KEY_LEN;
}

/* Walker's alias method, built by Vose's algorithm: q[i] = n P(i); keys
 * below 1 are topped up from keys above. */
static int keys_build_alias(struct rtv_mc_keys *k)
{
	uint32_t n = k->n, *work = NULL, nsmall = 0, nlarge = 0;
	double *q = NULL, sum = 0;
	int err = -ENOMEM;

	k->table = calloc(n, sizeof(*k->table));
	q = malloc((size_t)n * sizeof(*q));
	work = malloc((size_t)n * sizeof(*work)); /* small from the front, large from the back */
	if (!k->table || !q || !work)
		goto out;
	for (uint32_t i = n; i-- > 0;) { /* smallest first, for the sum's accuracy */
		q[i] = pow((double)i + 1.0, -k->s);
		sum += q[i];
	}
	for (uint32_t i = 0; i < n; i++) {
		q[i] = q[i] / sum * n;
		if (q[i] < 1.0)
			work[nsmall++] = i;
		else
			work[n - 1 - nlarge++] = i;
	}
	while (nsmall && nlarge) {
		uint32_t s = work[--nsmall], g = work[n - nlarge];
		double t = q[s] * 4294967296.0;

		k->table[s].thresh = t >= 4294967295.0 ? UINT32_MAX : (uint32_t)(t + 0.5);
		k->table[s].alias = g;
		q[g] = (q[g] + q[s]) - 1.0;
		if (q[g] < 1.0) {
			nlarge--;
			work[nsmall++] = g;
		}
	}
	/* what is left is 1 up to rounding: always itself */
	while (nsmall) {
		uint32_t s = work[--nsmall];

		k->table[s] = (struct rtv_mc_alias){ UINT32_MAX, s };
	}
	while (nlarge) {
		uint32_t g = work[n - nlarge--];

		k->table[g] = (struct rtv_mc_alias){ UINT32_MAX, g };
	}
	err = 0;
out:
	free(q);
	free(work);
	if (err) {
		free(k->table);
		k->table = NULL;
	}
	return err;
}

int rtv_mc_keys_init(struct rtv_mc_keys *k, uint32_t n, double zipf_s)
{
	memset(k, 0, sizeof(*k));
	if (n == 0 || !(zipf_s >= 0) || !isfinite(zipf_s))
		return -EINVAL;
	k->n = n;
	k->s = zipf_s;
	if (zipf_s == 0)
		return 0;
	return keys_build_alias(k);
}

uint32_t rtv_mc_keys_draw(const struct rtv_mc_keys *k, uint64_t u)
{
	/* u n / 2^64: the integer part picks a column, the fraction's top
	 * 32 bits are the coin */
	unsigned __int128 m = (unsigned __int128)u * k->n;
	uint32_t i = (uint32_t)(m >> 64);
	uint32_t coin = (uint32_t)((uint64_t)m >> 32);

	if (!k->table)
		return i;
	return coin < k->table[i].thresh ? i : k->table[i].alias;
}

void rtv_mc_keys_free(struct rtv_mc_keys *k)
{
	if (!k)
		return;
	free(k->table);
	k->table = NULL;
}

/* ---- the server ---- */

int rtv_mc_server_argv(const char *memcached_path, const char *addr, uint16_t port, int threads,
		       char *buf, size_t len, char **argv, int maxargv)
{
	char portbuf[8], thrbuf[16];
	const char *args[16];
	int argc = 0;
	size_t used = 0;

	if (!memcached_path || !memcached_path[0] || !addr || !addr[0] || port == 0 ||
	    threads < 1)
		return -EINVAL;
	snprintf(portbuf, sizeof(portbuf), "%u", (unsigned)port);
	snprintf(thrbuf, sizeof(thrbuf), "%d", threads);
	args[argc++] = memcached_path;
	args[argc++] = "-l";
	args[argc++] = addr;
	args[argc++] = "-p";
	args[argc++] = portbuf;
	args[argc++] = "-U";
	args[argc++] = portbuf;
	args[argc++] = "-t";
	args[argc++] = thrbuf;
	args[argc++] = "-m";
	args[argc++] = "64";
	args[argc++] = "-c";
	args[argc++] = "1024";
	if (geteuid() == 0) {
		args[argc++] = "-u";
		args[argc++] = "root";
	}
	if (argc + 1 > maxargv)
		return -ENOSPC;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(args[i]) + 1;

		if (n > len - used)
			return -ENOSPC;
		memcpy(buf + used, args[i], n);
		argv[i] = buf + used;
		used += n;
	}
	argv[argc] = NULL;
	return argc;
}
