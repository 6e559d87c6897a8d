/* Fuzz target for memcached's reply parser (lib/proto/memcached.h).
 *
 * Built with clang -fsanitize=fuzzer,address -DRTV_LIBFUZZER to fuzz for
 * real; built with gcc (the default) it has a main() like fuzz_policy's:
 *   fuzz_mcproto FILE...           replay each file once
 *   fuzz_mcproto --runs N [--seed S]
 *                                  N inputs mutated from built-in seeds
 * Every input goes to rtv_mc_parse() for both protocols and all ops, in a
 * buffer of exactly its size, then again to the UDP header reader. The
 * parser must return -EBADMSG, 0 or a length within the input, and agree
 * with itself on the input's prefixes: a reply of R bytes is 0 on every
 * shorter prefix and R on every longer one, and a prefix found malformed
 * stays malformed however it goes on. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/memcached.h"
#include "driver.h"

static long parsed[2][3]; /* inputs that gave a whole reply, by proto and op */

static void check(int cond, const char *what, enum rtv_mc_proto p, enum rtv_mc_op op,
		  const uint8_t *data, size_t size)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_mcproto: invariant broken: %s (proto %d, op %d); input of %zu bytes:\n",
		what, (int)p, (int)op, size);
	fwrite(data, 1, size, stderr);
	fputc('\n', stderr);
	abort();
}

static void check_one(enum rtv_mc_proto p, enum rtv_mc_op op, const uint8_t *data, size_t size)
{
	struct rtv_mc_reply r, r2;
	ssize_t ret = rtv_mc_parse(p, op, data, size, &r), sub;
	size_t cut[3] = { size / 2, size ? size - 1 : 0, size / 3 };

#define CHECK(cond, what) check((cond), (what), p, op, data, size)
	CHECK(ret == -EBADMSG || (ret >= 0 && (size_t)ret <= size), "return value");
	if (ret > 0) {
		parsed[p][op]++;
		CHECK(r.value_off + r.value_len <= (size_t)ret, "value within the reply");
		CHECK(r.key_off + r.key_len <= (size_t)ret, "key within the reply");
		CHECK(r.key_len <= RTV_MC_KEY_MAX, "key length");
		CHECK(r.value_len <= RTV_MC_VALUE_MAX, "value length");
		if (op == RTV_MC_GET)
			CHECK(r.status == RTV_MC_HIT || r.status == RTV_MC_MISS ||
			      r.status >= RTV_MC_ERROR, "a get's status");
		else if (op == RTV_MC_SET)
			CHECK(r.status == RTV_MC_STORED || r.status == RTV_MC_NOT_STORED ||
			      r.status >= RTV_MC_ERROR, "a set's status");
		CHECK(r.status <= RTV_MC_SERVER_ERROR, "status range");
		CHECK(r.has_opaque ? p == RTV_MC_META : r.opaque == 0, "opaque from meta only");
		CHECK(r.value_len == 0 || r.status == RTV_MC_HIT, "data only on a hit");
		/* the reply alone is the same reply, one byte less is a prefix */
		CHECK(rtv_mc_parse(p, op, data, (size_t)ret, &r2) == ret, "reply alone");
		CHECK(r2.status == r.status && r2.value_len == r.value_len &&
		      r2.opaque == r.opaque, "reply alone, same fields");
		CHECK(rtv_mc_parse(p, op, data, (size_t)ret - 1, &r2) == 0, "one byte short");
		if (op != RTV_MC_ANY) { /* the union of both ops' replies */
			CHECK(rtv_mc_parse(p, RTV_MC_ANY, data, size, &r2) == ret, "ANY takes it");
			CHECK(r2.status == r.status || (p == RTV_MC_META && r.status == RTV_MC_HIT &&
							r.value_len == 0 && r2.status == RTV_MC_STORED),
			      "ANY, same status");
		}
	} else if (ret == 0) {
		CHECK(r.need == 0 || r.need > size, "need beyond the input");
		CHECK(size < RTV_MC_LINE_MAX || r.need, "a full line within RTV_MC_LINE_MAX");
	}
	for (int i = 0; i < 3; i++) {
		sub = rtv_mc_parse(p, op, data, cut[i], &r2);
		if (ret > 0)
			CHECK(cut[i] < (size_t)ret ? sub == 0 : sub == ret, "prefixes of a reply");
		if (sub == -EBADMSG)
			CHECK(ret == -EBADMSG, "malformed stays malformed");
	}
#undef CHECK
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exactly size: overreads show under ASan */
	struct rtv_mc_udp_hdr h;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	for (int p = RTV_MC_ASCII; p <= RTV_MC_META; p++)
		for (int op = RTV_MC_GET; op <= RTV_MC_ANY; op++)
			check_one((enum rtv_mc_proto)p, (enum rtv_mc_op)op, copy, size);
	if (rtv_mc_udp_get(copy, size, &h) == 0) {
		check(size >= RTV_MC_UDP_HDR && h.seq < h.total, "udp header", 0, 0, data, size);
		check_one(RTV_MC_ASCII, RTV_MC_GET, copy + RTV_MC_UDP_HDR, size - RTV_MC_UDP_HDR);
	}
	free(copy);
	return 0;
}

