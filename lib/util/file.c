#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/parse.h"

int rtv_file_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

int rtv_file_read_cpulist(const char *path, cpu_set_t *set)
{
	char line[1024];
	int err;

	CPU_ZERO(set);
	err = rtv_file_read_line(path, line, sizeof(line));
	if (err < 0)
		return err;
	return rtv_parse_cpulist(line, CPU_SETSIZE, set) < 0 ? -EINVAL : 0;
}
