/* Unit tests for lib/net/napi.c: the sysfs fallback against a fake
 * /sys/class/net under mkdtemp (exact bytes written, what is read back, the
 * errors for a missing device or file), the settings text of the journal
 * entries (rtv_napi_params_format/parse: exact strings, round trips, what is
 * refused), and the argument checks that happen before any netlink message is
 * sent. The netlink paths themselves are covered by
 * tests/integration/t0600-napi-veth.sh and t0610-napi-reapply.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/napi.h"

#include "fixture.h"

#define PATH_LEN 320

struct fx {
	char root[64];      /* the fake /sys/class/net */
	char file[PATH_LEN]; /* root/veth0/threaded */
};

static void put(const char *path, const char *s)
{
	rtv_test_put(path, s);
}

/* The file's whole content (at most len - 1 bytes). */
static const char *slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char dir[PATH_LEN];

	if (!fx)
		return -1;
	if (rtv_test_mkdtemp(fx->root, sizeof(fx->root), "napi")) {
		free(fx);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/veth0", fx->root);
	snprintf(fx->file, sizeof(fx->file), "%s/veth0/threaded", fx->root);
	if (mkdir(dir, 0755) < 0)
		return -1;
	/* what the kernel shows for a device that is not threaded */
	put(fx->file, "0\n");
	/* a device without the file (kernel before 5.12) */
	snprintf(dir, sizeof(dir), "%s/old0", fx->root);
	if (mkdir(dir, 0755) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	rtv_test_rmtree(fx->root);
	free(fx);
	return 0;
}

/* ---- sysfs fallback ---- */

static void test_dev_set_writes_value_and_newline(void **state)
{
	struct fx *fx = *state;
	char buf[16];

	/* exactly what `echo 1 >` writes and the kernel prints back; kstrtol()
	 * in threaded_store() takes it with or without the newline */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 1), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "1\n");
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 0), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "0\n");
	/* 2 (busy-poll) is the kernel's to refuse or take */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 2), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "2\n");
}

static void test_dev_set_truncates(void **state)
{
	struct fx *fx = *state;
	char buf[16];

	put(fx->file, "0000000\n");
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 1), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "1\n");
}

static void test_dev_get(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 0);
	put(fx->file, "1\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 1);
	put(fx->file, "2");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 2);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 1), 0);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 1);
}

static void test_dev_get_bad_content(void **state)
{
	struct fx *fx = *state;

	put(fx->file, "");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "on\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "-1\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "1 \n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "99999999999\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
}

static void test_dev_missing(void **state)
{
	struct fx *fx = *state;
	char path[PATH_LEN];

	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "nodev0", 1), -ENODEV);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "nodev0"), -ENODEV);
	/* the device is there, its threaded file is not: never created */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "old0", 1), -EOPNOTSUPP);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "old0"), -EOPNOTSUPP);
	snprintf(path, sizeof(path), "%s/old0/threaded", fx->root);
	assert_int_equal(access(path, F_OK), -1);
	/* a root that does not exist */
	assert_int_equal(rtv_napi_dev_threaded_set("/nonexistent-rtvnet", "veth0", 1), -ENODEV);
}

static void test_dev_bad_args(void **state)
{
	struct fx *fx = *state;
	char buf[16];

	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 3), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", -1), -EINVAL);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "0\n");
	assert_int_equal(rtv_napi_dev_threaded_set(NULL, "veth0", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set("", "veth0", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, NULL, 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, ".", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "..", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "../veth0", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0/x", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth 0", 1), -EINVAL);
	/* IFNAMSIZ is 16: 15 characters at most */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "abcdefghijklmnop", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "abcdefghijklmno", 1), -ENODEV);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "../veth0"), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_get(NULL, "veth0"), -EINVAL);
}

/* ---- netlink argument checks (nothing is sent) ---- */

static void test_set_rejects_bad_params(void **state)
{
	struct rtv_napi_params p = { .has_threaded = true, .threaded = 3 };

	(void)state;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	p.threaded = UINT32_MAX;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	/* nothing marked present */
	memset(&p, 0, sizeof(p));
	p.threaded = 1;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	/* the kernel's range for defer-hard-irqs is 0..S32_MAX */
	p.has_defer = true;
	p.defer_hard_irqs = (uint32_t)INT32_MAX + 1;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	/* no NAPI has id 0, no params */
	p.defer_hard_irqs = 2;
	assert_int_equal(rtv_napi_set(0, &p), -EINVAL);
	assert_int_equal(rtv_napi_set(1000, NULL), -EINVAL);
}

