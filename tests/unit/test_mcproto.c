/* Unit tests for lib/proto/memcached: the encoders against the exact bytes
 * memcached 1.6.18 was sent, the parser on the real replies of Debian 12's
 * memcached 1.6.18 captured by tests/unit/data/memcached/capture.py (which
 * says how, and sent what each file answers), on every prefix of them, on
 * several replies in one buffer and on malformed ones; the UDP frame header;
 * the key names; the key popularity against the analytic probabilities;
 * the server's argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/memcached.h"

#ifndef RTV_TEST_DATA_DIR
#error "RTV_TEST_DATA_DIR: tests/unit/meson.build passes it"
#endif

static size_t load(const char *name, unsigned char *buf, size_t cap)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/memcached/%s.bin", RTV_TEST_DATA_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open '%s'", path);
	n = fread(buf, 1, cap, f);
	assert_true(n < cap);
	fclose(f);
	return n;
}

/* ---- encoders ---- */

static void expect_encode(enum rtv_mc_proto p, enum rtv_mc_op op, const char *key,
			  const char *value, uint32_t opaque, const char *want)
{
	unsigned char buf[512];
	size_t wl = strlen(want), vl = value ? strlen(value) : 0;
	ssize_t n;

	n = rtv_mc_encode(p, op, key, strlen(key), (const unsigned char *)value, vl, opaque, buf,
			  sizeof(buf));
	assert_int_equal(n, (ssize_t)wl);
	assert_memory_equal(buf, want, wl);
	/* exactly enough room, then one byte short */
	assert_int_equal(rtv_mc_encode(p, op, key, strlen(key), (const unsigned char *)value, vl,
				       opaque, buf, wl), (ssize_t)wl);
	assert_int_equal(rtv_mc_encode(p, op, key, strlen(key), (const unsigned char *)value, vl,
				       opaque, buf, wl - 1), -ENOSPC);
}

static void test_encode(void **state)
{
	(void)state;
	/* the requests capture.py sent to memcached 1.6.18 */
	expect_encode(RTV_MC_ASCII, RTV_MC_GET, "rtv:0000000001", NULL, 5,
		      "get rtv:0000000001\r\n");
	expect_encode(RTV_MC_ASCII, RTV_MC_SET, "rtv:0000000001", "hello memcached", 5,
		      "set rtv:0000000001 0 0 15\r\nhello memcached\r\n");
	expect_encode(RTV_MC_META, RTV_MC_GET, "rtv:0000000004", NULL, 305419896,
		      "mg rtv:0000000004 v O305419896\r\n");
	expect_encode(RTV_MC_META, RTV_MC_SET, "rtv:0000000004", "hello memcached", 305419896,
		      "ms rtv:0000000004 15 O305419896\r\nhello memcached\r\n");
	expect_encode(RTV_MC_META, RTV_MC_GET, "k", NULL, 0, "mg k v O0\r\n");
	expect_encode(RTV_MC_META, RTV_MC_GET, "k", NULL, UINT32_MAX, "mg k v O4294967295\r\n");
	expect_encode(RTV_MC_META, RTV_MC_SET, "k", "", 1, "ms k 0 O1\r\n\r\n");
	expect_encode(RTV_MC_ASCII, RTV_MC_SET, "k", "", 1, "set k 0 0 0\r\n\r\n");
}

