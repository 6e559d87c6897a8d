#include "host/energy.h"
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"
#include "util/parse.h"

#define ZONE_PREFIX "intel-rapl:"

static int read_u64(const char *dir, const char *file, uint64_t *v)
{
	char p[PATH_MAX], line[64];
	long long x;
	int n, err;

	n = snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(p))
		return -ENAMETOOLONG;
	err = rtv_file_read_line(p, line, sizeof(line));
	if (err < 0)
		return err;
	if (rtv_parse_ll(line, 0, LLONG_MAX, &x) < 0)
		return -EINVAL;
	*v = (uint64_t)x;
	return 0;
}

/* N of a top-level zone "intel-rapl:N", or -1 for anything else
 * (intel-rapl:N:M, intel-rapl-mmio:N, intel-rapl). */
static int zone_index(const char *d_name)
{
	const char *s = d_name + strlen(ZONE_PREFIX);
	long long n;

	if (strncmp(d_name, ZONE_PREFIX, strlen(ZONE_PREFIX)))
		return -1;
	if (rtv_parse_ll(s, 0, INT_MAX, &n) < 0 || *s == '+' || *s == '-')
		return -1;
	return (int)n;
}

static int cmp_index(const void *a, const void *b)
{
	const struct rtv_energy_pkg *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

int rtv_energy_rapl_probe(const char *powercap_root, struct rtv_energy *e)
{
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (!powercap_root || !e)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	d = opendir(powercap_root);
	if (!d)
		return errno == ENOTDIR ? -ENOENT : -errno;
	while ((de = readdir(d))) {
		struct rtv_energy_pkg pkg = { 0 };
		char name_path[PATH_MAX];
		uint64_t uj;
		int n;

		pkg.index = zone_index(de->d_name);
		if (pkg.index < 0)
			continue;
		n = snprintf(pkg.dir, sizeof(pkg.dir), "%s/%s", powercap_root, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(pkg.dir)) {
			err = -ENAMETOOLONG;
			goto out;
		}
		snprintf(name_path, sizeof(name_path), "%s/name", pkg.dir);
		err = rtv_file_read_line(name_path, pkg.name, sizeof(pkg.name));
		if (err < 0)
			goto out;
		if (strncmp(pkg.name, "package", strlen("package")))
			continue;
		err = read_u64(pkg.dir, "max_energy_range_uj", &pkg.max_range_uj);
		if (err < 0)
			goto out;
		/* readable only by root: find out now, not after the run */
		err = read_u64(pkg.dir, "energy_uj", &uj);
		if (err < 0)
			goto out;
		if (e->npkgs == RTV_ENERGY_PKGS_MAX) {
			err = -E2BIG;
			goto out;
		}
		e->pkg[e->npkgs++] = pkg;
	}
	if (!e->npkgs)
		err = -ENOENT;
	else
		qsort(e->pkg, (size_t)e->npkgs, sizeof(e->pkg[0]), cmp_index);
out:
	closedir(d);
	if (err < 0)
		e->npkgs = 0;
	return err;
}

int rtv_energy_read_pkg_uj(const struct rtv_energy *e, int i, uint64_t *uj)
{
	if (!e || !uj || i < 0 || i >= e->npkgs)
		return -EINVAL;
	return read_u64(e->pkg[i].dir, "energy_uj", uj);
}

int rtv_energy_read_uj(const struct rtv_energy *e, uint64_t *uj)
{
	uint64_t sum = 0;

	if (!e || !uj)
		return -EINVAL;
	if (!e->npkgs)
		return -ENOENT;
	for (int i = 0; i < e->npkgs; i++) {
		uint64_t v;
		int err = rtv_energy_read_pkg_uj(e, i, &v);

		if (err < 0)
			return err;
		sum += v;
	}
	*uj = sum;
	return 0;
}

uint64_t rtv_energy_delta_uj(uint64_t before, uint64_t after, uint64_t max_range_uj)
{
	/* modulus max_range_uj + 1; with 0 (unknown) or UINT64_MAX it is 2^64 */
	if (after >= before || max_range_uj == 0 || max_range_uj == UINT64_MAX)
		return after - before;
	return (max_range_uj - before) + 1 + after;
}
