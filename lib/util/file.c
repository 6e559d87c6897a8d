#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

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

int rtv_fs_detached(const char *fstype)
{
	int fs, mnt, err;

	fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		err = -errno;
		close(fs);
		return err;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	err = mnt < 0 ? -errno : mnt;
	close(fs);
	return err;
}

int rtv_path_find(const char *prog, char *buf, size_t len)
{
	char path[1024], *save = NULL;
	const char *p = getenv("PATH");

	snprintf(path, sizeof(path), "%s", p ? p : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (snprintf(buf, len, "%s/%s", d, prog) >= (int)len)
			continue;
		if (!access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}
