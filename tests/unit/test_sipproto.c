/* Unit tests for lib/proto/sip: the client's encoder, the parser, the UAS
 * (on loopback sockets) and the Kamailio/SIPp files and command lines.
 *
 * The messages in data/sip/ are real, captured with tests/integration/
 * sip_tool.c in a throwaway network namespace (unshare -n, lo up) through
 * Debian 12's Kamailio 5.6.3 run with rtv_sip_kamailio_cfg() (listen
 * 127.0.0.1:25060, UAS 127.0.0.1:25070, 2 children) and
 * rtv_sip_kamailio_argv():
 *   proxied-options.bin   sip_tool's OPTIONS (tag 0123456789abcdef, seq 0,
 *                         from 127.0.0.1:25080) as Kamailio forwarded it to
 *                         the UAS: its Via first, Max-Forwards 69
 *   uas-200.bin           sip_tool capture's answer to it (To tag
 *                         fedcba9876543210): rtv_sip_response()
 *   reply-200.bin         that answer as it came back to the client
 *   reply-483.bin         Kamailio's own answer to Max-Forwards: 0
 *   proxied-options-no-maxfwd.bin  a request without Max-Forwards as
 *                         forwarded: Kamailio added "Max-Forwards: 70" first
 *   proxied-sipp-options.bin  SIPp's OPTIONS (rtv_sip_sipp_scenario(), one
 *                         call from 127.0.0.1:25090) as forwarded: another
 *                         UAC's Call-ID
 * data/sipp/ holds SIPp 3.6.1's rtt file of 50 OPTIONS through the same
 * proxy (sip_tool sippargv ... 100 50, scenario rtv_options.xml beside it):
 * 44 lines of 0 ms, 5 of 4, 1 of 12 (SIPp's CLOCK_MONOTONIC_COARSE ticks
 * by 4 ms here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/sip.h"
#include "util/stop.h"

#ifndef RTV_TEST_DATA_DIR
#error "RTV_TEST_DATA_DIR: tests/unit/meson.build passes it"
#endif

#define KAMAILIO "/usr/sbin/kamailio"

/* A data file into a buffer of exactly its size (so that ASan sees any read
 * past it); *len its size. Free it. */
static char *load(const char *dir, const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s/%s", RTV_TEST_DATA_DIR, dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool str_is(struct rtv_sip_str s, const char *want)
{
	return s.p && s.len == strlen(want) && !memcmp(s.p, want, s.len);
}

static bool mem_is(const char *p, size_t len, const char *want)
{
	return p && len == strlen(want) && !memcmp(p, want, len);
}

static const struct rtv_sip_req base_req = {
	.method = "OPTIONS",
	.ruri = "sip:uas@198.19.0.2:5070",
	.via_host = "198.19.0.1",
	.via_port = 5071,
	.from_uri = "sip:rtv@198.19.0.1",
	.to_uri = "sip:uas@198.19.0.2",
	.tag = 0x00a1b2c3d4e5f607ull,
	.seq = 42,
	.cseq = 43,
	.max_forwards = 70,
};

static void test_encode_exact(void **state)
{
	static const char want[] =
		"OPTIONS sip:uas@198.19.0.2:5070 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.19.0.1:5071;branch=z9hG4bK00a1b2c3d4e5f607.42.43\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:rtv@198.19.0.1>;tag=00a1b2c3d4e5f607\r\n"
		"To: <sip:uas@198.19.0.2>\r\n"
		"Call-ID: 00a1b2c3d4e5f607-42@rtvnet\r\n"
		"CSeq: 43 OPTIONS\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	char buf[RTV_SIP_REQ_MAX];
	ssize_t n = rtv_sip_encode(&base_req, buf, sizeof(buf));

	(void)state;
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, sizeof(want) - 1);
	/* every smaller buffer: -ENOSPC, never a write past it */
	for (size_t cap = 0; cap < sizeof(want) - 1; cap++) {
		char *small = malloc(cap ? cap : 1);

		assert_int_equal(rtv_sip_encode(&base_req, small, cap), -ENOSPC);
		free(small);
	}
	assert_int_equal(rtv_sip_encode(&base_req, buf, sizeof(want) - 1), sizeof(want) - 1);
}

/* A call's ACK and BYE carry the 2xx's To tag; the ACK's branch differs
 * from the INVITE's. */
