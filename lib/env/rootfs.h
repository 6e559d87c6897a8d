/* A minimal root filesystem made of host binaries, for an OCI bundle when
 * there is no image registry: the programs asked for, every shared library
 * they need, and empty mount points. The ELF files are read here (PT_INTERP,
 * DT_NEEDED, DT_RUNPATH, DT_RPATH); ldd and the programs are never run.
 *
 * The directory is the caller's own temporary directory and a change of the
 * host: the caller journals it before rtv_rootfs_build makes it, and the
 * journal's undo calls rtv_rootfs_remove. Nothing here journals. */
#ifndef RTV_ENV_ROOTFS_H
#define RTV_ENV_ROOTFS_H

#include <stddef.h>

/* Written at the top of every rootfs built; rtv_rootfs_remove refuses a
 * directory with anything in it but without this file. */
#define RTV_ROOTFS_MARK ".rtvnet-rootfs"

/* Make dir a root filesystem holding each program of progs (a NULL-ended
 * array of absolute host paths: "/usr/bin/cyclictest", "/bin/true") at the
 * same path, with each shared object it needs:
 *  - its PT_INTERP (the dynamic loader, "/lib64/ld-linux-x86-64.so.2"), at
 *    that path;
 *  - each DT_NEEDED name, recursively: a name with '/' as it is; otherwise
 *    searched, as ld.so does without its cache, in the needing object's
 *    DT_RPATH (when it has no DT_RUNPATH), its DT_RUNPATH ($ORIGIN and
 *    ${ORIGIN} stand for the object's directory as named in the rootfs),
 *    then /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64, /lib,
 *    /usr/lib; a candidate of another ELF class or machine than the program
 *    is passed over, as ld.so does. It is placed at the path it was found
 *    at, ".." and "." folded.
 * Every file is a regular file, copied (never linked: dir may be on another
 * filesystem), under the name asked for, whatever symlinks led to it on the
 * host (so the host's /bin -> usr/bin or /lib64 -> ... become real
 * directories and files in the rootfs); directories of the rootfs are real.
 * Permission bits are kept, set-id bits dropped. Also made: empty
 * directories proc, dev, sys, tmp (mode 1777) and out (where the caller
 * bind-mounts a directory for results), and the mark file RTV_ROOTFS_MARK.
 * dir must not exist (its parent must) or be an empty directory.
 * 0 or -errno, with a message naming the program or library in err
 * (errlen bytes, "" on success):
 * -ENOENT a program or library not found; -ENOEXEC a file that is not an
 * ELF file of the first program's machine (scripts are not followed) or is
 * malformed; -EINVAL a program path not absolute, or dir "" or "/";
 * -ENOTEMPTY dir not empty; -EISDIR a directory given as a program;
 * -ELOOP objects needing each other more than 64 deep; -ENAMETOOLONG;
 * -ENOMEM; other -errno as reading or writing fails (-EACCES).
 * On failure what was made is removed again (dir too when this call made
 * it). $LIB and $PLATFORM in search paths are not expanded (such a path is
 * passed over). */
int rtv_rootfs_build(const char *dir, const char *const *progs, char *err, size_t errlen);

/* Remove a rootfs rtv_rootfs_build made: everything under dir and dir
 * itself, never following a symlink and never leaving dir's filesystem.
 * 0 (also when dir does not exist); -EINVAL for "", "/" or a directory that
 * is not empty and lacks RTV_ROOTFS_MARK (not a rootfs made here); -EBUSY
 * when something is still mounted in it (unmount proc, out, ... first:
 * nothing under a mount point is touched); other -errno as removing fails. */
int rtv_rootfs_remove(const char *dir);

#endif