#ifndef RTV_LIBFUZZER
/* Replies of memcached 1.6.18 (tests/unit/data/memcached/), some several in
 * one input. */
static const char *const seeds[] = {
	"VALUE rtv:0000000001 0 15\r\nhello memcached\r\nEND\r\n",
	"END\r\n",
	"STORED\r\n",
	"ERROR\r\n",
	"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
	"SERVER_ERROR object too large for cache\r\n",
	"HD O305419896\r\n",
	"VA 15 O305419896\r\nhello memcached\r\n",
	"EN O4294967295\r\n",
	"VA 15 krtv:0000000004 O7\r\nhello memcached\r\n",
	"VALUE k 0 3 99\r\nabc\r\nEND\r\nEND\r\nVALUE k 0 0\r\n\r\nEND\r\n",
	"VA 2 O1\r\nab\r\nEN O2\r\nHD O3\r\nNS O4\r\n",
	/* a UDP frame header without NULs (seeds are strings): seq 257 of 258 */
	"\x12\x34\x01\x01\x01\x02\x01\x01VALUE rtv:0000000001 0 15\r\nhello memcached\r\nEND\r\n",
};
/* Fragments spliced in: the words and characters the parser branches on. */
static const char *const tokens[] = {
	"\r\n", "\r", "\n", " ", "0", "9", "15", "4294967295", "4294967296", "1073741824",
	"1073741825", "18446744073709551616", "VALUE ", "END", "STORED", "NOT_STORED",
	"EXISTS", "NOT_FOUND", "ERROR", "CLIENT_ERROR ", "SERVER_ERROR ", "VA ", "EN", "HD",
	"NS", "EX", "NF", " O", " k", " b", "\x7f", "\t",
};

static const char *counts(void)
{
	static char buf[192];

	snprintf(buf, sizeof(buf),
		 " (whole replies: ascii get %ld set %ld any %ld, meta get %ld set %ld any %ld)",
		 parsed[0][0], parsed[0][1], parsed[0][2], parsed[1][0], parsed[1][1], parsed[1][2]);
	return buf;
}

static const struct rtv_fuzz_target target = {
	.name = "fuzz_mcproto",
	.seeds = seeds,
	.nseeds = RTV_FUZZ_N(seeds),
	.unchanged = RTV_FUZZ_N(seeds),
	.tokens = tokens,
	.ntokens = RTV_FUZZ_N(tokens),
	.cap = 2048,
	.counts = counts,
};

int main(int argc, char **argv)
{
	return rtv_fuzz_main(&target, argc, argv);
}
#endif