static void test_encode_bad_key(void **state)
{
	unsigned char buf[600];
	char key[RTV_MC_KEY_MAX + 1];
	const char *bad[] = { "a b", "a\nb", "a\rb", "a\x7f", "\x01", "a\tb" };

	(void)state;
	memset(key, 'k', sizeof(key));
	assert_int_equal(rtv_mc_encode(RTV_MC_ASCII, RTV_MC_GET, key, RTV_MC_KEY_MAX, NULL, 0, 0,
				       buf, sizeof(buf)), 4 + RTV_MC_KEY_MAX + 2);
	assert_int_equal(rtv_mc_encode(RTV_MC_ASCII, RTV_MC_GET, key, RTV_MC_KEY_MAX + 1, NULL, 0,
				       0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rtv_mc_encode(RTV_MC_META, RTV_MC_GET, key, 0, NULL, 0, 0, buf,
				       sizeof(buf)), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int p = RTV_MC_ASCII; p <= RTV_MC_META; p++)
			assert_int_equal(rtv_mc_encode((enum rtv_mc_proto)p, RTV_MC_SET, bad[i],
						       strlen(bad[i]), (const unsigned char *)"x",
						       1, 0, buf, sizeof(buf)), -EINVAL);
	/* a key with non-ASCII bytes is allowed, as memcached allows it */
	assert_true(rtv_mc_encode(RTV_MC_META, RTV_MC_GET, "\xc3\xa9", 2, NULL, 0, 0, buf,
				  sizeof(buf)) > 0);
	assert_int_equal(rtv_mc_encode(RTV_MC_META, (enum rtv_mc_op)7, "k", 1, NULL, 0, 0, buf,
				       sizeof(buf)), -EINVAL);
}

/* ---- parser on captures ---- */

struct expect {
	enum rtv_mc_status status;
	bool has_opaque;
	uint32_t opaque;
	size_t value_len;
	const char *value; /* the hit's data, or NULL */
	const char *key;   /* the key named, or NULL */
};

struct capture {
	const char *name;
	enum rtv_mc_proto p;
	enum rtv_mc_op op;
	bool udp;
	int nreplies;
	struct expect e[2];
};

#define HELLO .value_len = 15, .value = "hello memcached"

static const struct capture captures[] = {
	{ "ascii-set", RTV_MC_ASCII, RTV_MC_SET, false, 1, { { .status = RTV_MC_STORED } } },
	{ "ascii-get-hit", RTV_MC_ASCII, RTV_MC_GET, false, 1,
	  { { .status = RTV_MC_HIT, HELLO, .key = "rtv:0000000001" } } },
	{ "ascii-get-miss", RTV_MC_ASCII, RTV_MC_GET, false, 1, { { .status = RTV_MC_MISS } } },
	{ "ascii-error", RTV_MC_ASCII, RTV_MC_GET, false, 1, { { .status = RTV_MC_ERROR } } },
	{ "ascii-client-error", RTV_MC_ASCII, RTV_MC_SET, false, 2,
	  { { .status = RTV_MC_CLIENT_ERROR }, { .status = RTV_MC_ERROR } } },
	{ "ascii-server-error", RTV_MC_ASCII, RTV_MC_SET, false, 1,
	  { { .status = RTV_MC_SERVER_ERROR } } },
	{ "meta-set", RTV_MC_META, RTV_MC_SET, false, 1,
	  { { .status = RTV_MC_STORED, .has_opaque = true, .opaque = 305419896 } } },
	{ "meta-get-hit", RTV_MC_META, RTV_MC_GET, false, 1,
	  { { .status = RTV_MC_HIT, .has_opaque = true, .opaque = 305419896, HELLO } } },
	{ "meta-get-miss", RTV_MC_META, RTV_MC_GET, false, 1,
	  { { .status = RTV_MC_MISS, .has_opaque = true, .opaque = 4294967295u } } },
	{ "meta-get-hit-k", RTV_MC_META, RTV_MC_GET, false, 1,
	  { { .status = RTV_MC_HIT, .has_opaque = true, .opaque = 7, HELLO,
	      .key = "rtv:0000000004" } } },
	{ "meta-set-too-large", RTV_MC_META, RTV_MC_SET, false, 1,
	  { { .status = RTV_MC_SERVER_ERROR } } },
	{ "udp-get-hit", RTV_MC_ASCII, RTV_MC_GET, true, 1,
	  { { .status = RTV_MC_HIT, HELLO, .key = "rtv:0000000001" } } },
	{ "udp-meta-get-miss", RTV_MC_META, RTV_MC_GET, true, 1,
	  { { .status = RTV_MC_MISS, .has_opaque = true, .opaque = 77 } } },
};

#define NCAPTURES (sizeof(captures) / sizeof(captures[0]))

static void check_reply(const unsigned char *buf, const struct rtv_mc_reply *r,
			const struct expect *e)
{
	assert_int_equal(r->status, e->status);
	assert_int_equal(r->has_opaque, e->has_opaque);
	assert_int_equal(r->opaque, e->opaque);
	assert_int_equal(r->value_len, e->value_len);
	if (e->value)
		assert_memory_equal(buf + r->value_off, e->value, e->value_len);
	if (e->key) {
		assert_int_equal(r->key_len, strlen(e->key));
		assert_memory_equal(buf + r->key_off, e->key, r->key_len);
	} else {
		assert_int_equal(r->key_len, 0);
	}
}

/* the payload of capture c into buf; returns its length */
static size_t load_payload(const struct capture *c, unsigned char *buf, size_t cap)
{
	size_t n = load(c->name, buf, cap);

	if (c->udp) {
		struct rtv_mc_udp_hdr h;

		assert_int_equal(rtv_mc_udp_get(buf, n, &h), 0);
		assert_int_equal(h.seq, 0);
		assert_int_equal(h.total, 1); /* one datagram */
		assert_int_equal(h.reserved, 0);
		assert_int_equal(h.id, strcmp(c->name, "udp-get-hit") ? 0x4321 : 0x1234);
		memmove(buf, buf + RTV_MC_UDP_HDR, n - RTV_MC_UDP_HDR);
		n -= RTV_MC_UDP_HDR;
	}
	return n;
}

static void test_parse_captures(void **state)
{
	static unsigned char buf[4096];

	(void)state;
	for (size_t i = 0; i < NCAPTURES; i++) {
		const struct capture *c = &captures[i];
		size_t n = load_payload(c, buf, sizeof(buf)), off = 0;
		struct rtv_mc_reply r;

		for (int j = 0; j < c->nreplies; j++) {
			ssize_t got = rtv_mc_parse(c->p, c->op, buf + off, n - off, &r);

			assert_true(got > 0);
			check_reply(buf + off, &r, &c->e[j]);
			/* every prefix of this reply is only a prefix, exactly so
			 * long as it is shorter, whatever follows in the file */
			for (size_t k = 0; k < (size_t)got; k++) {
				ssize_t pre = rtv_mc_parse(c->p, c->op, buf + off, k, &r);

				assert_int_equal(pre, 0);
				assert_true(r.need == 0 || r.need == (size_t)got);
			}
			off += (size_t)got;
		}
		assert_int_equal(off, n); /* the whole capture, nothing left */
	}
}

/* All captures answering (p, op) in one buffer, three times over. */
static void test_parse_concatenated(void **state)
{
	static unsigned char buf[16384], one[4096];

	(void)state;
	for (int p = RTV_MC_ASCII; p <= RTV_MC_META; p++) {
		for (int op = RTV_MC_GET; op <= RTV_MC_SET; op++) {
			const struct expect *want[64];
			size_t n = 0, nwant = 0, off = 0;
			struct rtv_mc_reply r;

			for (int round = 0; round < 3; round++) {
				for (size_t i = 0; i < NCAPTURES; i++) {
					const struct capture *c = &captures[i];
					size_t m;

					if ((int)c->p != p || (int)c->op != op)
						continue;
					m = load_payload(c, one, sizeof(one));
					memcpy(buf + n, one, m);
					n += m;
					for (int j = 0; j < c->nreplies; j++)
						want[nwant++] = &c->e[j];
				}
			}
			for (size_t j = 0; j < nwant; j++) {
				ssize_t got = rtv_mc_parse((enum rtv_mc_proto)p, (enum rtv_mc_op)op,
							   buf + off, n - off, &r);

				assert_true(got > 0);
				check_reply(buf + off, &r, want[j]);
				off += (size_t)got;
			}
			assert_int_equal(off, n);
			assert_true(nwant >= 3);
		}
	}
}

/* A reply parsed as the answer to the other op is malformed (STORED after
 * a get), except the error lines. */
static void test_parse_wrong_op(void **state)
{
	static unsigned char buf[4096];

	(void)state;
	for (size_t i = 0; i < NCAPTURES; i++) {
		const struct capture *c = &captures[i];
		enum rtv_mc_op other = c->op == RTV_MC_GET ? RTV_MC_SET : RTV_MC_GET;
		size_t n = load_payload(c, buf, sizeof(buf));
		struct rtv_mc_reply r;
		ssize_t got = rtv_mc_parse(c->p, other, buf, n, &r);

		if (c->e[0].status >= RTV_MC_ERROR)
			assert_true(got > 0);
		else if (c->p == RTV_MC_META && c->e[0].status == RTV_MC_STORED)
			assert_true(got > 0 && r.status == RTV_MC_HIT); /* HD */
		else
			assert_int_equal(got, -EBADMSG);
	}
}

/* Every capture, all in one buffer, parsed with RTV_MC_ANY: each reply
 * read as with its op (meta's HD is a set's). */
static void test_parse_any(void **state)
{
	static unsigned char buf[16384], one[4096];
	struct rtv_mc_reply r;

	(void)state;
	for (int p = RTV_MC_ASCII; p <= RTV_MC_META; p++) {
		const struct expect *want[64];
		size_t n = 0, nwant = 0, off = 0;

		for (size_t i = 0; i < NCAPTURES; i++) {
			const struct capture *c = &captures[i];
			size_t m;

			if ((int)c->p != p)
				continue;
			m = load_payload(c, one, sizeof(one));
			memcpy(buf + n, one, m);
			n += m;
			for (int j = 0; j < c->nreplies; j++)
				want[nwant++] = &c->e[j];
		}
		for (size_t j = 0; j < nwant; j++) {
			ssize_t got = rtv_mc_parse((enum rtv_mc_proto)p, RTV_MC_ANY, buf + off,
						   n - off, &r);

			assert_true(got > 0);
			check_reply(buf + off, &r, want[j]);
			off += (size_t)got;
		}
		assert_int_equal(off, n);
	}
	assert_int_equal(rtv_mc_parse(RTV_MC_META, RTV_MC_ANY, (const unsigned char *)"HD O5\r\n",
				      7, &r), 7);
	assert_int_equal(r.status, RTV_MC_STORED);
	assert_int_equal(rtv_mc_parse(RTV_MC_META, RTV_MC_ANY, (const unsigned char *)"END\r\n",
				      5, &r), -EBADMSG);
	assert_int_equal(rtv_mc_parse(RTV_MC_ASCII, RTV_MC_ANY, (const unsigned char *)"EN\r\n",
				      4, &r), -EBADMSG);
	/* a split reply: the first line is enough to match it */
	assert_int_equal(rtv_mc_parse(RTV_MC_META, RTV_MC_ANY,
				      (const unsigned char *)"VA 5000 O77\r\nxxxx", 17, &r), 0);
	assert_int_equal(r.need, 13 + 5000 + 2);
	assert_true(r.status == RTV_MC_HIT && r.has_opaque && r.opaque == 77);
	assert_int_equal(rtv_mc_encode(RTV_MC_META, RTV_MC_ANY, "k", 1, NULL, 0, 0, one,
				       sizeof(one)), -EINVAL);
}

struct bad {
	enum rtv_mc_proto p;
	enum rtv_mc_op op;
	const char *s;
};

static void test_parse_malformed(void **state)
{
	static const struct bad bad[] = {
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 5\r\nhelloX\r\nEND\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 5\r\nhello\rX" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 5\r\nhello\r\nENX" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 5\r\nhello\r\nVALUE k 0 5\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 4\r\nhello\r\nEND\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 6\r\nhello\r\nEND\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE  k 0 1\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 1 \r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 1 2 3\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0x 1\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 4294967296 1\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 -1\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 1073741825\r\n" },          /* > 1 GiB */
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 18446744073709551616\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 99999999999999999999999999\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "END\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "END \r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "END " },
		{ RTV_MC_ASCII, RTV_MC_GET, "ENDX\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "END\rX" },
		{ RTV_MC_ASCII, RTV_MC_GET, "STORED\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "HTTP/1.1 200 OK\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "H" },
		{ RTV_MC_ASCII, RTV_MC_GET, "end\r\n" },
		{ RTV_MC_ASCII, RTV_MC_GET, "ERRORS\r\n" },
		{ RTV_MC_ASCII, RTV_MC_SET, "STORED \r\n" },
		{ RTV_MC_ASCII, RTV_MC_SET, "STOREDX" },
		{ RTV_MC_ASCII, RTV_MC_SET, "END\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "VA 5 O1\r\nhelloX\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "VA 5 O1\r\nhello\r\r" },
		{ RTV_MC_META, RTV_MC_GET, "VA O1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "VA 1073741825 O1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "VA 18446744073709551617 O1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN O4294967296\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN O\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN Ox\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN  O1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN O1 \r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN 1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN\tO1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "ENO1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "EN k\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "NS O1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "END\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "VALUE k 0 1\r\n" },
		{ RTV_MC_META, RTV_MC_GET, "MN\r\n" },
		{ RTV_MC_META, RTV_MC_SET, "VA 1 O1\r\nx\r\n" },
		{ RTV_MC_META, RTV_MC_SET, "EN O1\r\n" },
		{ RTV_MC_META, RTV_MC_SET, "STORED\r\n" },
	};
	struct rtv_mc_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t got = rtv_mc_parse(bad[i].p, bad[i].op, (const unsigned char *)bad[i].s,
					   strlen(bad[i].s), &r);

		if (got != -EBADMSG)
			fail_msg("malformed case %zu: %zd, not -EBADMSG", i, got);
	}
	assert_int_equal(rtv_mc_parse((enum rtv_mc_proto)2, RTV_MC_GET,
				      (const unsigned char *)"END\r\n", 5, &r), -EBADMSG);
}

/* Replies that are right though not captured: other words, cas, flags. */
static void test_parse_other_replies(void **state)
{
	static const struct {
		enum rtv_mc_proto p;
		enum rtv_mc_op op;
		const char *s;
		enum rtv_mc_status st;
		size_t vlen;
	} good[] = {
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 4294967295 3 18446744073709551615\r\nabc\r\nEND\r\n",
		  RTV_MC_HIT, 3 },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 0\r\n\r\nEND\r\n", RTV_MC_HIT, 0 },
		{ RTV_MC_ASCII, RTV_MC_GET, "VALUE k 0 4\r\n\r\n\r\n\r\nEND\r\n", RTV_MC_HIT, 4 },
		{ RTV_MC_ASCII, RTV_MC_SET, "NOT_STORED\r\n", RTV_MC_NOT_STORED, 0 },
		{ RTV_MC_ASCII, RTV_MC_SET, "EXISTS\r\n", RTV_MC_NOT_STORED, 0 },
		{ RTV_MC_ASCII, RTV_MC_SET, "NOT_FOUND\r\n", RTV_MC_NOT_STORED, 0 },
		{ RTV_MC_ASCII, RTV_MC_SET, "SERVER_ERROR out of memory storing object\r\n",
		  RTV_MC_SERVER_ERROR, 0 },
		{ RTV_MC_ASCII, RTV_MC_SET, "CLIENT_ERROR\r\n", RTV_MC_CLIENT_ERROR, 0 },
		{ RTV_MC_META, RTV_MC_SET, "NS O3\r\n", RTV_MC_NOT_STORED, 0 },
		{ RTV_MC_META, RTV_MC_SET, "EX\r\n", RTV_MC_NOT_STORED, 0 },
		{ RTV_MC_META, RTV_MC_SET, "NF O3 b t-1 c99\r\n", RTV_MC_NOT_STORED, 0 },
		{ RTV_MC_META, RTV_MC_SET, "HD\r\n", RTV_MC_STORED, 0 },
		{ RTV_MC_META, RTV_MC_GET, "EN\r\n", RTV_MC_MISS, 0 },
		{ RTV_MC_META, RTV_MC_GET, "HD O3\r\n", RTV_MC_HIT, 0 },
		{ RTV_MC_META, RTV_MC_GET, "VA 2 t-1 s2 O3 f0\r\nab\r\n", RTV_MC_HIT, 2 },
		{ RTV_MC_META, RTV_MC_GET, "ERROR\r\n", RTV_MC_ERROR, 0 },
	};
	struct rtv_mc_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n = strlen(good[i].s);

		assert_int_equal(rtv_mc_parse(good[i].p, good[i].op,
					      (const unsigned char *)good[i].s, n, &r), (ssize_t)n);
		assert_int_equal(r.status, good[i].st);
		assert_int_equal(r.value_len, good[i].vlen);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(rtv_mc_parse(good[i].p, good[i].op,
						      (const unsigned char *)good[i].s, k, &r), 0);
	}
}

