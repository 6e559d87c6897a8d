#include "env/memory.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/banned.h"

/* snprintf for paths: -ENAMETOOLONG when it does not fit. */
static int __attribute__((format(printf, 3, 4))) pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Files of procfs and cgroupfs are read whole into buf (NUL-terminated).
 * The length or -errno; -EFBIG when the file does not fit. */
static ssize_t read_all(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < len) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[got] = '\0';
	if (got + 1 == len)
		return -EFBIG;
	return (ssize_t)got;
}

/* A whole decimal number ending at a newline or the end; -EPROTO otherwise. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*s))
		return -EPROTO;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || (*end && *end != '\n') || (*end == '\n' && end[1]))
		return -EPROTO;
	*v = x;
	return 0;
}

/* ---- smaps_rollup ---- */

/* One "Key:   N kB" line: its value in bytes into *v when key matches.
 * 1 when it matched, 0 when another key, -EPROTO when not such a line. */
static int rollup_field(const char *line, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	char *end;
	unsigned long long kb;
	const char *p;

	if (strncmp(line, key, klen) || line[klen] != ':')
		return 0;
	p = line + klen + 1;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EPROTO;
	errno = 0;
	kb = strtoull(p, &end, 10);
	if (errno || strcmp(end, " kB") || kb > UINT64_MAX / 1024)
		return -EPROTO;
	*v = kb * 1024;
	return 1;
}

int rtv_mem_add_pid(const char *proc, pid_t pid, struct rtv_mem *m)
{
	static const char *const keys[] = { "Rss", "Pss", "Private_Clean", "Private_Dirty",
					    "Private_Hugetlb" };
	enum { RSS, PSS, PCLEAN, PDIRTY, PHUGE, NKEYS };
	uint64_t val[NKEYS] = { 0 };
	bool seen[NKEYS] = { false };
	char path[PATH_MAX], buf[4096], *line, *save = NULL;
	ssize_t n;
	bool header = true;

	if (pathf(path, sizeof(path), "%s/%d/smaps_rollup", proc, (int)pid))
		return -ENAMETOOLONG;
	n = read_all(path, buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH)
		return -ENOENT;
	if (n == -EFBIG)
		return -EPROTO;
	if (n < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* the first line is the span of all mappings, "... [rollup]" */
		if (header) {
			header = false;
			if (!strstr(line, "[rollup]"))
				return -EPROTO;
			continue;
		}
		if (!strchr(line, ':'))
			return -EPROTO;
		for (int k = 0; k < NKEYS; k++) {
			int r = rollup_field(line, keys[k], &val[k]);

			if (r < 0)
				return r;
			if (r) {
				seen[k] = true;
				break;
			}
		}
	}
	if (header || !seen[RSS] || !seen[PSS] || !seen[PCLEAN] || !seen[PDIRTY])
		return -EPROTO;
	m->rss += val[RSS];
	m->pss += val[PSS];
	m->uss += val[PCLEAN] + val[PDIRTY] + val[PHUGE];
	m->nprocs++;
	return 0;
}

/* ---- cgroups ---- */

/* Whether the word w is in the list s separated by any of seps. */
static bool has_word(const char *s, const char *w, const char *seps)
{
	size_t wlen = strlen(w);

	while (*s) {
		size_t n = strcspn(s, seps);

		if (n == wlen && !strncmp(s, w, wlen))
			return true;
		s += n;
		s += strspn(s, seps);
	}
	return false;
}

/* Whether DIR/cgroup.controllers exists and lists memory: -ENOENT when it
 * does not exist, 0 without memory, 1 with. */
