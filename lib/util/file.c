#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