static void test_parse_limits(void **state)
{
	static unsigned char buf[RTV_MC_LINE_MAX + 64];
	struct rtv_mc_reply r;
	const char *hdr = "VALUE k 0 1073741824\r\n";

	(void)state;
	/* the longest declared length accepted: a prefix that says how much
	 * is needed */
	assert_int_equal(rtv_mc_parse(RTV_MC_ASCII, RTV_MC_GET, (const unsigned char *)hdr,
				      strlen(hdr), &r), 0);
	assert_int_equal(r.need, strlen(hdr) + 1073741824u + 2 + 5);
	assert_int_equal(r.value_len, 1073741824u);
	assert_int_equal(rtv_mc_parse(RTV_MC_META, RTV_MC_GET,
				      (const unsigned char *)"VA 1073741824 O9\r\nxx", 20, &r), 0);
	assert_int_equal(r.need, 18 + 1073741824u + 2);
	assert_true(r.has_opaque && r.opaque == 9);

	/* an error text without \r\n: a prefix up to RTV_MC_LINE_MAX - 1 bytes,
	 * malformed from RTV_MC_LINE_MAX on */
	memcpy(buf, "SERVER_ERROR ", 13);
	memset(buf + 13, 'x', sizeof(buf) - 13);
	assert_int_equal(rtv_mc_parse(RTV_MC_ASCII, RTV_MC_SET, buf, RTV_MC_LINE_MAX - 1, &r), 0);
	assert_int_equal(rtv_mc_parse(RTV_MC_ASCII, RTV_MC_SET, buf, RTV_MC_LINE_MAX, &r),
			 -EBADMSG);
	assert_int_equal(rtv_mc_parse(RTV_MC_ASCII, RTV_MC_SET, buf, sizeof(buf), &r), -EBADMSG);
	/* a line of exactly RTV_MC_LINE_MAX bytes, \r\n included, is accepted */
	buf[RTV_MC_LINE_MAX - 2] = '\r';
	buf[RTV_MC_LINE_MAX - 1] = '\n';
	assert_int_equal(rtv_mc_parse(RTV_MC_ASCII, RTV_MC_SET, buf, sizeof(buf), &r),
			 RTV_MC_LINE_MAX);
	assert_int_equal(r.status, RTV_MC_SERVER_ERROR);
	/* an empty buffer is a prefix */
	assert_int_equal(rtv_mc_parse(RTV_MC_META, RTV_MC_GET, buf, 0, &r), 0);
}

