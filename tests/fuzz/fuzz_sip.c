/* Fuzz target for the SIP parser (lib/proto/sip.h: rtv_sip_parse, and
 * rtv_sip_call_id and rtv_sip_response on what it accepts).
 *
 * Built with clang -fsanitize=fuzzer,address -DRTV_LIBFUZZER to fuzz for
 * real; built with gcc (the default) it has a main() like the others:
 *   fuzz_sip FILE...               replay each file once
 *   fuzz_sip --runs N [--seed S]   N inputs mutated from built-in seeds
 * Each input is parsed from a buffer of exactly its size (so that a read
 * past it is caught under ASan). On success every pointer must lie within
 * the input and the figures agree (below); anything else aborts. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sip.h"
#include "driver.h"

static long parsed, requests, ours; /* inputs accepted, of them requests, with our Call-ID */

static void check(int cond, const char *what, const uint8_t *data, size_t size)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_sip: invariant broken: %s; input:\n%.*s\n", what, (int)size,
		(const char *)data);
	abort();
}

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[2 * RTV_SIP_MAX_DATAGRAM];
	char *buf = malloc(size ? size : 1);
	struct rtv_sip_msg m, r;
	uint64_t tag, seq;
	int ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = rtv_sip_parse(buf, size, &m);
	check(ret == 0 || ret == -EBADMSG, "return value", data, size);
	if (ret) {
		free(buf);
		return 0;
	}
	parsed++;
	check(m.header_len <= size && m.len == m.header_len + m.content_length && m.len <= size,
	      "lengths", data, size);
	check(m.body == buf + m.header_len, "body after the headers", data, size);
	check(inside(m.call_id, m.call_id_len, buf, size) && m.call_id_len > 0, "Call-ID", data,
	      size);
	check(inside(m.method, m.method_len, buf, size) && m.method_len > 0, "method", data, size);
	check(inside(m.cseq_method, m.cseq_method_len, buf, size), "CSeq method", data, size);
	check(m.nvia >= 1 && m.nvia <= RTV_SIP_MAX_VIA, "Via count", data, size);
	for (size_t i = 0; i < m.nvia; i++)
		check(inside(m.via[i].p, m.via[i].len, buf, size), "Via", data, size);
	check(inside(m.from.p, m.from.len, buf, size) && inside(m.to.p, m.to.len, buf, size),
	      "From/To", data, size);
	check(!m.from_tag.p || inside(m.from_tag.p, m.from_tag.len, m.from.p, m.from.len),
	      "From tag in From", data, size);
	check(!m.to_tag.p || inside(m.to_tag.p, m.to_tag.len, m.to.p, m.to.len), "To tag in To",
	      data, size);
	check(m.max_forwards >= -1 && m.max_forwards <= 255, "Max-Forwards", data, size);
	check(m.is_request ? m.status == 0 : (m.status >= 100 && m.status <= 699), "status", data,
	      size);
	if (!rtv_sip_call_id(&m, &tag, &seq))
		ours++;
	if (m.is_request) {
		ssize_t n = rtv_sip_response(&m, 200, "OK", 1, out, sizeof(out));

		requests++;
		check(n > 0, "a response to every request", data, size);
		/* and the response parses back with the same Vias, Call-ID and CSeq */
		check(rtv_sip_parse(out, (size_t)n, &r) == 0, "the response parses", data, size);
		check(r.nvia == m.nvia && r.cseq == m.cseq && r.call_id_len == m.call_id_len &&
		      !memcmp(r.call_id, m.call_id, m.call_id_len) && r.status == 200,
		      "the response's fields", data, size);
		check(r.to_tag.p != NULL, "the response's To tag", data, size);
	}
	free(buf);
	return 0;
}

#ifndef RTV_LIBFUZZER
/* Messages as captured through Kamailio 5.6.3 (tests/unit/data/sip/), and
 * forms the parser branches on. */
static const char *const seeds[] = {
	"OPTIONS sip:uas@127.0.0.1:25070 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:25060;branch=z9hG4bK8e8f.2bd7a9e17e74bdbb63cca694b7c004cb.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:25080;branch=z9hG4bK0123456789abcdef.0.1\r\n"
	"Max-Forwards: 69\r\n"
	"From: <sip:rtv@rtvnet>;tag=0123456789abcdef\r\n"
	"To: <sip:uas@127.0.0.1:25070>\r\n"
	"Call-ID: 0123456789abcdef-0@rtvnet\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Content-Length: 0\r\n\r\n",
	"SIP/2.0 483 Too Many Hops\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:25081;branch=z9hG4bK0123456789abcdef.0.1\r\n"
	"From: <sip:rtv@rtvnet>;tag=0123456789abcdef\r\n"
	"To: <sip:uas@127.0.0.1:25070>;tag=5497176f96ac98204aead303f19a0d17.21e1f8f7\r\n"
	"Call-ID: 0123456789abcdef-0@rtvnet\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Server: kamailio (5.6.3 (x86_64/linux))\r\n"
	"Content-Length: 0\r\n\r\n",
	"INVITE sip:uas@h SIP/2.0\n"
	"v: SIP/2.0/UDP a:1;branch=z9hG4bK1,\n"
	"  SIP/2.0/UDP b:2;branch=z9hG4bK2\n"
	"f: \"A; tag=x\" <sip:a@h>;TAG=ff\n"
	"t:<sip:b@h>\n"
	"i: abc@def\n"
	"cseq:   7    INVITE\n"
	"l: 4\n\nbodyEXTRA",
};
static const char *const tokens[] = {
	"\r\n", "\n", " ", "\t", ":", ";", "<", ">", "\"", "\\", ",", "=", "0", "9", "255", "256",
	"4294967296", "SIP/2.0", "SIP/2.0 ", "200 OK", "Via: ", "v:", "Call-ID: ", "i:", "CSeq: ",
	"From: ", "f:", "To: ", "t:", "Max-Forwards: ", "Content-Length: ", "l:", ";tag=",
	"OPTIONS", "ACK", "\r\n\r\n", "-0@rtvnet", "ffffffffffffffff-18446744073709551615@rtvnet",
};

static const char *counts(void)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), " (%ld parsed, %ld requests, %ld with our Call-ID)", parsed,
		 requests, ours);
	return buf;
}

static const struct rtv_fuzz_target target = {
	.name = "fuzz_sip",
	.seeds = seeds,
	.nseeds = RTV_FUZZ_N(seeds),
	.unchanged = 3,
	.tokens = tokens,
	.ntokens = RTV_FUZZ_N(tokens),
	.cap = 4096,
	.counts = counts,
};

int main(int argc, char **argv)
{
	return rtv_fuzz_main(&target, argc, argv);
}
#endif
