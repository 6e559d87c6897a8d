/* Unit tests for lib/host/cpufreq.c against fake cpufreq trees in a mkdtemp
 * directory (the sysfs root is a parameter; this VM has no cpufreq). Writes
 * are recorded through the callback, so the tests check the exact sequence
 * of files and values EE-KBP's sleep/wake would produce. */
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

#include "host/cpufreq.h"

#include "fixture.h"

#define PATH_LEN 320
#define REC_MAX 8


struct rec {
	int n;
	char path[REC_MAX][PATH_LEN];
	char value[REC_MAX][32];
};

static int record(void *arg, const char *path, const char *value)
{
	struct rec *r = arg;

	if (r->n == REC_MAX)
		return -ENOSPC;
	snprintf(r->path[r->n], PATH_LEN, "%s", path);
	snprintf(r->value[r->n], sizeof(r->value[0]), "%s", value);
	r->n++;
	return 0;
}

static int setup(void **state)
{
	return rtv_test_tree_setup(state, "cpufreq");
}

static int teardown(void **state)
{
	return rtv_test_tree_teardown(state);
}

/* ---- the fake tree ---- */

static void mkdir_in(const struct rtv_test_tree *fx, const char *name)
{
	rtv_test_mkdir_in(fx->root, name);
}

static void put(const struct rtv_test_tree *fx, const char *name, const char *s)
{
	rtv_test_put_in(fx->root, name, s);
}

static void expect_file(const struct rtv_test_tree *fx, const char *name, const char *want)
{
	char p[PATH_LEN], buf[128];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", fx->root, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* cpu1 with a cpufreq directory as the kernel shows it (values end in \n) */
static void fake_cpu1(const struct rtv_test_tree *fx, const char *governor)
{
	char line[64];

	mkdir_in(fx, "cpu1");
	mkdir_in(fx, "cpu1/cpufreq");
	snprintf(line, sizeof(line), "%s\n", governor);
	put(fx, "cpu1/cpufreq/scaling_governor", line);
	put(fx, "cpu1/cpufreq/cpuinfo_min_freq", "800000\n");
	put(fx, "cpu1/cpufreq/cpuinfo_max_freq", "3000000\n");
	put(fx, "cpu1/cpufreq/scaling_min_freq", "800000\n");
	put(fx, "cpu1/cpufreq/scaling_max_freq", "3000000\n");
	put(fx, "cpu1/cpufreq/scaling_setspeed",
	    strcmp(governor, "userspace") ? "<unsupported>\n" : "3000000\n");
}

static void expect_rec(const struct rtv_test_tree *fx, const struct rec *r, int i, const char *file,
		       const char *value)
{
	char want[PATH_LEN];

	snprintf(want, sizeof(want), "%s/%s", fx->root, file);
	assert_string_equal(r->path[i], want);
	assert_string_equal(r->value[i], value);
}

/* ---- tests ---- */

static void test_probe_empty_tree(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	char missing[PATH_LEN];

	assert_int_equal(rtv_cpufreq_probe(fx->root, 0, &cf), -ENOENT);
	/* a CPU without a cpufreq directory, as in this VM */
	mkdir_in(fx, "cpu0");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 0, &cf), -ENOENT);
	/* and a root that does not exist at all */
	snprintf(missing, sizeof(missing), "%s/nonexistent", fx->root);
	assert_int_equal(rtv_cpufreq_probe(missing, 0, &cf), -ENOENT);
	assert_int_equal(rtv_cpufreq_probe(fx->root, -1, &cf), -EINVAL);
}

static void test_probe_userspace(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;

	fake_cpu1(fx, "userspace");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, &cf), 0);
	assert_string_equal(cf.root, fx->root);
	assert_int_equal(cf.cpu, 1);
	assert_string_equal(cf.governor, "userspace");
	assert_int_equal(cf.min_khz, 800000);
	assert_int_equal(cf.max_khz, 3000000);
	assert_true(cf.has_setspeed);
	/* cpu1 has cpufreq, cpu0 does not */
	assert_int_equal(rtv_cpufreq_probe(fx->root, 0, &cf), -ENOENT);
}

