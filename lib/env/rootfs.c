#include "env/rootfs.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/banned.h"

/* Where DT_NEEDED names are searched after an object's own paths: the
 * directories ld.so knows without its cache (Debian's multiarch ones first),
 * then the non-multiarch 64-bit ones (/usr/lib64 for RPM-based hosts). */
static const char *const std_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib",
	"/usr/lib64",
};

/* Nesting of DT_NEEDED beyond this is taken for a loop in broken files. */
#define MAX_DEPTH 64

/* A set of strings, searched linearly: a rootfs holds a few dozen files. */
struct strs {
	char **v;
	size_t n, cap;
};

struct build {
	int root;             /* fd of dir */
	struct strs done;     /* rootfs paths placed so far */
	struct strs sonames;  /* their DT_SONAMEs: ld.so takes a DT_NEEDED
			       * name matching one for that object */
	unsigned char cls;    /* the first program's ELF class and machine: */
	uint16_t machine;     /* libraries must match (0 until known) */
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 2, 3))) say(struct build *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
}

/* ---- paths ---- */

/* Fold "//", "." and ".." of an absolute path lexically ("/.." is "/"):
 * the place in the rootfs, whose directories are all real. */
static int path_fold(const char *in, char *out, size_t len)
{
	size_t o = 0;
	const char *p = in;

	if (*in != '/' || len < 2)
		return -EINVAL;
	out[o++] = '/';
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
		} else {
			if (o > 1)
				out[o++] = '/';
			if (o + n + 1 > len)
				return -ENAMETOOLONG;
			memcpy(out + o, p, n);
			o += n;
			if (o >= len)
				return -ENAMETOOLONG;
		}
		p += n;
	}
	out[o] = '\0';
	return 0;
}

/* Make the directories leading to rootfs path p (absolute, folded) under
 * the rootfs, each a real directory. */
static int make_parents(struct build *b, const char *p)
{
	char buf[PATH_MAX];
	char *s;

	snprintf(buf, sizeof(buf), "%s", p + 1);
	for (s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (!mkdirat(b->root, buf, 0755)) {
			if (fchmodat(b->root, buf, 0755, 0)) /* past the umask */
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
		*s = '/';
	}
	return 0;
}

static int strs_add(struct strs *s, const char *p)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 32;
		char **nv = realloc(s->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n] = strdup(p);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static bool strs_has(const struct strs *s, const char *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], p))
			return true;
	return false;
}

static void strs_release(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* ---- ELF ---- */

/* A file mapped whole, read-only. */
struct img {
	const unsigned char *p;
	size_t size;
};

static int img_open(const char *path, struct img *im)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	im->p = NULL;
	im->size = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		err = -ENOEXEC;
		goto out;
	}
	im->p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (im->p == MAP_FAILED) {
		im->p = NULL;
		err = -errno;
		goto out;
	}
	im->size = (size_t)st.st_size;
out:
	close(fd);
	return err;
}

static void img_close(struct img *im)
{
	if (im->p)
		munmap((void *)im->p, im->size);
	im->p = NULL;
}

/* What a dynamic ELF object needs; strings point into the image. */
struct elf {
	unsigned char cls;
	uint16_t machine;
	const char *interp;
	const char *rpath, *runpath, *soname;
	const char *needed[128];
	int nneeded;
};