/* ---- UDP, keys, argv ---- */

static void test_udp(void **state)
{
	unsigned char b[RTV_MC_UDP_HDR];
	struct rtv_mc_udp_hdr h;

	(void)state;
	rtv_mc_udp_put(b, 0xbeef);
	assert_memory_equal(b, "\xbe\xef\x00\x00\x00\x01\x00\x00", RTV_MC_UDP_HDR);
	assert_int_equal(rtv_mc_udp_get(b, sizeof(b), &h), 0);
	assert_int_equal(h.id, 0xbeef);
	assert_int_equal(h.seq, 0);
	assert_int_equal(h.total, 1);
	assert_int_equal(rtv_mc_udp_get(b, sizeof(b) - 1, &h), -EBADMSG);
	assert_int_equal(rtv_mc_udp_get((const unsigned char *)"\0\1\0\2\0\3\0\0", 8, &h), 0);
	assert_int_equal(h.id, 1);
	assert_int_equal(h.seq, 2);
	assert_int_equal(h.total, 3);
	assert_int_equal(rtv_mc_udp_get((const unsigned char *)"\0\1\0\3\0\3\0\0", 8, &h),
			 -EBADMSG);
	assert_int_equal(rtv_mc_udp_get((const unsigned char *)"\0\1\0\0\0\0\0\0", 8, &h),
			 -EBADMSG);
}

