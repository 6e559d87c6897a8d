#include "host/cpufreq.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/banned.h"
#include "util/parse.h"

/* ROOT/cpuN/cpufreq/FILE (FILE may be NULL for the directory itself). */
static int cf_path(const char *root, int cpu, const char *file, char *buf, size_t len)
{
	int n;

	if (file)
		n = snprintf(buf, len, "%s/cpu%d/cpufreq/%s", root, cpu, file);
	else
		n = snprintf(buf, len, "%s/cpu%d/cpufreq", root, cpu);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int read_khz(const struct rtv_cpufreq *cf, const char *file, uint32_t *khz)
{
	char p[PATH_MAX], line[64];
	long long v;
	int err;

	err = cf_path(cf->root, cf->cpu, file, p, sizeof(p));
	if (err < 0)
		return err;
	err = rtv_file_read_line(p, line, sizeof(line));
	if (err < 0)
		return err;
	err = rtv_parse_ll(line, 0, UINT32_MAX, &v);
	if (err < 0)
		return -EINVAL;
	*khz = (uint32_t)v;
	return 0;
}

int rtv_cpufreq_probe(const char *root, int cpu, struct rtv_cpufreq *cf)
{
	char p[PATH_MAX];
	struct stat st;
	int n, err;

	if (!root || !cf || cpu < 0)
		return -EINVAL;
	memset(cf, 0, sizeof(*cf));
	n = snprintf(cf->root, sizeof(cf->root), "%s", root);
	if (n < 0 || (size_t)n >= sizeof(cf->root))
		return -ENAMETOOLONG;
	cf->cpu = cpu;

	err = cf_path(root, cpu, NULL, p, sizeof(p));
	if (err < 0)
		return err;
	/* cpuN/cpufreq is a symlink to ../cpufreq/policyM: stat follows it */
	if (stat(p, &st) < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOENT;

	err = cf_path(root, cpu, "scaling_governor", p, sizeof(p));
	if (err < 0)
		return err;
	err = rtv_file_read_line(p, cf->governor, sizeof(cf->governor));
	if (err < 0)
		return err;
	cf->has_setspeed = strcmp(cf->governor, "userspace") == 0;

	err = read_khz(cf, "cpuinfo_min_freq", &cf->min_khz);
	if (err < 0)
		return err;
	err = read_khz(cf, "cpuinfo_max_freq", &cf->max_khz);
	if (err < 0)
		return err;
	if (cf->min_khz > cf->max_khz)
		return -EINVAL;
	return 0;
}

static int set_khz(const struct rtv_cpufreq *cf, uint32_t khz, rtv_cpufreq_write_fn w, void *arg)
{
	const char *file = cf->has_setspeed ? "scaling_setspeed" : "scaling_max_freq";
	char p[PATH_MAX], v[16];
	int err;

	err = cf_path(cf->root, cf->cpu, file, p, sizeof(p));
	if (err < 0)
		return err;
	snprintf(v, sizeof(v), "%" PRIu32, khz);
	return w(arg, p, v);
}

int rtv_cpufreq_set_low(const struct rtv_cpufreq *cf, rtv_cpufreq_write_fn w, void *arg)
{
	if (!cf || !w)
		return -EINVAL;
	return set_khz(cf, cf->min_khz, w, arg);
}

int rtv_cpufreq_set_high(const struct rtv_cpufreq *cf, rtv_cpufreq_write_fn w, void *arg)
{
	if (!cf || !w)
		return -EINVAL;
	return set_khz(cf, cf->max_khz, w, arg);
}

int rtv_cpufreq_write_plain(void *arg, const char *path, const char *value)
{
	size_t len, off = 0;
	int fd, err = 0;

	(void)arg;
	if (!path || !value)
		return -EINVAL;
	len = strlen(value);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, value + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0) {
			err = -EIO;
			goto out;
		}
		off += (size_t)n;
	}
out:
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}