static void test_get_list_reject_bad_args(void **state)
{
	struct rtv_napi n;

	(void)state;
	assert_int_equal(rtv_napi_get(1000, NULL), -EINVAL);
	assert_int_equal(rtv_napi_get(0, &n), -EINVAL);
	assert_int_equal(rtv_napi_list(-1, &n, 1), -EINVAL);
	assert_int_equal(rtv_napi_list(1, &n, -1), -EINVAL);
	assert_int_equal(rtv_napi_list(1, NULL, 1), -EINVAL);
}

/* ---- settings as text (the "napi" journal entries) ---- */

/* Field by field: the struct has padding that memcmp would see. */
static void assert_params_equal(const struct rtv_napi_params *a, const struct rtv_napi_params *b)
{
	assert_int_equal(a->has_threaded, b->has_threaded);
	assert_int_equal(a->threaded, b->threaded);
	assert_int_equal(a->has_defer, b->has_defer);
	assert_int_equal(a->defer_hard_irqs, b->defer_hard_irqs);
	assert_int_equal(a->has_gro_flush, b->has_gro_flush);
	assert_true(a->gro_flush_timeout_ns == b->gro_flush_timeout_ns);
	assert_int_equal(a->has_irq_suspend, b->has_irq_suspend);
	assert_true(a->irq_suspend_timeout_ns == b->irq_suspend_timeout_ns);
}