static int v2_has_memory(const char *dir)
{
	char path[PATH_MAX], buf[1024];
	ssize_t n;

	if (pathf(path, sizeof(path), "%s/cgroup.controllers", dir))
		return -ENAMETOOLONG;
	n = read_all(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return has_word(buf, "memory", " \n");
}

/* The path on PROC/PID/cgroup's line for the v2 tree (v2 true: "0::") or
 * for the v1 memory controller, into cg. -ESRCH when the process is gone,
 * -ENOTSUP when no line fits, -EPROTO when one is malformed. */
static int cgroup_line(const char *proc, pid_t pid, bool v2, char *cg, size_t len)
{
	char path[PATH_MAX], buf[8192], *line, *save = NULL;
	ssize_t n;

	if (pathf(path, sizeof(path), "%s/%d/cgroup", proc, (int)pid))
		return -ENAMETOOLONG;
	n = read_all(path, buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	if (n == -EFBIG)
		return -EPROTO;
	if (n < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* hierarchy-ID:controller-list:cgroup-path; the path may hold ':' */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool fits;

		if (!c2 || c2[1] != '/')
			return -EPROTO;
		*c1 = *c2 = '\0';
		if (v2)
			fits = !strcmp(line, "0") && c1 + 1 == c2;
		else
			fits = has_word(c1 + 1, "memory", ",");
		if (fits) {
			return pathf(cg, len, "%s", c2 + 1);
		}
	}
	return -ENOTSUP;
}

/* Read DIR/FILE as a number. */
static int read_u64_in(const char *dir, const char *file, uint64_t *v)
{
	char path[PATH_MAX], buf[64];
	ssize_t n;

	if (pathf(path, sizeof(path), "%s/%s", dir, file))
		return -ENAMETOOLONG;
	n = read_all(path, buf, sizeof(buf));
	if (n == -EFBIG)
		return -EPROTO;
	if (n < 0)
		return (int)n;
	return parse_u64(buf, v);
}

static int put_path(char *path, size_t len, const char *s)
{
	return pathf(path, len, "%s", s);
}

/* cgroup v2 at tree: the process's cgroup or the nearest ancestor with
 * memory.current. */
static int v2_usage(const char *proc, const char *tree, pid_t pid, uint64_t *bytes,
		    char *path, size_t len)
{
	char cg[PATH_MAX], dir[PATH_MAX];
	int err = cgroup_line(proc, pid, true, cg, sizeof(cg));

	if (err == -ENOTSUP)
		return -EPROTO; /* a v2 host always writes the 0:: line */
	if (err < 0)
		return err;
	for (;;) {
		char *slash;

		if (!strcmp(cg, "/") || !cg[0]) {
			err = put_path(path, len, tree);
			return err < 0 ? err : -ENOENT;
		}
		if (pathf(dir, sizeof(dir), "%s%s", tree, cg))
			return -ENAMETOOLONG;
		err = read_u64_in(dir, "memory.current", bytes);
		if (err != -ENOENT)
			break;
		/* memory not enabled here: the parent is charged */
		slash = strrchr(cg, '/');
		*slash = '\0';
	}
	if (err < 0)
		return err;
	return put_path(path, len, dir);
}

static int v1_usage(const char *proc, const char *cgroot, pid_t pid, uint64_t *bytes,
		    char *path, size_t len)
{
	char cg[PATH_MAX], tree[PATH_MAX], dir[PATH_MAX], probe[PATH_MAX];
	int err;

	if (pathf(tree, sizeof(tree), "%s/memory", cgroot) ||
	    pathf(probe, sizeof(probe), "%s/memory.usage_in_bytes", tree))
		return -ENAMETOOLONG;
	if (access(probe, F_OK))
		return -ENOTSUP;
	err = cgroup_line(proc, pid, false, cg, sizeof(cg));
	if (err < 0)
		return err;
	if (!strcmp(cg, "/")) {
		err = put_path(path, len, tree);
		return err < 0 ? err : -ENOENT;
	}
	if (pathf(dir, sizeof(dir), "%s%s", tree, cg))
		return -ENAMETOOLONG;
	err = read_u64_in(dir, "memory.usage_in_bytes", bytes);
	if (err == -ENOENT)
		return -ESRCH; /* the cgroup went away with the process */
	if (err < 0)
		return err;
	return put_path(path, len, dir);
}

int rtv_mem_cgroup_of(const char *proc, const char *cgroot, pid_t pid, uint64_t *bytes,
		      char *path, size_t len)
{
	char unified[PATH_MAX];
	int r = v2_has_memory(cgroot);

	if (r >= 0) /* a v2 host: its one tree has memory or none has */
		return r ? v2_usage(proc, cgroot, pid, bytes, path, len) : -ENOTSUP;
	if (r != -ENOENT)
		return r;
	if (pathf(unified, sizeof(unified), "%s/unified", cgroot))
		return -ENAMETOOLONG;
	r = v2_has_memory(unified);
	if (r > 0)
		return v2_usage(proc, unified, pid, bytes, path, len);
	if (r < 0 && r != -ENOENT)
		return r;
	return v1_usage(proc, cgroot, pid, bytes, path, len);
}

/* ---- descendants ---- */

struct pp {
	pid_t pid, ppid;
};

static int pp_cmp(const void *a, const void *b)
{
	const struct pp *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The parent from PROC/PID/stat: "pid (comm) state ppid ...", comm may hold
 * spaces and parentheses, so the last ')' ends it. */
static int read_ppid(const char *proc, const char *name, pid_t *ppid)
{
	char path[PATH_MAX], buf[1024], *p;
	long v;
	ssize_t n;

	if (pathf(path, sizeof(path), "%s/%s/stat", proc, name))
		return -ENAMETOOLONG;
	n = read_all(path, buf, sizeof(buf));
	if (n < 0 && n != -EFBIG)
		return (int)n;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EPROTO;
	errno = 0;
	v = strtol(p + 4, &p, 10);
	if (errno || *p != ' ' || v < 0 || v > INT_MAX)
		return -EPROTO;
	*ppid = (pid_t)v;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int rtv_mem_descendants(const char *proc, pid_t pid, pid_t *pids, int max)
{
	DIR *d = opendir(proc);
	struct pp *all = NULL;
	size_t n = 0, cap = 0;
	bool found = false;
	int count = 0, err = 0;
	struct dirent *e;

	if (!d)
		return -errno;
	while ((errno = 0, e = readdir(d))) {
		pid_t ppid;
		int r;

		if (!all_digits(e->d_name))
			continue;
		r = read_ppid(proc, e->d_name, &ppid);
		if (r == -ENOENT || r == -ESRCH)
			continue; /* gone meanwhile */
		if (r < 0) {
			err = r;
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			struct pp *na = realloc(all, ncap * sizeof(*all));

			if (!na) {
				err = -ENOMEM;
				goto out;
			}
			all = na;
			cap = ncap;
		}
		all[n].pid = (pid_t)atoi(e->d_name);
		all[n].ppid = ppid;
		if (all[n].pid == pid)
			found = true;
		n++;
	}
	if (errno) {
		err = -errno;
		goto out;
	}
	if (!found) {
		err = -ENOENT;
		goto out;
	}
	/* walk each process's parent chain up (a chain is at most n long) */
	qsort(all, n, sizeof(*all), pp_cmp);
	for (size_t i = 0; i < n; i++) {
		struct pp key = { .pid = all[i].ppid }, *up;
		size_t steps = 0;

		while (key.pid > 0 && key.pid != pid && steps++ < n) {
			up = bsearch(&key, all, n, sizeof(*all), pp_cmp);
			if (!up)
				break;
			key.pid = up->ppid;
		}
		if (key.pid != pid || all[i].pid == pid)
			continue;
		if (count == max) {
			err = -ENOSPC;
			goto out;
		}
		pids[count++] = all[i].pid;
	}
out:
	closedir(d);
	free(all);
	return err < 0 ? err : count;
}
