/* Fuzz target for the outsourcing policy parser (lib/outsource/policy.h).
 *
 * LLVMFuzzerTestOneInput is libFuzzer's entry: build with clang
 * -fsanitize=fuzzer,address -DRTV_LIBFUZZER to fuzz for real. Built with gcc
 * (the default) this file also has a main():
 *   fuzz_policy FILE...          replay each file once
 *   fuzz_policy --runs N [--seed S]
 *                                N inputs mutated from built-in seeds
 * Every input must either parse into rules that obey the invariants below
 * (and whose canonical text parses back to the same rule) or fail with
 * -EINVAL/-ENOMEM and a message naming the origin; anything else aborts. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "outsource/policy.h"
#include "driver.h"


static void check(int cond, const char *what, const char *text)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_policy: invariant broken: %s; input:\n%s\n", what, text);
	abort();
}

static void check_rule(const struct rtv_policy_rule *r, const char *text)
{
	unsigned max = r->family == AF_INET ? 32 : 128;
	struct rtv_policy *q = NULL;
	char t[128], json[200], err[512];

	check(r->list < RTV_POLICY_LISTS, "list", text);
	check(!r->proto || r->proto == IPPROTO_UDP || r->proto == IPPROTO_TCP, "proto", text);
	check(r->family == AF_UNSPEC || r->family == AF_INET || r->family == AF_INET6, "family",
	      text);
	check(r->port_lo <= r->port_hi, "port range", text);
	if (r->family == AF_UNSPEC) {
		static const uint8_t zero[16];

		check(!r->prefix_len && !memcmp(r->addr, zero, 16), "AF_UNSPEC has no address",
		      text);
	} else {
		check(r->prefix_len <= max, "prefix length", text);
		for (unsigned i = r->prefix_len; i < 128; i++)
			check(!(r->addr[i / 8] & (0x80 >> (i % 8))), "no bit past the prefix",
			      text);
	}
	check(rtv_policy_rule_format(r, t, sizeof(t)) > 0, "format", text);
	snprintf(json, sizeof(json), "{\"%s\": [\"%s\"]}", rtv_policy_list_names[r->list], t);
	check(rtv_policy_parse(json, "again", &q, err, sizeof(err)) == 0, "canonical text parses",
	      text);
	for (size_t i = 0; i < rtv_policy_count(q); i++) {
		const struct rtv_policy_rule *s = rtv_policy_rule_at(q, i);

		if (s->list == r->list) {
			check(!memcmp(s, r, sizeof(*r)), "round trip", text);
			break;
		}
	}
	rtv_policy_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512] = "";
	struct rtv_policy *p = (struct rtv_policy *)1;
	int ret;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ret = rtv_policy_parse(text, "fuzz", &p, err, sizeof(err));
	if (ret == 0) {
		check(p != NULL, "policy made", text);
		for (size_t i = 0; i < rtv_policy_count(p); i++)
			check_rule(rtv_policy_rule_at(p, i), text);
	} else {
		check(ret == -EINVAL || ret == -ENOMEM, "return value", text);
		check(p == NULL, "nothing on error", text);
		check(ret == -ENOMEM || !strncmp(err, "fuzz:", 5), "message names the origin",
		      text);
	}
	rtv_policy_free(p);
	free(text);
	return 0;
}

#ifndef RTV_LIBFUZZER
static const char *const seeds[] = {
	"{\"bind\": [\"udp:7000\", \"tcp:8080-8089\", \"udp:0\", \"udp:[::]:7001\"],"
	" \"connect\": [\"198.18.0.0/15\", \"udp:[2001:db8::]/32:53\", \"::1\", \"any\"],"
	" \"sendmsg\": [\"10.0.0.1:9000\", \"::ffff:198.18.0.0/111\", \"tcp:any\"]}",
	"{\"connect\": [\"0.0.0.0/0\", \"::/0\", \"1-2\", \"[fe80::]/10:5-6\"]}",
};
/* Fragments spliced in: the characters and words the parser branches on. */
static const char *const tokens[] = {
	"{", "}", "[", "]", ",", ":", "\"", "-", "/", ".", "0", "65535", "65536", "udp:", "tcp:",
	"any", "::", "::ffff:", "1.2.3.4", "/32", "/128", "/0", "\"bind\"", "\"connect\"",
	"\"sendmsg\"", "null", "99999", "%", "\\u0000",
};

static const struct rtv_fuzz_target target = {
	.name = "fuzz_policy",
	.seeds = seeds,
	.nseeds = RTV_FUZZ_N(seeds),
	.unchanged = 2, /* the seeds themselves first */
	.tokens = tokens,
	.ntokens = RTV_FUZZ_N(tokens),
	.cap = 4096,
};

int main(int argc, char **argv)
{
	return rtv_fuzz_main(&target, argc, argv);
}
#endif
