/* Unit tests for lib/outsource/policy.c's parser: the exact rules parsed
 * from each form of entry, the defaults of missing lists, the canonical
 * text and its round trip, the default policy, and every refusal with its
 * message (file, entry, what is wrong). Attaching is t0960's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "outsource/policy.h"

static struct rtv_policy *parse_ok(const char *json)
{
	struct rtv_policy *p = NULL;
	char err[512] = "";
	int e = rtv_policy_parse(json, "p.json", &p, err, sizeof(err));

	if (e)
		fail_msg("'%s' refused (%d): %s", json, e, err);
	assert_non_null(p);
	return p;
}

/* The rules as "LIST TEXT" lines joined by '|'. */
static void rules_are(const struct rtv_policy *p, const char *want)
{
	char got[4096] = "", t[128];
	const struct rtv_policy_rule *r;
	size_t n = 0;

	for (size_t i = 0; (r = rtv_policy_rule_at(p, i)); i++) {
		assert_true(rtv_policy_rule_format(r, t, sizeof(t)) > 0);
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s %s", i ? "|" : "",
				      rtv_policy_list_names[r->list], t);
	}
	assert_string_equal(got, want);
}

static void parse_err(const char *json, const char *want)
{
	struct rtv_policy *p = (struct rtv_policy *)1;
	char err[512] = "";

	assert_int_equal(rtv_policy_parse(json, "p.json", &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	assert_string_equal(err, want);
}

/* an entry of "bind" refused with why */
static void entry_err(const char *entry, const char *why)
{
	char json[256], want[512];

	snprintf(json, sizeof(json), "{\"bind\": [\"udp:1\", \"%s\"]}", entry);
	snprintf(want, sizeof(want), "p.json: bind[1] \"%s\": %s", entry, why);
	parse_err(json, want);
}

static void test_entry_values(void **state)
{
	struct rtv_policy *p;
	const struct rtv_policy_rule *r;
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t one6[16] = { [15] = 1 };

	(void)state;
	p = parse_ok(
	    "{\"bind\": [\"udp:7000\", \"tcp:8080-8089\", \"0\", \"udp:198.18.0.1:53\"],"
	    " \"connect\": [\"198.18.0.0/15\", \"tcp:[2001:db8::]/32:443\", \"::1\", \"any\"],"
	    " \"sendmsg\": [\"udp:any\", \"[::1]:9-10\", \"::ffff:198.18.0.0/111\"]}");
	assert_int_equal(rtv_policy_count(p), 11);

	r = rtv_policy_rule_at(p, 0); /* udp:7000 */
	assert_int_equal(r->list, RTV_POLICY_BIND);
	assert_int_equal(r->proto, IPPROTO_UDP);
	assert_int_equal(r->family, AF_UNSPEC);
	assert_int_equal(r->prefix_len, 0);
	assert_int_equal(r->port_lo, 7000);
	assert_int_equal(r->port_hi, 7000);

	r = rtv_policy_rule_at(p, 1); /* tcp:8080-8089 */
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_int_equal(r->port_lo, 8080);
	assert_int_equal(r->port_hi, 8089);

	r = rtv_policy_rule_at(p, 2); /* 0: any protocol, port 0 */
	assert_int_equal(r->proto, 0);
	assert_int_equal(r->family, AF_UNSPEC);
	assert_int_equal(r->port_lo, 0);
	assert_int_equal(r->port_hi, 0);

	r = rtv_policy_rule_at(p, 3); /* udp:198.18.0.1:53 */
	assert_int_equal(r->family, AF_INET);
	assert_int_equal(r->prefix_len, 32);
	assert_memory_equal(r->addr, ((uint8_t[]){ 198, 18, 0, 1, 0 }), 5);
	assert_int_equal(r->port_lo, 53);
	assert_int_equal(r->port_hi, 53);

	r = rtv_policy_rule_at(p, 4); /* 198.18.0.0/15, every port */
	assert_int_equal(r->list, RTV_POLICY_CONNECT);
	assert_int_equal(r->proto, 0);
	assert_int_equal(r->family, AF_INET);
	assert_int_equal(r->prefix_len, 15);
	assert_memory_equal(r->addr, ((uint8_t[]){ 198, 18, 0, 0 }), 4);
	assert_int_equal(r->port_lo, 0);
	assert_int_equal(r->port_hi, 65535);

	r = rtv_policy_rule_at(p, 5); /* tcp:[2001:db8::]/32:443 */
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_int_equal(r->family, AF_INET6);
	assert_int_equal(r->prefix_len, 32);
	assert_memory_equal(r->addr, db8, 16);
	assert_int_equal(r->port_lo, 443);
	assert_int_equal(r->port_hi, 443);

	r = rtv_policy_rule_at(p, 6); /* ::1 */
	assert_int_equal(r->family, AF_INET6);
	assert_int_equal(r->prefix_len, 128);
	assert_memory_equal(r->addr, one6, 16);
	assert_int_equal(r->port_hi, 65535);

	r = rtv_policy_rule_at(p, 7); /* any */
	assert_int_equal(r->proto, 0);
	assert_int_equal(r->family, AF_UNSPEC);
	assert_int_equal(r->port_lo, 0);
	assert_int_equal(r->port_hi, 65535);

	r = rtv_policy_rule_at(p, 8); /* udp:any */
	assert_int_equal(r->list, RTV_POLICY_SENDMSG);
	assert_int_equal(r->proto, IPPROTO_UDP);
	assert_int_equal(r->family, AF_UNSPEC);

	r = rtv_policy_rule_at(p, 9); /* [::1]:9-10 */
	assert_int_equal(r->family, AF_INET6);
	assert_int_equal(r->prefix_len, 128);
	assert_int_equal(r->port_lo, 9);
	assert_int_equal(r->port_hi, 10);

	r = rtv_policy_rule_at(p, 10); /* IPv4-mapped /111 is IPv4 /15 */
	assert_int_equal(r->family, AF_INET);
	assert_int_equal(r->prefix_len, 15);
	assert_memory_equal(r->addr, ((uint8_t[16]){ 198, 18 }), 16);
	assert_null(rtv_policy_rule_at(p, 11));

	rules_are(p,
		  "bind udp:7000|bind tcp:8080-8089|bind 0|bind udp:198.18.0.1:53|"
		  "connect 198.18.0.0/15|connect tcp:[2001:db8::]/32:443|connect ::1|connect any|"
		  "sendmsg udp:any|sendmsg [::1]:9-10|sendmsg 198.18.0.0/15");
	rtv_policy_free(p);
}

static void test_more_forms(void **state)
{
	struct rtv_policy *p;

	(void)state;
	/* hex-looking heads are addresses, not protocols; /0 prefixes; ports
	 * 0 and 65535; prefixes of every length keep their bits */
	p = parse_ok(
	    "{\"connect\": [\"dead:beef::/32\", \"0.0.0.0/0\", \"::/0\", \"udp:10.1.2.128/25:0\","
	    " \"tcp:65535\", \"[fd00::]/8:1-65535\", \"tcp:[::ffff:10.0.0.1]:80\", \"1.2.3.4/32\"],"
	    " \"bind\": []}");
	rules_are(
	    p, "connect dead:beef::/32|connect 0.0.0.0/0|connect ::/0|connect udp:10.1.2.128/25:0|"
	       "connect tcp:65535|connect [fd00::]/8:1-65535|connect tcp:10.0.0.1:80|"
	       "connect 1.2.3.4|sendmsg dead:beef::/32|sendmsg 0.0.0.0/0|sendmsg ::/0|"
	       "sendmsg udp:10.1.2.128/25:0|sendmsg tcp:65535|sendmsg [fd00::]/8:1-65535|"
	       "sendmsg tcp:10.0.0.1:80|sendmsg 1.2.3.4");
	rtv_policy_free(p);
}

static void test_missing_lists(void **state)
{
	struct rtv_policy *p;

	(void)state;
	/* nothing: no bind, connect and sendmsg anywhere */
	p = parse_ok("{}");
	rules_are(p, "connect any|sendmsg any");
	rtv_policy_free(p);
	/* sendmsg missing: connect's entries */
	p = parse_ok("{\"connect\": [\"10.0.0.0/8\"]}");
	rules_are(p, "connect 10.0.0.0/8|sendmsg 10.0.0.0/8");
	rtv_policy_free(p);
	/* empty lists allow nothing; connect missing: anywhere */
	p = parse_ok("{\"connect\": [], \"sendmsg\": []}");
	rules_are(p, "");
	assert_int_equal(rtv_policy_count(p), 0);
	rtv_policy_free(p);
	p = parse_ok("{\"sendmsg\": [\"udp:53\"], \"bind\": [\"tcp:80\"]}");
	rules_are(p, "bind tcp:80|connect any|sendmsg udp:53");
	rtv_policy_free(p);
}

static void test_round_trip(void **state)
{
	static const char *const entries[] = {
		"udp:7000", "tcp:1-2", "any", "udp:any", "0", "198.18.0.0/15", "10.0.0.1",
		"udp:10.0.0.0/8:53", "::", "::/0", "2001:db8::/32", "tcp:[2001:db8::1]:443",
		"[fe80::]/10:5-6", "0.0.0.0/0:9",
	};
	char json[256], t[128];
	struct rtv_policy *p, *q;

	(void)state;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		snprintf(json, sizeof(json), "{\"bind\": [\"%s\"]}", entries[i]);
		p = parse_ok(json);
		assert_int_equal(rtv_policy_rule_format(rtv_policy_rule_at(p, 0), t, sizeof(t)),
				 (int)strlen(entries[i]));
		assert_string_equal(t, entries[i]); /* these are canonical already */
		snprintf(json, sizeof(json), "{\"bind\": [\"%s\"]}", t);
		q = parse_ok(json);
		assert_memory_equal(rtv_policy_rule_at(p, 0), rtv_policy_rule_at(q, 0),
				    sizeof(struct rtv_policy_rule));
		rtv_policy_free(q);
		rtv_policy_free(p);
	}
	p = parse_ok("{\"bind\": [\"tcp:[2001:db8::1]:443\"]}");
	assert_int_equal(rtv_policy_rule_format(rtv_policy_rule_at(p, 0), t, 21), -ENOSPC);
	rtv_policy_free(p);
}

static void test_entry_errors(void **state)
{
	(void)state;
	entry_err("", "empty entry");
	entry_err("udp:", "nothing after 'udp:'");
	entry_err("icmp:1.2.3.4", "unknown protocol 'icmp' (udp or tcp)");
	entry_err("UDP:53", "unknown protocol 'UDP' (udp or tcp)");
	entry_err("abcde:1", "unknown protocol 'abcde' (udp or tcp)");
	entry_err("udp:70000", "port 70000 out of range 0-65535");
	entry_err("udp:123456", "bad port '123456' (a number from 0 to 65535)");
	entry_err("udp:7000-", "bad port '' (a number from 0 to 65535)");
	entry_err("-5", "bad port '' (a number from 0 to 65535)");
	entry_err("5-4-3", "bad port '4-3' (a number from 0 to 65535)");
	entry_err("tcp:90-80", "port range 90-80 is backwards");
	entry_err("1.2.3.4:x", "bad port 'x' (a number from 0 to 65535)");
	entry_err("1.2.3.4:", "bad port '' (a number from 0 to 65535)");
	entry_err("1.2.3:53", "bad IPv4 address '1.2.3'");
	entry_err("1.2.3.256", "bad IPv4 address '1.2.3.256'");
	entry_err("1.2.3.4/33", "bad prefix length '33' (0 to 32)");
	entry_err("1.2.3.4/", "bad prefix length '' (0 to 32)");
	entry_err("1.2.3.4/1x", "bad prefix length '1x' (0 to 32)");
	entry_err("198.18.0.1/15", "bits set past the /15 prefix (198.18.0.0/15?)");
	entry_err("2001:db8::1/32", "bits set past the /32 prefix (2001:db8::/32?)");
	entry_err("::1/129", "bad prefix length '129' (0 to 128)");
	entry_err("fe80::1%eth0", "bad IPv6 address 'fe80::1%eth0'");
	entry_err("udp:udp:1", "bad IPv6 address 'udp:1'");
	entry_err("1.2.3.4:53:54", "bad IPv6 address '1.2.3.4:53:54'");
	entry_err("[::1", "missing ']'");
	entry_err("[1.2.3.4]:5", "bad IPv6 address '1.2.3.4'");
	entry_err("[::1]53", "'53' after ']' (expected /LEN and :PORTS)");
	entry_err("[::1]:", "':' after ']' (expected /LEN and :PORTS)");
	entry_err("[::1]/200:5", "bad prefix length '200' (0 to 128)");
	entry_err("[::1]:99999", "port 99999 out of range 0-65535");
	entry_err("ANY", "not an address, a port or 'any'");
	entry_err("localhost", "not an address, a port or 'any'");
}

static void test_doc_errors(void **state)
{
	(void)state;
	parse_err("[]", "p.json: not a JSON object");
	parse_err("{\"bnd\": []}",
		  "p.json: unknown key \"bnd\" (bind, connect and sendmsg are known)");
	parse_err("{\"bind\": \"udp:1\"}", "p.json: \"bind\" is not an array");
	parse_err("{\"connect\": [\"any\", 5]}", "p.json: connect[1]: not a string");
	parse_err("{\"sendmsg\": [null]}", "p.json: sendmsg[0]: not a string");
	parse_err("{\"bind\": [\n  x]}", "p.json:2:3: JSON syntax: invalid token near 'x'");
	parse_err("{\"bind\": [], \"bind\": []}",
		  "p.json:1:19: JSON syntax: duplicate object key near '\"bind\"'");
	parse_err("", "p.json:1:0: JSON syntax: '[' or '{' expected near end of file");
}

static char json[40000];

/* append to json at *n */
static void app(size_t *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void app(size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(json + *n, sizeof(json) - *n, fmt, ap);
	va_end(ap);
	assert_true(k >= 0 && (size_t)k < sizeof(json) - *n);
	*n += (size_t)k;
}

static void test_limits(void **state)
{
	size_t n, m;
	struct rtv_policy *p;

	(void)state;
	/* 32 entries on one prefix fit, 33 do not */
	n = 0;
	app(&n, "{\"bind\": [");
	for (int i = 1; i <= 32; i++)
		app(&n, "%s\"udp:%d\"", i > 1 ? ", " : "", i);
	m = n;
	app(&m, "]}");
	p = parse_ok(json);
	assert_int_equal(rtv_policy_count(p), 34);
	rtv_policy_free(p);
	m = n;
	app(&m, ", \"tcp:33\"]}");
	parse_err(
	    json,
	    "p.json: bind[0] \"udp:1\": 33 entries apply to its IPv4 addresses, more than 32");
	/* a longer prefix inherits the rules of those containing it */
	n = 0;
	app(&n, "{\"connect\": [\"10.0.0.0/8\"");
	for (int i = 1; i <= 31; i++)
		app(&n, ", \"10.0.0.0/8:%d\"", i);
	m = n;
	app(&m, ", \"10.1.0.0/16\"]}");
	parse_err(json,
		  "p.json: connect[32] \"10.1.0.0/16\": 33 entries apply to its IPv4 addresses, "
		  "more than 32");
	/* a /0 rule of both families counts for IPv6 too */
	n = 0;
	app(&n, "{\"connect\": [\"::/0\"");
	for (int i = 1; i <= 32; i++)
		app(&n, ", \"%d\"", i);
	m = n;
	app(&m, "]}");
	parse_err(
	    json,
	    "p.json: connect[0] \"::/0\": 33 entries apply to its IPv6 addresses, more than 32");
	/* 1024 prefixes per family fit, 1025 do not */
	n = 0;
	app(&n, "{\"connect\": [\"10.0.0.0\"");
	for (int i = 1; i < 1024; i++)
		app(&n, ", \"10.0.%d.%d\"", i / 256, i % 256);
	m = n;
	app(&m, "], \"sendmsg\": []}");
	p = parse_ok(json);
	assert_int_equal(rtv_policy_count(p), 1024);
	rtv_policy_free(p);
	m = n;
	app(&m, ", \"10.9.9.9\"], \"sendmsg\": []}");
	parse_err(json, "p.json: more than 1024 IPv4 prefixes");
}

static void test_load(void **state)
{
	char path[] = "/tmp/rtv-test-policy-XXXXXX", err[512], want[600];
	struct rtv_policy *p = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"bind\": [\"udp:7\"]}\n", 20), 20);
	close(fd);
	assert_int_equal(rtv_policy_load(path, &p, err, sizeof(err)), 0);
	rules_are(p, "bind udp:7|connect any|sendmsg any");
	rtv_policy_free(p);
	/* the message names the file */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"bind\": [\"udp:y\"]}\n", 20), 20);
	close(fd);
	assert_int_equal(rtv_policy_load(path, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	snprintf(want, sizeof(want), "%s: bind[0] \"udp:y\": not an address, a port or 'any'",
		 path);
	assert_string_equal(err, want);
	unlink(path);
	assert_int_equal(rtv_policy_load(path, &p, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "cannot read '%s': No such file or directory", path);
	assert_string_equal(err, want);
	/* err may be NULL */
	assert_int_equal(rtv_policy_parse("[", "x", &p, NULL, 0), -EINVAL);
}

static void test_default(void **state)
{
	static const uint16_t udp[] = { 7000, 0 }, tcp[] = { 8080 };
	uint16_t many[33];
	struct rtv_policy *p;

	(void)state;
	assert_int_equal(rtv_policy_default(udp, 2, tcp, 1, &p), 0);
	rules_are(p, "bind udp:7000|bind udp:0|bind tcp:8080|connect any|sendmsg any");
	rtv_policy_free(p);
	assert_int_equal(rtv_policy_default(NULL, 0, NULL, 0, &p), 0);
	rules_are(p, "connect any|sendmsg any");
	rtv_policy_free(p);
	for (int i = 0; i < 33; i++)
		many[i] = (uint16_t)(i + 1);
	assert_int_equal(rtv_policy_default(many, 32, NULL, 0, &p), 0);
	rtv_policy_free(p);
	assert_int_equal(rtv_policy_default(many, 20, many + 20, 13, &p), -E2BIG);
	assert_null(p);
	assert_int_equal(rtv_policy_default(many, -1, NULL, 0, &p), -EINVAL);
	rtv_policy_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_values), cmocka_unit_test(test_more_forms),
		cmocka_unit_test(test_missing_lists), cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_entry_errors), cmocka_unit_test(test_doc_errors),
		cmocka_unit_test(test_limits),       cmocka_unit_test(test_load),
		cmocka_unit_test(test_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