static void test_key(void **state)
{
	char b[32];

	(void)state;
	assert_int_equal(rtv_mc_key(42, b, sizeof(b)), RTV_MC_KEY_LEN);
	assert_memory_equal(b, "rtv:0000000042", RTV_MC_KEY_LEN);
	assert_int_equal(rtv_mc_key(0, b, RTV_MC_KEY_LEN), RTV_MC_KEY_LEN);
	assert_memory_equal(b, "rtv:0000000000", RTV_MC_KEY_LEN);
	assert_int_equal(rtv_mc_key(UINT32_MAX, b, sizeof(b)), RTV_MC_KEY_LEN);
	assert_memory_equal(b, "rtv:4294967295", RTV_MC_KEY_LEN);
	assert_int_equal(rtv_mc_key(1234567890, b, sizeof(b)), RTV_MC_KEY_LEN);
	assert_memory_equal(b, "rtv:1234567890", RTV_MC_KEY_LEN);
	assert_int_equal(rtv_mc_key(1, b, RTV_MC_KEY_LEN - 1), 0);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* P(k) for n keys and exponent s */
static void analytic(uint32_t n, double s, double *p)
{
	double sum = 0;

	for (uint32_t i = 0; i < n; i++)
		sum += p[i] = pow(i + 1.0, -s);
	for (uint32_t i = 0; i < n; i++)
		p[i] /= sum;
}

/* Pearson's chi-square of counts against p over ndraws */
static double chi2(const uint64_t *count, const double *p, uint32_t n, uint64_t ndraws)
{
	double x = 0;

	for (uint32_t i = 0; i < n; i++) {
		double e = p[i] * (double)ndraws, d = (double)count[i] - e;

		x += d * d / e;
	}
	return x;
}

/* Draw ndraws keys; returns the chi-square against p and the largest
 * relative error among the top 10 keys in *top_err. */
static double draw_check(uint32_t n, double s, const double *p, uint64_t ndraws,
			 double *top_err)
{
	struct rtv_mc_keys k;
	uint64_t *count = calloc(n, sizeof(*count)), seed = 20261204;
	double x;

	assert_non_null(count);
	assert_int_equal(rtv_mc_keys_init(&k, n, s), 0);
	for (uint64_t d = 0; d < ndraws; d++) {
		uint32_t i = rtv_mc_keys_draw(&k, splitmix64(&seed));

		assert_true(i < n);
		count[i]++;
	}
	*top_err = 0;
	for (uint32_t i = 0; i < n && i < 10; i++) {
		double e = fabs((double)count[i] / (double)ndraws - p[i]) / p[i];

		if (e > *top_err)
			*top_err = e;
	}
	x = chi2(count, p, n, ndraws);
	free(count);
	rtv_mc_keys_free(&k);
	return x;
}

/* With df = n - 1 = 999, chi-square has mean 999 and sd sqrt(2 * 999) =
 * 44.7: 999 + 6 sd = 1267 is passed by a right sampler except once in a
 * billion (and the seed is fixed), while a wrong one (the uniform counts
 * judged against Zipf's, or the other way) gives hundreds of thousands. */
#define NKEYS 1000
#define CHI2_MAX 1267.0

static void test_keys_uniform(void **state)
{
	static double p[NKEYS], zipf[NKEYS];
	double err, x;

	(void)state;
	analytic(NKEYS, 0, p);
	x = draw_check(NKEYS, 0, p, 10000000, &err);
	print_message("uniform: chi2 %.1f (df 999), top-10 max rel err %.4f\n", x, err);
	assert_true(x < CHI2_MAX);
	assert_true(err < 0.05); /* 10000 expected each: sd 1%, 5% is 5 sd */
	/* the test can fail: the same draws judged against Zipf */
	analytic(NKEYS, 0.99, zipf);
	assert_true(draw_check(NKEYS, 0, zipf, 2000000, &err) > 100 * CHI2_MAX);
}

static void test_keys_zipf(void **state)
{
	static double p[NKEYS], uni[NKEYS];
	const double s[] = { 0.5, 0.99, 1.2, 2.0 };
	double err, x;

	(void)state;
	for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++) {
		analytic(NKEYS, s[j], p);
		x = draw_check(NKEYS, s[j], p, 4000000, &err);
		print_message("zipf s=%.2f: P(0) %.4f, chi2 %.1f (df 999), top-10 max rel err %.4f\n",
			      s[j], p[0], x, err);
		assert_true(x < CHI2_MAX);
		/* the 10th key has P >= 0.0051 (s = 0.5): >= 20000 expected,
		 * sd <= 0.7%; 5% is over 7 sd */
		assert_true(err < 0.05);
	}
	analytic(NKEYS, 0, uni);
	assert_true(draw_check(NKEYS, 0.99, uni, 4000000, &err) > 100 * CHI2_MAX);
}

