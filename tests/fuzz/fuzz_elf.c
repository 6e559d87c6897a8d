/* Fuzz target for the ELF reading of lib/env/rootfs.c, through
 * rtv_rootfs_build: each input is written to a file that is then asked for
 * as the one program of a rootfs in a temporary directory.
 *
 * LLVMFuzzerTestOneInput is libFuzzer's entry: build with clang
 * -fsanitize=fuzzer,address -DRTV_LIBFUZZER to fuzz for real. Built with gcc
 * (the default) this file also has a main():
 *   fuzz_elf FILE...                 replay each file once
 *   fuzz_elf --runs N [--seed S] [--from ELF]
 *                                    N inputs mutated from ELF (default
 *                                    /bin/true): its headers, its dynamic
 *                                    section, anywhere
 * Every input must either build a rootfs holding the program, which
 * rtv_rootfs_remove then removes, or fail with one of the documented errors
 * and a message, leaving no rootfs; anything else aborts. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env/rootfs.h"
#include "driver.h"


static char tmp[64], prog[128], root[128];

static void check(int cond, const char *what, int ret, const char *err)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_elf: invariant broken: %s (returned %d, '%s'); input in '%s'\n",
		what, ret, err, prog);
	abort();
}

static void at_exit(void)
{
	rtv_rootfs_remove(root);
	unlink(prog);
	rmdir(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *progs[] = { prog, NULL };
	char err[1024] = "", in[300];
	int fd, ret;

	if (!tmp[0]) {
		snprintf(tmp, sizeof(tmp), "/tmp/rtvnet-fuzz-elf.XXXXXX");
		if (!mkdtemp(tmp))
			abort();
		snprintf(prog, sizeof(prog), "%s/prog", tmp);
		snprintf(root, sizeof(root), "%s/rootfs", tmp);
		atexit(at_exit);
	}
	fd = open(prog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd))
		abort();
	ret = rtv_rootfs_build(root, progs, err, sizeof(err));
	if (ret == 0) {
		snprintf(in, sizeof(in), "%s%s", root, prog);
		check(access(in, F_OK) == 0, "the program is in the rootfs", ret, err);
		check(rtv_rootfs_remove(root) == 0, "removed", ret, err);
	} else {
		check(ret == -ENOENT || ret == -ENOEXEC || ret == -EISDIR || ret == -ELOOP ||
			      ret == -EINVAL || ret == -ENAMETOOLONG || ret == -EACCES,
		      "a documented error", ret, err);
		check(err[0] != '\0', "a message", ret, err);
	}
	check(access(root, F_OK) == -1 && errno == ENOENT, "no rootfs left", ret, err);
	return 0;
}

#ifndef RTV_LIBFUZZER
/* Where the parser looks: [0, 1 KiB) holds the ELF and program headers
 * and PT_INTERP; the dynamic section is found from the seed. */
static size_t dyn_off, dyn_len;

static void find_dynamic(const uint8_t *buf, size_t len)
{
	Elf64_Ehdr h;

	if (len < sizeof(h))
		return;
	memcpy(&h, buf, sizeof(h));
	for (int i = 0; i < h.e_phnum; i++) {
		Elf64_Phdr ph;
		size_t off = h.e_phoff + (size_t)i * sizeof(ph);

		if (off + sizeof(ph) > len)
			return;
		memcpy(&ph, buf + off, sizeof(ph));
		if (ph.p_type == PT_DYNAMIC && ph.p_offset + ph.p_filesz <= len) {
			dyn_off = ph.p_offset;
			dyn_len = ph.p_filesz;
		}
	}
}

static size_t mutate(uint8_t *buf, size_t len)
{
	static const uint8_t values[] = { 0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff, 0x40, 0x38 };

	for (int n = 1 + (int)(rtv_fuzz_next() % 4); n--;) {
		size_t pos;

		switch (rtv_fuzz_next() % 3) {
		case 0:
			pos = rtv_fuzz_next() % (len < 1024 ? len : 1024);
			break;
		case 1:
			pos = dyn_len ? dyn_off + rtv_fuzz_next() % dyn_len : rtv_fuzz_next() % len;
			break;
		default:
			pos = rtv_fuzz_next() % len;
			break;
		}
		buf[pos] = rtv_fuzz_next() % 2 ? (uint8_t)rtv_fuzz_next() : values[rtv_fuzz_next() % sizeof(values)];
	}
	if (!(rtv_fuzz_next() % 16)) /* truncate, rarely */
		len = 1 + rtv_fuzz_next() % len;
	return len;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "fuzz_elf: cannot read '%s'\n", path);
		if (f)
			fclose(f);
		return 1;
	}
	*buf = malloc((size_t)n);
	*len = *buf ? fread(*buf, 1, (size_t)n, f) : 0;
	fclose(f);
	return *len == (size_t)n ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *from = "/bin/true";
	uint8_t *seed = NULL, *buf;
	size_t len = 0, n;
	long runs = -1;
	uint64_t s = 1;
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			s = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			from = argv[++i];
		} else if (!read_file(argv[i], &buf, &n)) {
			LLVMFuzzerTestOneInput(buf, n);
			free(buf);
		} else {
			ret = 1;
		}
	}
	if (runs < 0)
		return ret;
	if (read_file(from, &seed, &len))
		return 1;
	find_dynamic(seed, len);
	buf = malloc(len);
	if (!buf)
		return 1;
	rtv_fuzz_seed(s);
	for (long r = 0; r < runs; r++) {
		memcpy(buf, seed, len);
		n = r ? mutate(buf, len) : len; /* the seed itself first, unchanged */
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("fuzz_elf: %ld inputs from '%s', seed %llu, no invariant broken\n", runs, from,
	       (unsigned long long)s);
	free(buf);
	free(seed);
	return ret;
}
#endif