struct seg { /* a program header, either class */
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

static bool in_file(const struct img *im, uint64_t off, uint64_t len)
{
	return off <= im->size && len <= im->size - off;
}

static int seg_get(const struct img *im, unsigned char cls, uint64_t phoff, uint16_t entsz,
		   int i, struct seg *s)
{
	uint64_t off = phoff + (uint64_t)i * entsz;

	if (cls == ELFCLASS64) {
		Elf64_Phdr ph;

		if (entsz < sizeof(ph) || !in_file(im, off, sizeof(ph)))
			return -ENOEXEC;
		memcpy(&ph, im->p + off, sizeof(ph));
		*s = (struct seg){ ph.p_type, ph.p_offset, ph.p_vaddr, ph.p_filesz };
	} else {
		Elf32_Phdr ph;

		if (entsz < sizeof(ph) || !in_file(im, off, sizeof(ph)))
			return -ENOEXEC;
		memcpy(&ph, im->p + off, sizeof(ph));
		*s = (struct seg){ ph.p_type, ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
	return 0;
}

/* A NUL-terminated string at off in the file, or NULL. */
static const char *str_at(const struct img *im, uint64_t off)
{
	if (off >= im->size || !memchr(im->p + off, '\0', im->size - off))
		return NULL;
	return (const char *)im->p + off;
}

/* Parse im's identity, PT_INTERP and dynamic section. -ENOEXEC when it is
 * not an ELF file of this byte order, -EPROTO when it is malformed,
 * -E2BIG when it needs more objects than e->needed holds. */
static int elf_parse(const struct img *im, struct elf *e)
{
	static const unsigned char native =
		__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
	uint64_t phoff, dyn_off = 0, dyn_size = 0, strtab = 0, strsz = 0;
	uint64_t need[128], rpath = UINT64_MAX, runpath = UINT64_MAX, soname = UINT64_MAX;
	uint16_t phentsize, phnum, type;
	struct seg s;
	int nneed = 0, err;
	bool have_dyn = false;

	memset(e, 0, sizeof(*e));
	if (im->size < EI_NIDENT || memcmp(im->p, ELFMAG, SELFMAG))
		return -ENOEXEC;
	e->cls = im->p[EI_CLASS];
	if ((e->cls != ELFCLASS32 && e->cls != ELFCLASS64) || im->p[EI_DATA] != native)
		return -ENOEXEC;
	if (e->cls == ELFCLASS64) {
		Elf64_Ehdr h;

		if (!in_file(im, 0, sizeof(h)))
			return -EPROTO;
		memcpy(&h, im->p, sizeof(h));
		type = h.e_type, e->machine = h.e_machine, phoff = h.e_phoff;
		phentsize = h.e_phentsize, phnum = h.e_phnum;
	} else {
		Elf32_Ehdr h;

		if (!in_file(im, 0, sizeof(h)))
			return -EPROTO;
		memcpy(&h, im->p, sizeof(h));
		type = h.e_type, e->machine = h.e_machine, phoff = h.e_phoff;
		phentsize = h.e_phentsize, phnum = h.e_phnum;
	}
	if (type != ET_EXEC && type != ET_DYN)
		return -ENOEXEC;
	for (int i = 0; i < phnum; i++) {
		err = seg_get(im, e->cls, phoff, phentsize, i, &s);
		if (err < 0)
			return -EPROTO;
		if (s.type == PT_INTERP) {
			if (!in_file(im, s.offset, s.filesz) || !s.filesz ||
			    im->p[s.offset + s.filesz - 1] != '\0')
				return -EPROTO;
			e->interp = (const char *)im->p + s.offset;
		} else if (s.type == PT_DYNAMIC) {
			if (!in_file(im, s.offset, s.filesz))
				return -EPROTO;
			dyn_off = s.offset, dyn_size = s.filesz, have_dyn = true;
		}
	}
	if (!have_dyn)
		return 0; /* static: needs nothing */
	/* the dynamic entries: DT_STRTAB is an address, the rest offsets in it */
	for (uint64_t off = dyn_off;; ) {
		int64_t tag;
		uint64_t val;

		if (e->cls == ELFCLASS64) {
			Elf64_Dyn d;

			if (off + sizeof(d) > dyn_off + dyn_size)
				break;
			memcpy(&d, im->p + off, sizeof(d));
			tag = d.d_tag, val = d.d_un.d_val, off += sizeof(d);
		} else {
			Elf32_Dyn d;

			if (off + sizeof(d) > dyn_off + dyn_size)
				break;
			memcpy(&d, im->p + off, sizeof(d));
			tag = d.d_tag, val = d.d_un.d_val, off += sizeof(d);
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_NEEDED) {
			if (nneed == (int)(sizeof(need) / sizeof(need[0])))
				return -E2BIG;
			need[nneed++] = val;
		} else if (tag == DT_STRTAB) {
			strtab = val;
		} else if (tag == DT_STRSZ) {
			strsz = val;
		} else if (tag == DT_RPATH) {
			rpath = val;
		} else if (tag == DT_RUNPATH) {
			runpath = val;
		} else if (tag == DT_SONAME) {
			soname = val;
		}
	}
	if (!nneed && rpath == UINT64_MAX && runpath == UINT64_MAX && soname == UINT64_MAX)
		return 0;
	/* the string table's file offset, from the PT_LOAD that maps it */
	bool mapped = false;

	for (int i = 0; i < phnum && !mapped; i++) {
		seg_get(im, e->cls, phoff, phentsize, i, &s);
		if (s.type == PT_LOAD && strtab >= s.vaddr && strtab - s.vaddr < s.filesz) {
			strtab = s.offset + (strtab - s.vaddr);
			mapped = true;
		}
	}
	if (!mapped || !in_file(im, strtab, strsz))
		return -EPROTO;
	for (int i = 0; i < nneed; i++) {
		if (need[i] >= strsz || !(e->needed[i] = str_at(im, strtab + need[i])))
			return -EPROTO;
	}
	e->nneeded = nneed;
	if (rpath != UINT64_MAX && (rpath >= strsz || !(e->rpath = str_at(im, strtab + rpath))))
		return -EPROTO;
	if (runpath != UINT64_MAX &&
	    (runpath >= strsz || !(e->runpath = str_at(im, strtab + runpath))))
		return -EPROTO;
	if (soname != UINT64_MAX &&
	    (soname >= strsz || !(e->soname = str_at(im, strtab + soname))))
		return -EPROTO;
	return 0;
}

/* ---- copying ---- */

/* Write the image to rootfs path p (folded), a new regular file with the
 * host file's permission bits less set-id. */
static int put_file(struct build *b, const char *host, const char *p, const struct img *im)
{
	struct stat st;
	size_t off = 0;
	int fd, err;

	if (stat(host, &st))
		return -errno;
	err = make_parents(b, p);
	if (err < 0)
		return err;
	fd = openat(b->root, p + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    st.st_mode & 0777);
	if (fd < 0)
		return -errno;
	while (off < im->size) {
		ssize_t n = write(fd, im->p + off, im->size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (!err && fchmod(fd, st.st_mode & 0777)) /* past the umask */
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int place(struct build *b, const char *host, const char *what, int depth);

/* Whether host path cand is a usable candidate: an ELF object of the
 * program's class and machine. */
static bool fits(const struct build *b, const char *cand)
{
	struct img im;
	struct elf e;
	bool ok;

	if (img_open(cand, &im) < 0)
		return false;
	ok = elf_parse(&im, &e) == 0 && (!b->machine || (e.cls == b->cls && e.machine == b->machine));
	img_close(&im);
	return ok;
}

/* Try each directory of a ':' list (NULL: none), $ORIGIN expanded to
 * origin. 1 with the path in out when found, 0 when not. */
static int search_list(const struct build *b, const char *list, const char *origin,
		       const char *name, char *out, size_t len)
{
	while (list && *list) {
		size_t n = strcspn(list, ":");
		char dir[PATH_MAX];
		size_t o = 0;

		for (size_t i = 0; i < n && o + 1 < sizeof(dir);) {
			const char *t = list + i;
			size_t skip = 0;

			if (!strncmp(t, "$ORIGIN", 7) && (n - i == 7 || t[7] == '/'))
				skip = 7;
			else if (!strncmp(t, "${ORIGIN}", 9))
				skip = 9;
			if (skip) {
				o += (size_t)snprintf(dir + o, sizeof(dir) - o, "%s", origin);
				if (o >= sizeof(dir))
					o = sizeof(dir) - 1;
				i += skip;
			} else {
				dir[o++] = list[i++];
			}
		}
		dir[o] = '\0';
		list += n;
		list += strspn(list, ":");
		if (!dir[0])
			continue;
		if ((size_t)snprintf(out, len, "%s/%s", dir, name) < len && fits(b, out))
			return 1;
	}
	return 0;
}

/* Place each object e needs; obj is e's rootfs path (for $ORIGIN). */
static int place_needs(struct build *b, const struct elf *e, const char *obj, int depth)
{
	char origin[PATH_MAX], found[PATH_MAX], what[PATH_MAX + 64];
	int err;

	snprintf(origin, sizeof(origin), "%s", obj);
	*strrchr(origin, '/') = '\0';
	if (!origin[0])
		snprintf(origin, sizeof(origin), "/");
	if (e->interp) {
		snprintf(what, sizeof(what), "loader '%s' of '%s'", e->interp, obj);
		err = place(b, e->interp, what, depth + 1);
		if (err < 0)
			return err;
	}
	for (int i = 0; i < e->nneeded; i++) {
		const char *name = e->needed[i];
		bool hit;

		if (strs_has(&b->sonames, name))
			continue; /* placed already under another name (the loader) */
		if (strchr(name, '/')) {
			snprintf(found, sizeof(found), "%s", name);
			hit = true;
		} else {
			hit = (!e->runpath &&
			       search_list(b, e->rpath, origin, name, found, sizeof(found))) ||
			      search_list(b, e->runpath, origin, name, found, sizeof(found));
			for (size_t d = 0; !hit && d < sizeof(std_dirs) / sizeof(std_dirs[0]); d++)
				hit = search_list(b, std_dirs[d], origin, name, found,
						  sizeof(found));
		}
		if (!hit) {
			say(b, "library '%s' needed by '%s' not found", name, obj);
			return -ENOENT;
		}
		snprintf(what, sizeof(what), "library '%s' needed by '%s'", name, obj);
		err = place(b, found, what, depth + 1);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Copy host path (program or object) to its folded path in the rootfs, and
 * what it needs; what names it in messages. */
static int place(struct build *b, const char *host, const char *what, int depth)
{
	char p[PATH_MAX], at[PATH_MAX + 8] = "";
	struct img im = { 0 };
	struct elf e;
	int err;

	/* the host path in messages when what does not name it already */
	if (!strstr(what, host))
		snprintf(at, sizeof(at), " ('%s')", host);
	err = path_fold(host, p, sizeof(p));
	if (err < 0) {
		say(b, "%s%s: %s", what, at,
		    err == -EINVAL ? "not an absolute path" : "path too long");
		return err;
	}
	if (strs_has(&b->done, p))
		return 0;
	if (depth > MAX_DEPTH) {
		say(b, "%s%s: libraries nested more than %d deep", what, at, MAX_DEPTH);
		return -ELOOP;
	}
	err = img_open(host, &im);
	if (err < 0) {
		if (err == -ENOEXEC)
			say(b, "%s%s is not an ELF file (not a regular file, or empty)", what, at);
		else if (err == -ENOENT)
			say(b, "%s%s not found", what, at);
		else
			say(b, "cannot read %s%s: %s", what, at, strerror(-err));
		goto out;
	}
	err = elf_parse(&im, &e);
	if (err == -ENOEXEC) {
		say(b, "%s%s is not an ELF file of this machine%s", what, at,
		    im.size > 2 && im.p[0] == '#' && im.p[1] == '!' ?
			    " (a script: give its interpreter as a program instead)" : "");
		goto out;
	}
	if (err == -EPROTO || err == -E2BIG) {
		say(b, "%s%s is a malformed ELF file", what, at);
		err = -ENOEXEC;
		goto out;
	}
	if (!b->machine) {
		b->cls = e.cls;
		b->machine = e.machine;
	} else if (e.cls != b->cls || e.machine != b->machine) {
		say(b, "%s%s is built for another machine than the first program", what, at);
		err = -ENOEXEC;
		goto out;
	}
	err = put_file(b, host, p, &im);
	if (err < 0) {
		say(b, "cannot copy %s%s into the rootfs: %s", what, at, strerror(-err));
		goto out;
	}
	err = strs_add(&b->done, p);
	if (!err && e.soname && !strs_has(&b->sonames, e.soname))
		err = strs_add(&b->sonames, e.soname);
	if (err < 0) {
		say(b, "out of memory");
		goto out;
	}
	err = place_needs(b, &e, p, depth);
out:
	img_close(&im);
	return err;
}

/* ---- the rootfs ---- */

static bool dir_empty(int fd)
{
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *e;
	bool empty = true;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return false;
	}
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* Whether NAME in directory fd is a directory, and whether it is the root
 * of a mount (a bind mount of the same filesystem too: STATX_ATTR_MOUNT_ROOT,
 * Linux 5.8; before it, a device other than dev). 0 or -errno. */
static int entry_kind(int fd, const char *name, dev_t dev, bool *dir, bool *mount)
{
	struct statx sx;

	if (statx(fd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_TYPE, &sx))
		return -errno;
	*dir = S_ISDIR(sx.stx_mode);
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		*mount = sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	else
		*mount = makedev(sx.stx_dev_major, sx.stx_dev_minor) != dev;
	return 0;
}

/* Remove the contents of directory fd but the entry keep (NULL: none),
 * never entering a mount point (-EBUSY) nor following a link; dev is fd's
 * device. */
static int clear_dir(int fd, dev_t dev, const char *keep)
{
	int dup_fd = dup(fd), err = 0;
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *e;

	if (!d) {
		err = -errno;
		if (dup_fd >= 0)
			close(dup_fd);
		return err;
	}
	while ((errno = 0, e = readdir(d))) {
		bool dir, mount;
		int sub, r;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (keep && !strcmp(e->d_name, keep)))
			continue;
		r = entry_kind(fd, e->d_name, dev, &dir, &mount);
		if (r < 0) {
			/* gone meanwhile, or cannot tell: keep going */
		} else if (mount) {
			r = -EBUSY; /* a mount point, a file's too: not ours to clear */
		} else if (!dir) {
			r = unlinkat(fd, e->d_name, 0) ? -errno : 0;
		} else {
			sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = -errno;
			} else {
				r = clear_dir(sub, dev, NULL);
				close(sub);
				if (!r && unlinkat(fd, e->d_name, AT_REMOVEDIR))
					r = -errno;
			}
		}
		/* removing while reading: keep going, report the first error */
		if (r < 0 && r != -ENOENT && !err)
			err = r;
	}
	if (errno && !err)
		err = -errno;
	closedir(d);
	return err;
}

/* Refuse "", "/" and what resolves to "/". */
static bool sane_dir(const char *dir)
{
	char real[PATH_MAX];

	if (!dir || !dir[0])
		return false;
	if (realpath(dir, real) && !strcmp(real, "/"))
		return false;
	return strspn(dir, "/") != strlen(dir);
}

int rtv_rootfs_remove(const char *dir)
{
	struct stat st;
	int fd, err;

	if (!sane_dir(dir))
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (faccessat(fd, RTV_ROOTFS_MARK, F_OK, AT_SYMLINK_NOFOLLOW) && !dir_empty(fd)) {
		err = -EINVAL;
		goto out;
	}
	/* the mark last, so that a remove stopped by a mount can be redone */
	err = clear_dir(fd, st.st_dev, RTV_ROOTFS_MARK);
	if (!err && unlinkat(fd, RTV_ROOTFS_MARK, 0) && errno != ENOENT)
		err = -errno;
	if (!err && rmdir(dir))
		err = errno == ENOTEMPTY ? -EBUSY : -errno;
out:
	close(fd);
	return err;
}

int rtv_rootfs_build(const char *dir, const char *const *progs, char *err, size_t errlen)
{
	static const char *const mounts[] = { "proc", "dev", "sys", "tmp", "out" };
	struct build b = { .root = -1, .err = err, .errlen = errlen };
	bool made = false;
	int r = 0, fd;

	if (errlen)
		err[0] = '\0';
	if (!sane_dir(dir)) {
		say(&b, "rootfs directory '%s' refused: empty or '/'", dir ? dir : "");
		return -EINVAL;
	}
	if (!mkdir(dir, 0755))
		made = true;
	else if (errno != EEXIST) {
		r = -errno;
		say(&b, "cannot make rootfs directory '%s': %s", dir, strerror(-r));
		return r;
	}
	b.root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (b.root < 0) {
		r = -errno;
		say(&b, "cannot open rootfs directory '%s': %s", dir, strerror(-r));
		goto out;
	}
	if (!made && !dir_empty(b.root)) {
		say(&b, "rootfs directory '%s' is not empty", dir);
		r = -ENOTEMPTY;
		goto out;
	}
	fd = openat(b.root, RTV_ROOTFS_MARK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd)) {
		r = -errno;
		say(&b, "cannot write '%s/%s': %s", dir, RTV_ROOTFS_MARK, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		if (mkdirat(b.root, mounts[i], 0755) ||
		    fchmodat(b.root, mounts[i], !strcmp(mounts[i], "tmp") ? 01777 : 0755, 0)) {
			r = -errno;
			say(&b, "cannot make '%s/%s': %s", dir, mounts[i], strerror(-r));
			goto out;
		}
	}
	for (; progs && *progs; progs++) {
		char what[PATH_MAX + 16];

		if ((*progs)[0] != '/') {
			say(&b, "program '%s': an absolute path is needed", *progs);
			r = -EINVAL;
			goto out;
		}
		snprintf(what, sizeof(what), "program '%s'", *progs);
		r = place(&b, *progs, what, 0);
		if (r < 0)
			goto out;
	}
out:
	if (b.root >= 0)
		close(b.root);
	strs_release(&b.done);
	strs_release(&b.sonames);
	if (r < 0) {
		if (made)
			rtv_rootfs_remove(dir);
		else if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			/* an empty directory given: leave it empty */
			if (!faccessat(fd, RTV_ROOTFS_MARK, F_OK, AT_SYMLINK_NOFOLLOW)) {
				struct stat st;

				if (!fstat(fd, &st))
					clear_dir(fd, st.st_dev, NULL);
			}
			close(fd);
		}
	}
	return r;
}
