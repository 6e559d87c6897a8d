/* Unit tests for lib/net/sockaddr.c: IPv4 and IPv6 addresses with their
 * port and scope, and every refusal with its error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include "net/sockaddr.h"

static void test_ipv4(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(rtv_sockaddr_parse("198.18.0.2", 7201, &ss, &len), 0);
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(a4->sin_port), 7201);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0xc6120002u);
	assert_int_equal(rtv_sockaddr_parse("0.0.0.0", 0, &ss, &len), 0);
	assert_int_equal(a4->sin_addr.s_addr, 0);
}

static void test_ipv6(void **state)
{
	static const unsigned char fd00_2[16] = { 0xfd, [15] = 2 };
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(rtv_sockaddr_parse("fd00::2", 5301, &ss, &len), 0);
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(a6->sin6_port), 5301);
	assert_memory_equal(&a6->sin6_addr, fd00_2, 16);
	assert_int_equal(a6->sin6_scope_id, 0);
	assert_int_equal(a6->sin6_flowinfo, 0);
	/* IPv4-mapped is IPv6 to a socket */
	assert_int_equal(rtv_sockaddr_parse("::ffff:198.18.0.2", 1, &ss, &len), 0);
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_true(IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr));
	/* a scope on a global address is kept */
	assert_int_equal(rtv_sockaddr_parse("::1%lo", 1, &ss, &len), 0);
	assert_int_equal(a6->sin6_scope_id, if_nametoindex("lo"));
}

static void test_scope(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	unsigned lo = if_nametoindex("lo");
	char by_index[32];
	socklen_t len = 0;

	(void)state;
	assert_true(lo > 0);
	assert_int_equal(rtv_sockaddr_parse("fe80::1%lo", 9, &ss, &len), 0);
	assert_int_equal(a6->sin6_scope_id, lo);
	assert_int_equal(ntohs(a6->sin6_port), 9);
	snprintf(by_index, sizeof(by_index), "fe80::1%%%u", lo);
	assert_int_equal(rtv_sockaddr_parse(by_index, 9, &ss, &len), 0);
	assert_int_equal(a6->sin6_scope_id, lo);
	/* link-local without its interface: no socket can use it */
	assert_int_equal(rtv_sockaddr_parse("fe80::1", 9, &ss, &len), -EDESTADDRREQ);
	assert_int_equal(rtv_sockaddr_parse("febf::1", 9, &ss, &len), -EDESTADDRREQ);
	assert_int_equal(rtv_sockaddr_parse("fec0::1", 9, &ss, &len), 0);
	/* an interface that is not here, by name or index */
	assert_int_equal(rtv_sockaddr_parse("fe80::1%rtvnope0", 9, &ss, &len), -ENODEV);
	assert_int_equal(rtv_sockaddr_parse("fe80::1%4000000000", 9, &ss, &len), -ENODEV);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "localhost", "198.18.0", "127.1", "0x7f.0.0.1", "198.18.0.256", " 198.18.0.2",
		"198.18.0.2 ", "198.18.0.2%lo", "fd00::2::3", "fd00:::2", "[fd00::2]", "fe80::1%",
		"198.18.0.2:7201", "gggg::1",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001", /* too long */
	};
	struct sockaddr_storage ss;
	socklen_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rtv_sockaddr_parse(bad[i], 1, &ss, &len) != -EINVAL)
			fail_msg("'%s' was not refused with -EINVAL", bad[i]);
	}
	assert_int_equal(rtv_sockaddr_parse(NULL, 1, &ss, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
