/* Unit tests for lib/host/energy.c against a fake powercap tree in a mkdtemp
 * directory (the root is a parameter; this VM has no RAPL): which zones count
 * as packages, the sum, and the exact wrap-aware difference. */
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

#include "host/energy.h"

#include "fixture.h"

#define PATH_LEN 320
#define RANGE_UJ 262143328850ULL /* a real max_energy_range_uj */


static int setup(void **state)
{
	return rtv_test_tree_setup(state, "energy");
}

static int teardown(void **state)
{
	return rtv_test_tree_teardown(state);
}

/* ---- the fake tree ---- */

static void put(const struct rtv_test_tree *fx, const char *zone, const char *file, const char *s)
{
	char p[PATH_LEN];

	snprintf(p, sizeof(p), "%s/%s/%s", fx->root, zone, file);
	rtv_test_put(p, s);
}

static void zone(const struct rtv_test_tree *fx, const char *dir, const char *name, unsigned long long uj)
{
	char p[PATH_LEN], line[64];

	snprintf(p, sizeof(p), "%s/%s", fx->root, dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(line, sizeof(line), "%s\n", name);
	put(fx, dir, "name", line);
	snprintf(line, sizeof(line), "%llu\n", uj);
	put(fx, dir, "energy_uj", line);
	snprintf(line, sizeof(line), "%llu\n", RANGE_UJ);
	put(fx, dir, "max_energy_range_uj", line);
}

static void set_uj(const struct rtv_test_tree *fx, const char *dir, unsigned long long uj)
{
	char line[64];

	snprintf(line, sizeof(line), "%llu\n", uj);
	put(fx, dir, "energy_uj", line);
}

/* The layout of a two-socket server: packages, their subzones (also listed
 * at the top of /sys/class/powercap), a top-level non-package zone, and the
 * MMIO interface to package 0, which must not be counted twice. Package 1 is
 * created first so that the result does not depend on readdir order. */
static void fake_two_packages(const struct rtv_test_tree *fx)
{
	char p[PATH_LEN];

	snprintf(p, sizeof(p), "%s/intel-rapl", fx->root);
	assert_int_equal(mkdir(p, 0755), 0); /* the control type: no name file */
	zone(fx, "intel-rapl:1", "package-1", 2000);
	zone(fx, "intel-rapl:0", "package-0", 1000);
	zone(fx, "intel-rapl:2", "dram", 5000);
	zone(fx, "intel-rapl:0:0", "core", 700);
	zone(fx, "intel-rapl-mmio:0", "package-0", 9000);
}

/* ---- tests ---- */

static void test_probe_empty_tree(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_energy e;
	char missing[PATH_LEN];
	uint64_t uj;

	assert_int_equal(rtv_energy_rapl_probe(fx->root, &e), -ENOENT);
	assert_int_equal(e.npkgs, 0);
	assert_int_equal(rtv_energy_read_uj(&e, &uj), -ENOENT);
	snprintf(missing, sizeof(missing), "%s/nonexistent", fx->root);
	assert_int_equal(rtv_energy_rapl_probe(missing, &e), -ENOENT);
	/* only non-package zones: still nothing to measure */
	zone(fx, "intel-rapl:0", "psys", 100);
	assert_int_equal(rtv_energy_rapl_probe(fx->root, &e), -ENOENT);
}

static void test_two_packages_sum(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_energy e;
	uint64_t uj;

	fake_two_packages(fx);
	assert_int_equal(rtv_energy_rapl_probe(fx->root, &e), 0);
	assert_int_equal(e.npkgs, 2);
	assert_int_equal(e.pkg[0].index, 0);
	assert_string_equal(e.pkg[0].name, "package-0");
	assert_int_equal(e.pkg[1].index, 1);
	assert_string_equal(e.pkg[1].name, "package-1");
	assert_true(e.pkg[0].max_range_uj == RANGE_UJ);
	assert_true(e.pkg[1].max_range_uj == RANGE_UJ);
	assert_int_equal(rtv_energy_read_pkg_uj(&e, 0, &uj), 0);
	assert_int_equal(uj, 1000);
	assert_int_equal(rtv_energy_read_pkg_uj(&e, 1, &uj), 0);
	assert_int_equal(uj, 2000);
	assert_int_equal(rtv_energy_read_pkg_uj(&e, 2, &uj), -EINVAL);
	/* dram (5000), core (700) and the MMIO package-0 (9000) are not counted */
	assert_int_equal(rtv_energy_read_uj(&e, &uj), 0);
	assert_int_equal(uj, 3000);
	/* the counters move: the sum follows */
	set_uj(fx, "intel-rapl:0", 1500);
	assert_int_equal(rtv_energy_read_uj(&e, &uj), 0);
	assert_int_equal(uj, 3500);
}

static void test_delta_exact(void **state)
{
	(void)state;
	/* no wrap */
	assert_true(rtv_energy_delta_uj(1000, 3000, RANGE_UJ) == 2000);
	assert_true(rtv_energy_delta_uj(3000, 3000, RANGE_UJ) == 0);
	/* across a wrap: 100 up to the maximum, 1 to 0, then 50 */
	assert_true(rtv_energy_delta_uj(RANGE_UJ - 100, 50, RANGE_UJ) == 151);
	assert_true(rtv_energy_delta_uj(RANGE_UJ, 0, RANGE_UJ) == 1);
	/* one short of a whole cycle */
	assert_true(rtv_energy_delta_uj(5, 4, RANGE_UJ) == RANGE_UJ);
	/* unknown range: 64-bit modular difference */
	assert_true(rtv_energy_delta_uj(UINT64_MAX - 9, 10, 0) == 20);
}

static void test_delta_per_package_across_wrap(void **state)
{
	struct rtv_test_tree *fx = *state;
	uint64_t before[2], after[2], total = 0;
	struct rtv_energy e;

	fake_two_packages(fx);
	set_uj(fx, "intel-rapl:0", RANGE_UJ - 300);
	set_uj(fx, "intel-rapl:1", 2000);
	assert_int_equal(rtv_energy_rapl_probe(fx->root, &e), 0);
	for (int i = 0; i < e.npkgs; i++)
		assert_int_equal(rtv_energy_read_pkg_uj(&e, i, &before[i]), 0);
	set_uj(fx, "intel-rapl:0", 199);  /* wrapped: 300 + 1 + 199 = 500 */
	set_uj(fx, "intel-rapl:1", 2700); /* +700 */
	for (int i = 0; i < e.npkgs; i++) {
		assert_int_equal(rtv_energy_read_pkg_uj(&e, i, &after[i]), 0);
		total += rtv_energy_delta_uj(before[i], after[i], e.pkg[i].max_range_uj);
	}
	assert_true(total == 1200);
}

static void test_bad_files(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_energy e;

	zone(fx, "intel-rapl:0", "package-0", 1000);
	put(fx, "intel-rapl:0", "energy_uj", "lots\n");
	assert_int_equal(rtv_energy_rapl_probe(fx->root, &e), -EINVAL);
	assert_int_equal(e.npkgs, 0);
	set_uj(fx, "intel-rapl:0", 1000);
	if (geteuid() != 0) {
		char p[PATH_LEN];

		/* energy_uj is 0400 root since Linux 5.10: found at probe time */
		snprintf(p, sizeof(p), "%s/intel-rapl:0/energy_uj", fx->root);
		assert_int_equal(chmod(p, 0), 0);
		assert_int_equal(rtv_energy_rapl_probe(fx->root, &e), -EACCES);
		assert_int_equal(chmod(p, 0644), 0);
	}
	assert_int_equal(rtv_energy_rapl_probe(fx->root, &e), 0);
	assert_int_equal(e.npkgs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_empty_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_packages_sum, setup, teardown),
		cmocka_unit_test(test_delta_exact),
		cmocka_unit_test_setup_teardown(test_delta_per_package_across_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
