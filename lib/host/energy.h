/* Energy of the CPU packages from powercap RAPL, to compare methods by the
 * energy they spend (EE-KBP's measure).
 *
 * Files: POWERCAP_ROOT/intel-rapl:N/{name, energy_uj, max_energy_range_uj}
 * (real root "/sys/class/powercap"; AMD Zen uses the same intel-rapl zones).
 * Only top-level zones whose name starts with "package" are counted: the
 * subzones (intel-rapl:N:M: core, uncore, dram) are parts of a package, and
 * "intel-rapl-mmio:N" (a second interface to the same package on some Intel
 * clients) and "psys" would count energy twice.
 *
 * energy_uj is readable only by root since Linux 5.10 (the PLATYPUS fix).
 * Virtual machines have no RAPL: the probe returns -ENOENT and the caller
 * reports CPU time (/proc/stat, /proc/PID/stat, cpu.stat) labelled as an
 * estimate instead. The perf PMU "power" is not read here. Never prints. */
#ifndef RTV_HOST_ENERGY_H
#define RTV_HOST_ENERGY_H

#include <stdint.h>

#define RTV_POWERCAP_ROOT "/sys/class/powercap"
#define RTV_ENERGY_PKGS_MAX 16

struct rtv_energy_pkg {
	int index;             /* N of intel-rapl:N */
	char name[32];         /* "package-0" */
	char dir[320];         /* POWERCAP_ROOT/intel-rapl:N */
	uint64_t max_range_uj; /* max_energy_range_uj: energy_uj wraps to 0 after it */
};

struct rtv_energy {
	int npkgs;             /* sorted by index */
	struct rtv_energy_pkg pkg[RTV_ENERGY_PKGS_MAX];
};

/* Find the RAPL packages under `powercap_root` and check that their
 * energy_uj can be read. Returns 0, -ENOENT when the root or any package zone
 * is absent, -EACCES when energy_uj needs root, -E2BIG beyond
 * RTV_ENERGY_PKGS_MAX packages, -ENAMETOOLONG, -EINVAL for a file that is not
 * a number, or the -errno of a failed read. */
int rtv_energy_rapl_probe(const char *powercap_root, struct rtv_energy *e);

/* Energy counter of package i (0 <= i < npkgs) in µJ. */
int rtv_energy_read_pkg_uj(const struct rtv_energy *e, int i, uint64_t *uj);

/* Sum of the packages' energy_uj in µJ. The sum is wrap-exact only with one
 * package: with several, keep each package's reading
 * (rtv_energy_read_pkg_uj), take rtv_energy_delta_uj() per package with its
 * own max_range_uj, and add the deltas. */
int rtv_energy_read_uj(const struct rtv_energy *e, uint64_t *uj);

/* Energy spent between two readings of one counter, in µJ, assuming at most
 * one wrap. The counter runs 0..max_range_uj and wraps to 0, so across a
 * wrap the result is (max_range_uj - before) + 1 + after. (A real RAPL
 * counter steps by its energy unit, about 61 µJ, so the step from max to 0 is
 * up to one unit more than the 1 µJ counted: below the counter's
 * resolution.) Both readings must be of that one counter (<= max_range_uj).
 * max_range_uj 0 means unknown: 64-bit modular difference. */
uint64_t rtv_energy_delta_uj(uint64_t before, uint64_t after, uint64_t max_range_uj);

#endif