/* The probabilities the alias table encodes, read off the table, against
 * the analytic ones: exact up to the 32-bit thresholds. */
static void test_keys_table(void **state)
{
	static double p[NKEYS], got[NKEYS];
	struct rtv_mc_keys k;

	(void)state;
	analytic(NKEYS, 1.1, p);
	assert_int_equal(rtv_mc_keys_init(&k, NKEYS, 1.1), 0);
	memset(got, 0, sizeof(got));
	for (uint32_t i = 0; i < NKEYS; i++) {
		double t = k.table[i].thresh / 4294967296.0;

		assert_true(k.table[i].alias < NKEYS);
		got[i] += t / NKEYS;
		got[k.table[i].alias] += (1 - t) / NKEYS;
	}
	for (uint32_t i = 0; i < NKEYS; i++)
		assert_true(fabs(got[i] - p[i]) < 1e-9 + 1e-6 * p[i]);
	/* u = 0 gives key 0, u = 2^64 - 1 the last column */
	assert_int_equal(rtv_mc_keys_draw(&k, 0), 0);
	rtv_mc_keys_free(&k);
	rtv_mc_keys_free(&k);
	rtv_mc_keys_free(NULL);

	assert_int_equal(rtv_mc_keys_init(&k, 1, 0.99), 0);
	for (uint64_t u = 0, x = 1; u < 1000; u++)
		assert_int_equal(rtv_mc_keys_draw(&k, splitmix64(&x)), 0);
	rtv_mc_keys_free(&k);
	assert_int_equal(rtv_mc_keys_init(&k, 7, 0), 0);
	assert_null(k.table);
	assert_int_equal(rtv_mc_keys_draw(&k, UINT64_MAX), 6);
	assert_int_equal(rtv_mc_keys_draw(&k, 0), 0);
	assert_int_equal(rtv_mc_keys_draw(&k, UINT64_MAX / 7 + 1), 1);
	rtv_mc_keys_free(&k);
	assert_int_equal(rtv_mc_keys_init(&k, 0, 0), -EINVAL);
	assert_int_equal(rtv_mc_keys_init(&k, 10, -1), -EINVAL);
	assert_int_equal(rtv_mc_keys_init(&k, 10, NAN), -EINVAL);
	assert_int_equal(rtv_mc_keys_init(&k, 10, INFINITY), -EINVAL);
	assert_null(k.table);
}