static void test_userspace_low_high_low(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rec r = { 0 };

	fake_cpu1(fx, "userspace");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, &cf), 0);
	assert_int_equal(rtv_cpufreq_set_low(&cf, record, &r), 0);
	assert_int_equal(rtv_cpufreq_set_high(&cf, record, &r), 0);
	assert_int_equal(rtv_cpufreq_set_low(&cf, record, &r), 0);
	assert_int_equal(r.n, 3);
	expect_rec(fx, &r, 0, "cpu1/cpufreq/scaling_setspeed", "800000");
	expect_rec(fx, &r, 1, "cpu1/cpufreq/scaling_setspeed", "3000000");
	expect_rec(fx, &r, 2, "cpu1/cpufreq/scaling_setspeed", "800000");
}

static void test_powersave_uses_max_freq(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rec r = { 0 };

	fake_cpu1(fx, "powersave");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, &cf), 0);
	assert_string_equal(cf.governor, "powersave");
	assert_false(cf.has_setspeed);
	assert_int_equal(rtv_cpufreq_set_low(&cf, record, &r), 0);
	assert_int_equal(rtv_cpufreq_set_high(&cf, record, &r), 0);
	assert_int_equal(rtv_cpufreq_set_low(&cf, record, &r), 0);
	assert_int_equal(r.n, 3);
	expect_rec(fx, &r, 0, "cpu1/cpufreq/scaling_max_freq", "800000");
	expect_rec(fx, &r, 1, "cpu1/cpufreq/scaling_max_freq", "3000000");
	expect_rec(fx, &r, 2, "cpu1/cpufreq/scaling_max_freq", "800000");
}

static void test_write_plain(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	char p[PATH_LEN];

	fake_cpu1(fx, "userspace");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, &cf), 0);
	assert_int_equal(rtv_cpufreq_set_low(&cf, rtv_cpufreq_write_plain, NULL), 0);
	expect_file(fx, "cpu1/cpufreq/scaling_setspeed", "800000");
	assert_int_equal(rtv_cpufreq_set_high(&cf, rtv_cpufreq_write_plain, NULL), 0);
	expect_file(fx, "cpu1/cpufreq/scaling_setspeed", "3000000");
	expect_file(fx, "cpu1/cpufreq/scaling_max_freq", "3000000\n"); /* untouched */
	/* the file must exist, as in sysfs: nothing is created */
	snprintf(p, sizeof(p), "%s/cpu1/cpufreq/nonexistent", fx->root);
	assert_int_equal(rtv_cpufreq_write_plain(NULL, p, "1"), -ENOENT);
	assert_int_equal(access(p, F_OK), -1);
}

static int fail_write(void *arg, const char *path, const char *value)
{
	(void)arg, (void)path, (void)value;
	return -EPERM;
}

static void test_errors(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;

	fake_cpu1(fx, "userspace");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, &cf), 0);
	/* the callback's error is returned as is */
	assert_int_equal(rtv_cpufreq_set_low(&cf, fail_write, NULL), -EPERM);
	assert_int_equal(rtv_cpufreq_set_high(&cf, NULL, NULL), -EINVAL);
	assert_int_equal(rtv_cpufreq_set_low(NULL, record, NULL), -EINVAL);
	/* limits that are not numbers, or min above max */
	put(fx, "cpu1/cpufreq/cpuinfo_max_freq", "fast\n");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, &cf), -EINVAL);
	put(fx, "cpu1/cpufreq/cpuinfo_max_freq", "400000\n");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, &cf), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_empty_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_userspace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_userspace_low_high_low, setup, teardown),
		cmocka_unit_test_setup_teardown(test_powersave_uses_max_freq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