static void test_encode_dialog(void **state)
{
	struct rtv_sip_req r = {
		.method = "ACK", .ruri = "sip:uas@198.19.0.2:5070", .via_host = "198.18.0.1",
		.via_port = 5060, .from_uri = "sip:rtv@198.18.0.1", .to_uri = "sip:uas@198.19.0.2",
		.tag = 0xabcdefULL, .seq = 12, .cseq = 1, .max_forwards = 70,
		.to_tag = { "5a5a", 4 },
	};
	char buf[1024], inv[1024];
	struct rtv_sip_msg m;
	ssize_t n, ni;

	(void)state;
	n = rtv_sip_encode(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(rtv_sip_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.to_tag.len, 4);
	assert_memory_equal(m.to_tag.p, "5a5a", 4);
	assert_non_null(memmem(buf, (size_t)n, "To: <sip:uas@198.19.0.2>;tag=5a5a\r\n", 35));
	r.method = "INVITE";
	r.to_tag = (struct rtv_sip_str){ 0 };
	ni = rtv_sip_encode(&r, inv, sizeof(inv));
	assert_true(ni > 0);
	assert_null(memmem(inv, (size_t)ni, ";tag=5a5a", 9));
	assert_non_null(memmem(buf, (size_t)n, ".12.1a\r\n", 8)); /* the ACK's own branch */
	assert_null(memmem(inv, (size_t)ni, ".12.1a", 6));
}

static void test_encode_roundtrip(void **state)
{
	static const char *const methods[] = { "OPTIONS", "INVITE", "ACK", "BYE" };
	static const uint64_t tags[] = { 0, 1, 0xffffffffffffffffull, 0x8000000000000000ull };
	static const uint64_t seqs[] = { 0, 9, 10, 1234567, UINT64_MAX };
	char buf[RTV_SIP_REQ_MAX], branch[3][128];
	struct rtv_sip_msg m;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		for (size_t t = 0; t < 4; t++)
			for (size_t s = 0; s < 5; s++) {
				struct rtv_sip_req r = base_req;
				uint64_t tag = 1, seq = 1;
				ssize_t n;

				r.method = methods[i];
				r.tag = tags[t];
				r.seq = seqs[s];
				r.cseq = (uint32_t)(s * 1000000000u);
				r.max_forwards = (int)(s * 60) - 1; /* -1 (absent) .. 239 */
				n = rtv_sip_encode(&r, buf, sizeof(buf));
				assert_true(n > 0);
				assert_int_equal(rtv_sip_parse(buf, (size_t)n, &m), 0);
				assert_true(m.is_request);
				assert_int_equal(m.len, n);
				assert_int_equal(m.content_length, 0);
				assert_true(mem_is(m.method, m.method_len, methods[i]));
				assert_true(mem_is(m.cseq_method, m.cseq_method_len, methods[i]));
				assert_int_equal(m.cseq, r.cseq);
				assert_int_equal(m.max_forwards, r.max_forwards);
				assert_true(str_is(m.ruri, r.ruri));
				assert_int_equal(m.nvia, 1);
				assert_null(m.to_tag.p);
				assert_int_equal(m.from_tag.len, 16);
				assert_int_equal(rtv_sip_call_id(&m, &tag, &seq), 0);
				assert_true(tag == r.tag);
				assert_true(seq == r.seq);
			}
	/* INVITE, its ACK and the BYE of one call: three branches */
	for (int i = 0; i < 3; i++) {
		struct rtv_sip_req r = base_req;
		const char *b;

		r.method = i == 0 ? "INVITE" : i == 1 ? "ACK" : "BYE";
		r.cseq = i == 2 ? 2 : 1;
		assert_true(rtv_sip_encode(&r, buf, sizeof(buf)) > 0);
		b = strstr(buf, "branch=");
		assert_non_null(b);
		snprintf(branch[i], sizeof(branch[i]), "%.*s", (int)strcspn(b, "\r"), b);
		assert_non_null(strstr(branch[i], "z9hG4bK"));
	}
	assert_string_not_equal(branch[0], branch[1]);
	assert_string_not_equal(branch[0], branch[2]);
	assert_string_not_equal(branch[1], branch[2]);
	{
		struct rtv_sip_req r = base_req;

		r.ruri = NULL;
		assert_int_equal(rtv_sip_encode(&r, buf, sizeof(buf)), -EINVAL);
	}
}

static void test_captured(void **state)
{
	struct rtv_sip_msg m;
	uint64_t tag, seq;
	size_t len;
	char *buf;

	(void)state;
	buf = load("sip", "proxied-options.bin", &len);
	assert_int_equal(rtv_sip_parse(buf, len, &m), 0);
	assert_true(m.is_request);
	assert_int_equal(m.len, len);
	assert_true(mem_is(m.method, m.method_len, "OPTIONS"));
	assert_true(str_is(m.ruri, "sip:uas@127.0.0.1:25070"));
	assert_int_equal(m.nvia, 2);
	assert_true(str_is(m.via[0], "SIP/2.0/UDP 127.0.0.1:25060;"
				     "branch=z9hG4bK8e8f.2bd7a9e17e74bdbb63cca694b7c004cb.0"));
	assert_true(str_is(m.via[1], "SIP/2.0/UDP 127.0.0.1:25080;branch=z9hG4bK0123456789abcdef.0.1"));
	assert_int_equal(m.max_forwards, 69);
	assert_int_equal(m.cseq, 1);
	assert_true(str_is(m.from_tag, "0123456789abcdef"));
	assert_null(m.to_tag.p);
	assert_int_equal(rtv_sip_call_id(&m, &tag, &seq), 0);
	assert_true(tag == 0x0123456789abcdefull);
	assert_true(seq == 0);
	free(buf);

	buf = load("sip", "proxied-options-no-maxfwd.bin", &len);
	assert_int_equal(rtv_sip_parse(buf, len, &m), 0);
	assert_int_equal(m.max_forwards, 70); /* added by Kamailio */
	assert_int_equal(m.nvia, 2);
	free(buf);

	buf = load("sip", "proxied-sipp-options.bin", &len);
	assert_int_equal(rtv_sip_parse(buf, len, &m), 0);
	assert_int_equal(m.nvia, 2);
	assert_true(str_is(m.via[1], "SIP/2.0/UDP 127.0.0.1:25090;branch=z9hG4bK-18615-1-0"));
	assert_true(mem_is(m.call_id, m.call_id_len, "1-18615@127.0.0.1"));
	assert_true(str_is(m.from_tag, "18615SIPpTag1"));
	assert_int_equal(rtv_sip_call_id(&m, &tag, &seq), -EBADMSG); /* not ours */
	free(buf);

	buf = load("sip", "reply-200.bin", &len);
	assert_int_equal(rtv_sip_parse(buf, len, &m), 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	assert_true(str_is(m.reason, "OK"));
	assert_true(mem_is(m.method, m.method_len, "OPTIONS"));
	assert_int_equal(m.nvia, 1); /* Kamailio's own removed */
	assert_true(str_is(m.to_tag, "fedcba9876543210"));
	assert_int_equal(m.max_forwards, -1);
	assert_int_equal(rtv_sip_call_id(&m, &tag, &seq), 0);
	assert_true(tag == 0x0123456789abcdefull && seq == 0);
	free(buf);

	buf = load("sip", "reply-483.bin", &len);
	assert_int_equal(rtv_sip_parse(buf, len, &m), 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 483);
	assert_true(str_is(m.reason, "Too Many Hops"));
	assert_int_equal(m.nvia, 1);
	assert_true(str_is(m.to_tag, "5497176f96ac98204aead303f19a0d17.21e1f8f7"));
	assert_int_equal(rtv_sip_call_id(&m, &tag, &seq), 0);
	assert_true(tag == 0x0123456789abcdefull && seq == 0);
	free(buf);
}

static void test_response_of_captured(void **state)
{
	char out[2048], small[512];
	struct rtv_sip_msg m, r;
	size_t len, wlen;
	char *buf = load("sip", "proxied-options.bin", &len);
	char *want = load("sip", "uas-200.bin", &wlen);
	ssize_t n;

	(void)state;
	assert_int_equal(rtv_sip_parse(buf, len, &m), 0);
	n = rtv_sip_response(&m, 200, "OK", 0xfedcba9876543210ull, out, sizeof(out));
	assert_int_equal(n, wlen);
	assert_memory_equal(out, want, wlen);
	assert_int_equal(rtv_sip_parse(out, (size_t)n, &r), 0);
	assert_int_equal(r.nvia, 2);
	assert_true(str_is(r.via[0], "SIP/2.0/UDP 127.0.0.1:25060;"
				     "branch=z9hG4bK8e8f.2bd7a9e17e74bdbb63cca694b7c004cb.0"));
	assert_true(str_is(r.via[1], "SIP/2.0/UDP 127.0.0.1:25080;branch=z9hG4bK0123456789abcdef.0.1"));
	assert_true(str_is(r.to_tag, "fedcba9876543210"));
	for (size_t cap = 0; cap < (size_t)n && cap < sizeof(small); cap++)
		assert_int_equal(rtv_sip_response(&m, 200, "OK", 1, small, cap), -ENOSPC);
	assert_int_equal(rtv_sip_response(&m, 99, "OK", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(rtv_sip_response(&m, 200, "O\r\nK", 1, out, sizeof(out)), -EINVAL);
	/* a To that has a tag keeps it, and no other is added */
	{
		static const char req[] = "BYE sip:uas@x SIP/2.0\r\nVia: SIP/2.0/UDP a:1;branch=z9hG4bKx\r\n"
					  "From: <sip:a@x>;tag=1\r\nTo: \"B<>\" <sip:b@x;tag=no>;tag=2\r\n"
					  "Call-ID: c\r\nCSeq: 2 BYE\r\n\r\n";

		assert_int_equal(rtv_sip_parse(req, sizeof(req) - 1, &m), 0);
		assert_true(str_is(m.to_tag, "2")); /* not the URI's parameter */
		n = rtv_sip_response(&m, 200, "OK", 7, out, sizeof(out));
		assert_true(n > 0);
		out[n] = '\0';
		assert_non_null(strstr(out, "\r\nTo: \"B<>\" <sip:b@x;tag=no>;tag=2\r\n"));
		assert_null(strstr(out, "0000000000000007"));
	}
	/* not for a response */
	assert_int_equal(rtv_sip_parse(want, wlen, &r), 0);
	assert_int_equal(rtv_sip_response(&r, 200, "OK", 1, out, sizeof(out)), -EINVAL);
	free(buf);
	free(want);
}

/* Every prefix of a captured message (in a buffer of exactly that size):
 * -EBADMSG, or a parse of the whole message. */
static void test_truncations(void **state)
{
	static const char *const files[] = { "proxied-options.bin", "proxied-options-no-maxfwd.bin",
					     "uas-200.bin", "reply-200.bin", "reply-483.bin",
					     "proxied-sipp-options.bin" };

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct rtv_sip_msg m;
		size_t len;
		char *buf = load("sip", files[f], &len);

		for (size_t n = 0; n <= len; n++) {
			char *cut = malloc(n ? n : 1);
			int ret;

			memcpy(cut, buf, n);
			ret = rtv_sip_parse(cut, n, &m);
			if (n < len) {
				assert_int_equal(ret, -EBADMSG);
			} else {
				assert_int_equal(ret, 0);
				assert_int_equal(m.len, len);
			}
			free(cut);
		}
		free(buf);
	}
}

static void test_compact_and_forms(void **state)
{
	/* compact names, odd case, LF line ends, a folded Via, whitespace */
	static const char msg[] =
		"INVITE sip:uas@h SIP/2.0\n"
		"v: SIP/2.0/UDP a:1;branch=z9hG4bK1,\n"
		"  SIP/2.0/UDP b:2;branch=z9hG4bK2\n"
		"VIA  :SIP/2.0/UDP c:3;branch=z9hG4bK3\n"
		"f: \"A; tag=x\" <sip:a@h>;TAG=ff\n"
		"t:<sip:b@h>\n"
		"i: abc@def\n"
		"cseq:   7    INVITE\n"
		"max-FORWARDS: 5\n"
		"X-Other: whatever: it is\n"
		"l: 4\n"
		"\n"
		"bodyEXTRA";
	struct rtv_sip_msg m;

	(void)state;
	assert_int_equal(rtv_sip_parse(msg, sizeof(msg) - 1, &m), 0);
	assert_true(m.is_request);
	assert_int_equal(m.nvia, 2);
	assert_true(str_is(m.via[0], "SIP/2.0/UDP a:1;branch=z9hG4bK1,\n  SIP/2.0/UDP b:2;branch=z9hG4bK2"));
	assert_true(str_is(m.via[1], "SIP/2.0/UDP c:3;branch=z9hG4bK3"));
	assert_true(str_is(m.from_tag, "ff"));
	assert_null(m.to_tag.p);
	assert_true(mem_is(m.call_id, m.call_id_len, "abc@def"));
	assert_int_equal(m.cseq, 7);
	assert_int_equal(m.max_forwards, 5);
	assert_int_equal(m.content_length, 4);
	assert_memory_equal(m.body, "body", 4);
	assert_int_equal(m.len, sizeof(msg) - 1 - 5); /* EXTRA is not the message's */
	assert_int_equal(rtv_sip_call_id(&m, NULL, NULL), -EBADMSG);

	/* no Content-Length: the body is the rest of the datagram */
	{
		static const char r[] = "SIP/2.0 180 \r\nVia: x\r\nFrom: a\r\nTo: b\r\ni: c\r\n"
					"CSeq: 1 INVITE\r\n\r\nxyz";

		assert_int_equal(rtv_sip_parse(r, sizeof(r) - 1, &m), 0);
		assert_int_equal(m.status, 180);
		assert_int_equal(m.reason.len, 0);
		assert_int_equal(m.content_length, 3);
		assert_true(mem_is(m.method, m.method_len, "INVITE"));
	}
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\n", /* no end of headers */
		"OPTIONS sip:a SIP/3.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS  SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPT(ONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPT(ONS\r\n\r\n",
		"SIP/2.0 99 Low\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"SIP/2.0 700 High\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"SIP/2.0 2000 OK\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		/* each required header missing */
		"OPTIONS sip:a SIP/2.0\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\n\r\n",
		/* given twice, bad forms */
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\ni: d\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c d\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 BYE\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 4294967296 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: -1\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nl: 1\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nl: 0\r\nl: 0\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nNoColon\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\n folded start\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: <sip:a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: \"b <sip:b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:a SIP/2.0\r\nVia:\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
	};
	struct rtv_sip_msg m;
	char many[4096];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rtv_sip_parse(bad[i], strlen(bad[i]), &m) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
	}
	/* RTV_SIP_MAX_VIA Via lines are fine, one more is not */
	for (int extra = 0; extra < 2; extra++) {
		n = (size_t)snprintf(many, sizeof(many), "OPTIONS sip:a SIP/2.0\r\n");
		for (int i = 0; i < RTV_SIP_MAX_VIA + extra; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n, "Via: SIP/2.0/UDP h%d:1\r\n", i);
		n += (size_t)snprintf(many + n, sizeof(many) - n,
				      "From: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n");
		assert_int_equal(rtv_sip_parse(many, n, &m), extra ? -EBADMSG : 0);
	}
	assert_int_equal(m.nvia, RTV_SIP_MAX_VIA);
}

static void test_call_id_foreign(void **state)
{
	static const char *const foreign[] = {
		"1-6411@127.0.0.1",                 /* SIPp's */
		"0123456789ABCDEF-0@rtvnet",        /* upper case: not what we write */
		"0123456789abcdef-01@rtvnet",       /* leading zero */
		"0123456789abcdef-@rtvnet",
		"0123456789abcdef0@rtvnet",
		"0123456789abcde-0@rtvnet",
		"0123456789abcdef-0@rtvnetx",
		"0123456789abcdef-0@rtvne",
		"0123456789abcdef-18446744073709551616@rtvnet", /* 2^64 */
		"0123456789abcdef-1x@rtvnet",
	};
	struct rtv_sip_msg m;
	uint64_t tag = 7, seq = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.call_id = foreign[i];
		m.call_id_len = strlen(foreign[i]);
		if (rtv_sip_call_id(&m, &tag, &seq) != -EBADMSG)
			fail_msg("accepted: %s", foreign[i]);
	}
	assert_true(tag == 7 && seq == 7); /* untouched */
	m.call_id = "ffffffffffffffff-18446744073709551615@rtvnet";
	m.call_id_len = strlen(m.call_id);
	assert_int_equal(rtv_sip_call_id(&m, &tag, &seq), 0);
	assert_true(tag == UINT64_MAX && seq == UINT64_MAX);
}