static void test_server_argv(void **state)
{
	char buf[256], *argv[20];
	int n;

	(void)state;
	n = rtv_mc_server_argv("/usr/bin/memcached", "10.0.0.1", 11311, 4, buf, sizeof(buf), argv,
			       20);
	assert_int_equal(n, geteuid() == 0 ? 15 : 13);
	const char *want[] = { "/usr/bin/memcached", "-l", "10.0.0.1", "-p", "11311", "-U",
			       "11311", "-t", "4", "-m", "64", "-c", "1024", "-u", "root" };
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[n]);
	for (int i = 0; i < n; i++)
		assert_true(argv[i] >= buf && argv[i] < buf + sizeof(buf));
	assert_int_equal(rtv_mc_server_argv("/usr/bin/memcached", "10.0.0.1", 11311, 4, buf, 40,
					    argv, 20), -ENOSPC);
	assert_int_equal(rtv_mc_server_argv("/usr/bin/memcached", "10.0.0.1", 11311, 4, buf,
					    sizeof(buf), argv, n), -ENOSPC);
	assert_int_equal(rtv_mc_server_argv("/usr/bin/memcached", "10.0.0.1", 11311, 4, buf,
					    sizeof(buf), argv, n + 1), n);
	assert_int_equal(rtv_mc_server_argv("", "10.0.0.1", 1, 4, buf, sizeof(buf), argv, 20),
			 -EINVAL);
	assert_int_equal(rtv_mc_server_argv("m", "", 1, 4, buf, sizeof(buf), argv, 20), -EINVAL);
	assert_int_equal(rtv_mc_server_argv("m", "a", 0, 4, buf, sizeof(buf), argv, 20), -EINVAL);
	assert_int_equal(rtv_mc_server_argv("m", "a", 1, 0, buf, sizeof(buf), argv, 20), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_bad_key),
		cmocka_unit_test(test_parse_captures),
		cmocka_unit_test(test_parse_concatenated),
		cmocka_unit_test(test_parse_wrong_op),
		cmocka_unit_test(test_parse_any),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_other_replies),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_keys_uniform),
		cmocka_unit_test(test_keys_zipf),
		cmocka_unit_test(test_keys_table),
		cmocka_unit_test(test_server_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