static void test_params_format(void **state)
{
	struct rtv_napi_params p = { .has_threaded = false };
	char buf[128];

	(void)state;
	p.has_defer = true;
	p.defer_hard_irqs = 2;
	assert_int_equal(rtv_napi_params_format(&p, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "defer=2");
	/* always in the order threaded, defer, gro-flush, irq-suspend */
	p.has_irq_suspend = true;
	p.irq_suspend_timeout_ns = 20000000;
	p.has_threaded = true;
	p.threaded = 1;
	p.has_gro_flush = true;
	p.gro_flush_timeout_ns = 0;
	assert_int_equal(rtv_napi_params_format(&p, buf, sizeof(buf)), 51);
	assert_string_equal(buf, "threaded=1,defer=2,gro-flush=0,irq-suspend=20000000");
	/* a value set to 0 is written: 0 is a value to restore */
	memset(&p, 0, sizeof(p));
	p.has_threaded = true;
	assert_int_equal(rtv_napi_params_format(&p, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "threaded=0");
	/* 64-bit timeouts in full */
	memset(&p, 0, sizeof(p));
	p.has_gro_flush = true;
	p.gro_flush_timeout_ns = UINT64_MAX;
	assert_int_equal(rtv_napi_params_format(&p, buf, sizeof(buf)), 30);
	assert_string_equal(buf, "gro-flush=18446744073709551615");
}

static void test_params_format_errors(void **state)
{
	struct rtv_napi_params p = { .has_threaded = true, .threaded = 1 };
	char buf[16];

	(void)state;
	/* "threaded=1" needs 11 bytes with its NUL */
	assert_int_equal(rtv_napi_params_format(&p, buf, 11), 10);
	assert_int_equal(rtv_napi_params_format(&p, buf, 10), -ENOSPC);
	assert_int_equal(rtv_napi_params_format(&p, NULL, 0), -ENOSPC);
	memset(&p, 0, sizeof(p));
	assert_int_equal(rtv_napi_params_format(&p, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rtv_napi_params_format(NULL, buf, sizeof(buf)), -EINVAL);
}

static void test_params_parse(void **state)
{
	struct rtv_napi_params p;

	(void)state;
	memset(&p, 0xff, sizeof(p));
	assert_int_equal(rtv_napi_params_parse("defer=2", &p), 0);
	assert_true(p.has_defer);
	assert_int_equal(p.defer_hard_irqs, 2);
	assert_false(p.has_threaded);
	assert_false(p.has_gro_flush);
	assert_false(p.has_irq_suspend);
	/* any order */
	assert_int_equal(rtv_napi_params_parse("irq-suspend=5,gro-flush=50000,threaded=1,defer=0",
					       &p), 0);
	assert_true(p.has_threaded && p.has_defer && p.has_gro_flush && p.has_irq_suspend);
	assert_int_equal(p.threaded, 1);
	assert_int_equal(p.defer_hard_irqs, 0);
	assert_int_equal(p.gro_flush_timeout_ns, 50000);
	assert_int_equal(p.irq_suspend_timeout_ns, 5);
	/* the limits themselves */
	assert_int_equal(rtv_napi_params_parse("threaded=2,defer=2147483647,"
					       "irq-suspend=18446744073709551615", &p), 0);
	assert_int_equal(p.threaded, 2);
	assert_int_equal(p.defer_hard_irqs, INT32_MAX);
	assert_true(p.irq_suspend_timeout_ns == UINT64_MAX);
}

static void test_params_round_trip(void **state)
{
	struct rtv_napi_params p = { .has_threaded = false }, q;
	char buf[128];
	int mask;

	(void)state;
	/* every subset of the four fields comes back as it went */
	for (mask = 1; mask < 16; mask++) {
		memset(&p, 0, sizeof(p));
		p.has_threaded = mask & 1;
		p.threaded = p.has_threaded ? 1 : 0;
		p.has_defer = mask & 2;
		p.defer_hard_irqs = p.has_defer ? 1234 : 0;
		p.has_gro_flush = mask & 4;
		p.gro_flush_timeout_ns = p.has_gro_flush ? 1000000007ULL : 0;
		p.has_irq_suspend = mask & 8;
		p.irq_suspend_timeout_ns = p.has_irq_suspend ? UINT64_MAX - 1 : 0;
		assert_true(rtv_napi_params_format(&p, buf, sizeof(buf)) > 0);
		assert_int_equal(rtv_napi_params_parse(buf, &q), 0);
		assert_params_equal(&p, &q);
	}
}

static void test_params_parse_errors(void **state)
{
	struct rtv_napi_params p = { .has_threaded = true, .threaded = 1 }, keep = p;
	static const char *const bad[] = {
		"", ",", "defer", "defer=", "=2", "defer=2,", ",defer=2", "defer=2,,threaded=1",
		"defer=2,defer=3", "Defer=2", "defer =2", "defer= 2", "defer=2 ", "defer=+2",
		"defer=-1", "defer=0x10", "defer=1.5", "bogus=1", "threaded=1;defer=2",
		"gro-flush=5us",
	};
	static const char *const range[] = {
		"threaded=3", "defer=2147483648", "gro-flush=18446744073709551616",
		"irq-suspend=99999999999999999999999",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rtv_napi_params_parse(bad[i], &p), -EINVAL);
		assert_params_equal(&p, &keep); /* untouched on error */
	}
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		assert_int_equal(rtv_napi_params_parse(range[i], &p), -ERANGE);
		assert_params_equal(&p, &keep);
	}
	assert_int_equal(rtv_napi_params_parse(NULL, &p), -EINVAL);
	assert_int_equal(rtv_napi_params_parse("defer=1", NULL), -EINVAL);
}

/* ---- journaled calls: argument checks (nothing is sent or recorded) ---- */

static void test_dev_apply_rejects_bad_args(void **state)
{
	struct rtv_napi_params p = { .has_defer = true, .defer_hard_irqs = 2 }, none;
	struct rtv_napi out[2];
	int n = 0;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_int_equal(rtv_napi_dev_apply(NULL, "veth0", &none, out, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_apply(NULL, "veth0", NULL, out, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_apply(NULL, NULL, &p, out, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_apply(NULL, "../x", &p, out, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_apply(NULL, "veth0", &p, NULL, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_apply(NULL, "veth0", &p, out, -1), -EINVAL);
	/* "-" stands for the caller's namespace in an entry: not a name */
	assert_int_equal(rtv_napi_dev_apply("-", "veth0", &p, out, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_apply("", "veth0", &p, out, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_apply("a/b", "veth0", &p, out, 2), -EINVAL);
	p.threaded = 3;
	p.has_threaded = true;
	assert_int_equal(rtv_napi_dev_apply(NULL, "veth0", &p, out, 2), -EINVAL);
	p.has_threaded = false;
	/* the journal is not open in this test: nothing may change unrecorded */
	assert_int_equal(rtv_napi_dev_apply(NULL, "veth0", &p, out, 2), -EBADF);
	assert_int_equal(rtv_napi_dev_reapply(NULL, "veth0", &p, out, NULL, 2), -EINVAL);
	n = 3;
	assert_int_equal(rtv_napi_dev_reapply(NULL, "veth0", &p, out, &n, 2), -EINVAL);
	n = 0;
	assert_int_equal(rtv_napi_dev_reapply(NULL, "veth0", &none, out, &n, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_list(NULL, "", out, 2), -EINVAL);
	assert_int_equal(rtv_napi_dev_list("-", "veth0", out, 2), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dev_set_writes_value_and_newline),
		T(test_dev_set_truncates),
		T(test_dev_get),
		T(test_dev_get_bad_content),
		T(test_dev_missing),
		T(test_dev_bad_args),
		cmocka_unit_test(test_set_rejects_bad_params),
		cmocka_unit_test(test_get_list_reject_bad_args),
		cmocka_unit_test(test_params_format),
		cmocka_unit_test(test_params_format_errors),
		cmocka_unit_test(test_params_parse),
		cmocka_unit_test(test_params_round_trip),
		cmocka_unit_test(test_params_parse_errors),
		cmocka_unit_test(test_dev_apply_rejects_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