/* ---- the UAS on loopback ---- */

struct uas {
	int fd;
	volatile sig_atomic_t stop;
	struct rtv_sip_uas_stats st;
	int ret;
	pthread_t th;
};

static void *uas_main(void *arg)
{
	struct uas *u = arg;

	u->ret = rtv_sip_uas_serve(u->fd, &u->stop, &u->st);
	return NULL;
}

static int udp_bound(struct sockaddr_in *sa)
{
	socklen_t l = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	*sa = (struct sockaddr_in){ .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &sa->sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &l), 0);
	return fd;
}

/* Send one datagram; the reply parsed into m from buf, or -EAGAIN after 300 ms. */
static int exchange(int fd, const struct sockaddr_in *to, const char *msg, size_t len, char *buf,
		    size_t cap, struct rtv_sip_msg *m)
{
	ssize_t n;

	assert_int_equal(sendto(fd, msg, len, 0, (const struct sockaddr *)to, sizeof(*to)), len);
	n = recv(fd, buf, cap, 0);
	if (n < 0)
		return -EAGAIN;
	assert_int_equal(rtv_sip_parse(buf, (size_t)n, m), 0);
	buf[n < (ssize_t)cap ? n : (ssize_t)cap - 1] = '\0';
	return 0;
}

static void test_uas(void **state)
{
	struct timeval tv = { 0, 300000 };
	struct sockaddr_in ua, ca;
	struct uas u = { 0 };
	struct rtv_sip_req r = base_req;
	struct rtv_sip_msg m;
	char req[RTV_SIP_REQ_MAX], buf[4096], to_tag[64];
	int cfd;
	ssize_t n;

	(void)state;
	u.fd = udp_bound(&ua);
	cfd = udp_bound(&ca);
	assert_int_equal(setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(pthread_create(&u.th, NULL, uas_main, &u), 0);

	/* OPTIONS: 200, our Call-ID back */
	n = rtv_sip_encode(&r, req, sizeof(req));
	assert_int_equal(exchange(cfd, &ua, req, (size_t)n, buf, sizeof(buf), &m), 0);
	assert_int_equal(m.status, 200);
	assert_true(mem_is(m.method, m.method_len, "OPTIONS"));
	assert_non_null(m.to_tag.p);
	{
		uint64_t tag, seq;

		assert_int_equal(rtv_sip_call_id(&m, &tag, &seq), 0);
		assert_true(tag == r.tag && seq == r.seq);
	}
	/* INVITE: 200 with a Contact, a To tag the BYE will carry */
	r.method = "INVITE";
	r.seq = 1;
	r.cseq = 1;
	n = rtv_sip_encode(&r, req, sizeof(req));
	assert_int_equal(exchange(cfd, &ua, req, (size_t)n, buf, sizeof(buf), &m), 0);
	assert_int_equal(m.status, 200);
	assert_non_null(strstr(buf, "\r\nContact: <sip:uas@198.19.0.2:5070>\r\n"));
	snprintf(to_tag, sizeof(to_tag), "%.*s", (int)m.to_tag.len, m.to_tag.p);
	/* ACK: nothing */
	r.method = "ACK";
	n = rtv_sip_encode(&r, req, sizeof(req));
	assert_int_equal(exchange(cfd, &ua, req, (size_t)n, buf, sizeof(buf), &m), -EAGAIN);
	/* the same dialog's INVITE again: the same To tag */
	r.method = "INVITE";
	n = rtv_sip_encode(&r, req, sizeof(req));
	assert_int_equal(exchange(cfd, &ua, req, (size_t)n, buf, sizeof(buf), &m), 0);
	assert_true(str_is(m.to_tag, to_tag));
	/* BYE: 200 */
	r.method = "BYE";
	r.cseq = 2;
	n = rtv_sip_encode(&r, req, sizeof(req));
	assert_int_equal(exchange(cfd, &ua, req, (size_t)n, buf, sizeof(buf), &m), 0);
	assert_int_equal(m.status, 200);
	assert_true(mem_is(m.method, m.method_len, "BYE"));
	/* MESSAGE: 405 with Allow */
	r.method = "MESSAGE";
	n = rtv_sip_encode(&r, req, sizeof(req));
	assert_int_equal(exchange(cfd, &ua, req, (size_t)n, buf, sizeof(buf), &m), 0);
	assert_int_equal(m.status, 405);
	assert_non_null(strstr(buf, "\r\nAllow: OPTIONS, INVITE, ACK, BYE\r\n"));
	/* garbage and a response: dropped */
	assert_int_equal(exchange(cfd, &ua, "hello", 5, buf, sizeof(buf), &m), -EAGAIN);
	{
		size_t len;
		char *resp = load("sip", "reply-200.bin", &len);

		assert_int_equal(exchange(cfd, &ua, resp, len, buf, sizeof(buf), &m), -EAGAIN);
		free(resp);
	}
	rtv_stop_set(&u.stop);
	assert_int_equal(pthread_join(u.th, NULL), 0);
	assert_int_equal(u.ret, 0);
	assert_int_equal(u.st.requests, 6);
	assert_int_equal(u.st.answered, 5);
	assert_int_equal(u.st.malformed, 1);
	close(u.fd);
	close(cfd);
}

/* ---- Kamailio ---- */

static char *cfg_text(const char *addr, uint16_t port, const char *uas, uint16_t uport, int ch,
		      int *ret)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	*ret = rtv_sip_kamailio_cfg(f, addr, port, uas, uport, ch);
	fclose(f);
	return text;
}

/* kamailio -c -f path (only reads: checked with strace, it creates
 * nothing); its exit status, -1 when it could not be run. */
static int kamailio_check(const char *path)
{
	char cmd[600];
	int st;

	snprintf(cmd, sizeof(cmd), "%s -c -f %s >/dev/null 2>&1", KAMAILIO, path);
	st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static void test_kamailio_cfg(void **state)
{
	char path[] = "/tmp/rtv-sipproto-XXXXXX";
	char *text;
	int ret, fd;

	(void)state;
	text = cfg_text("127.0.0.1", 25060, "127.0.0.2", 25070, 4, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(text, "#!KAMAILIO\n"));
	assert_non_null(strstr(text, "\nlisten=udp:127.0.0.1:25060\n"));
	assert_non_null(strstr(text, "\nchildren=4\n"));
	assert_non_null(strstr(text, "\ndisable_tcp=yes\n"));
	assert_non_null(strstr(text, "\nloadmodule \"sl.so\"\n"));
	assert_non_null(strstr(text, "\nloadmodule \"maxfwd.so\"\n"));
	assert_non_null(strstr(text, "if (!mf_process_maxfwd_header(\"70\")) {"));
	assert_non_null(strstr(text, "sl_send_reply(\"483\", \"Too Many Hops\");"));
	assert_non_null(strstr(text, "\tforward(\"127.0.0.2\", 25070);\n"));
	assert_null(strstr(text, "tm.so"));
	assert_null(strstr(text, "ctl.so"));
	assert_null(strstr(text, "jsonrpcs.so"));
	free(text);
	text = cfg_text("::1", 5060, "fd00::2", 5070, 1, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(text, "\nlisten=udp:[::1]:5060\n"));
	assert_non_null(strstr(text, "\tforward(\"[fd00::2]\", 5070);\n"));
	free(text);
	free(cfg_text("localhost", 5060, "127.0.0.1", 5070, 1, &ret));
	assert_int_equal(ret, -EINVAL);
	free(cfg_text("127.0.0.1", 0, "127.0.0.1", 5070, 1, &ret));
	assert_int_equal(ret, -EINVAL);
	free(cfg_text("127.0.0.1", 5060, "127.0.0.1", 5070, 0, &ret));
	assert_int_equal(ret, -EINVAL);

	/* Kamailio's own check of the file, and of a broken one (so that the
	 * check is seen to be able to fail) */
	if (access(KAMAILIO, X_OK)) {
		fprintf(stderr, "test_sipproto: no %s: configuration check skipped\n", KAMAILIO);
		return;
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	{
		FILE *f = fdopen(fd, "w");

		assert_non_null(f);
		assert_int_equal(rtv_sip_kamailio_cfg(f, "127.0.0.1", 25060, "127.0.0.1", 25070, 2), 0);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(kamailio_check(path), 0);
	{
		FILE *f = fopen(path, "a");

		assert_non_null(f);
		fputs("no_such_core_parameter=1\n", f);
		assert_int_equal(fclose(f), 0);
	}
	ret = kamailio_check(path);
	assert_true(ret > 0);
	unlink(path);
}

static void test_kamailio_argv(void **state)
{
	static const char *const want[] = {
		"/usr/sbin/kamailio", "-f", "/r/k.cfg", "-DD", "-E", "-m", "64", "-M", "8",
		"-w", "/r", "-Y", "/r", "-P", "/r/kamailio.pid",
	};
	char buf[256], *argv[32];
	int n;

	(void)state;
	n = rtv_sip_kamailio_argv("/usr/sbin/kamailio", "/r/k.cfg", "/r", buf, sizeof(buf), argv, 32);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[n]);
	assert_int_equal(rtv_sip_kamailio_argv("k", "c", "/r", buf, sizeof(buf), argv, n), -ENOSPC);
	assert_int_equal(rtv_sip_kamailio_argv("k", "c", "/r", buf, 4, argv, 32), -ENOSPC);
	assert_int_equal(rtv_sip_kamailio_argv("k", "c", "", buf, sizeof(buf), argv, 32), -EINVAL);
}

/* ---- SIPp ---- */

static void test_sipp_scenario(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(rtv_sip_sipp_scenario(f, "sip:uas@127.0.0.1:25070"), 0);
	fclose(f);
	assert_non_null(strstr(text, "<send start_rtd=\"1\">"));
	assert_non_null(strstr(text, "<recv response=\"200\" rtd=\"1\"/>"));
	assert_non_null(strstr(text, "OPTIONS sip:uas@127.0.0.1:25070 SIP/2.0\n"));
	assert_non_null(strstr(text, "Call-ID: [call_id]\n"));
	/* the one captured run used this very text */
	{
		size_t dlen;
		char *data = load("sipp", "rtv_options.xml", &dlen);

		assert_int_equal(dlen, len);
		assert_memory_equal(data, text, len);
		free(data);
	}
	free(text);
	f = fopen("/dev/null", "w");
	assert_int_equal(rtv_sip_sipp_scenario(f, "sip:uas@[::1]:5070"), -EINVAL);
	assert_int_equal(rtv_sip_sipp_scenario(f, "sip:a&b"), -EINVAL);
	fclose(f);
}

static void test_sipp_rtt_captured(void **state)
{
	static struct rtv_hist h;
	uint64_t count = 0;
	size_t len;
	char *text = load("sipp", "rtv_options_6411_rtt.csv", &len);

	(void)state;
	rtv_hist_init(&h);
	assert_int_equal(rtv_sip_sipp_rtt_parse(text, len, &h, &count), 0);
	assert_int_equal(count, 50);
	assert_int_equal(h.count, 50);
	assert_int_equal(h.underflow, 44); /* 44 lines of 0 ms */
	assert_int_equal(h.min_ns, 0);
	assert_int_equal(h.max_ns, 12000000);
	/* 5 x 4 ms + 12 ms over 50 */
	assert_true(rtv_hist_mean_ns(&h) > 639999.0 && rtv_hist_mean_ns(&h) < 640001.0);
	free(text);
}

static void test_sipp_rtt_malformed(void **state)
{
	static const char *const bad[] = {
		"Date_ms;response_time_ms;rtd_no\n1;2\n",
		"1;2;1;4\n",
		"1;-2;1\n",
		"1;nan;1\n",
		"1;inf;1\n",
		"x;2;1\n",
		";2;1\n",
		"1;;1\n",
		"1;2;\n",
		"1;2x;1\n",
		"\n",
		"Date_ms;response_time_ms;rtd_no\n4;1;1\ngarbage\n",
	};
	static struct rtv_hist h;
	uint64_t count = 99;

	(void)state;
	rtv_hist_init(&h);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rtv_sip_sipp_rtt_parse(bad[i], strlen(bad[i]), &h, &count) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(h.count, 0); /* nothing recorded by a refused text */
	assert_int_equal(count, 99);

	/* CRLF, the exponent form, a last line cut short */
	{
		static const char ok[] = "Date_ms;response_time_ms;rtd_no\r\n1.23457e+06;0.5;1\r\n"
					 "1.23458e+06;1.5e+01;opt\n1.2346e+06;4";

		assert_int_equal(rtv_sip_sipp_rtt_parse(ok, sizeof(ok) - 1, &h, &count), 0);
		assert_int_equal(count, 2);
		assert_int_equal(h.count, 2);
		assert_int_equal(h.min_ns, 500000);
		assert_int_equal(h.max_ns, 15000000);
	}
	assert_int_equal(rtv_sip_sipp_rtt_parse("", 0, NULL, &count), 0);
	assert_int_equal(count, 0);
}

static void test_sipp_argv(void **state)
{
	static const char *const want[] = {
		"/usr/bin/sipp", "198.19.0.2:5060", "-sf", "/r/rtv_options.xml", "-t", "u1",
		"-i", "198.19.0.1", "-bind_local", "-p", "5062", "-cp", "8899", "-mp", "16000",
		"-r", "250", "-rp", "1000", "-m", "1000", "-timeout", "3s",
		"-recv_timeout", "500", "-trace_rtt", "-rtt_freq", "1", "-nostdin",
	};
	struct rtv_sip_sipp_cfg c = {
		.sipp_path = "/usr/bin/sipp", .scenario_path = "/r/rtv_options.xml",
		.proxy_addr = "198.19.0.2", .proxy_port = 5060, .local_addr = "198.19.0.1",
		.local_port = 5062, .ctrl_port = 8899, .media_port = 16000, .rate = 250,
		.calls = 1000, .duration_ns = 2500000000, .recv_timeout_ns = 500000000,
	};
	char buf[512], *argv[64];
	int n;

	(void)state;
	n = rtv_sip_sipp_argv(&c, buf, sizeof(buf), argv, 64);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[n]);
	c.rate = 0;
	assert_int_equal(rtv_sip_sipp_argv(&c, buf, sizeof(buf), argv, 64), -EINVAL);
	c.rate = 10;
	c.calls = 0;
	c.duration_ns = 0;
	assert_int_equal(rtv_sip_sipp_argv(&c, buf, sizeof(buf), argv, 64), -EINVAL);
	c.calls = 5;
	c.proxy_addr = "proxy";
	assert_int_equal(rtv_sip_sipp_argv(&c, buf, sizeof(buf), argv, 64), -EINVAL);
	c.proxy_addr = "198.19.0.2";
	assert_int_equal(rtv_sip_sipp_argv(&c, buf, sizeof(buf), argv, 10), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_exact),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_encode_dialog),
		cmocka_unit_test(test_captured),
		cmocka_unit_test(test_response_of_captured),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_compact_and_forms),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_call_id_foreign),
		cmocka_unit_test(test_uas),
		cmocka_unit_test(test_kamailio_cfg),
		cmocka_unit_test(test_kamailio_argv),
		cmocka_unit_test(test_sipp_scenario),
		cmocka_unit_test(test_sipp_rtt_captured),
		cmocka_unit_test(test_sipp_rtt_malformed),
		cmocka_unit_test(test_sipp_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
