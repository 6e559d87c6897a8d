/* Unit tests for lib/net/napi.c: the sysfs fallback against a fake
 * /sys/class/net under mkdtemp (exact bytes written, what is read back, the
 * errors for a missing device or file), and the argument checks that happen
 * before any netlink message is sent. The netlink paths themselves are
 * covered by tests/integration/t0600-napi-veth.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/napi.h"

#include "fixture.h"

#define PATH_LEN 320

struct fx {
	char root[64];      /* the fake /sys/class/net */
	char file[PATH_LEN]; /* root/veth0/threaded */
};

static void put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t len = strlen(s);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* The file's whole content (at most len - 1 bytes). */
static const char *slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char dir[PATH_LEN];

	if (!fx)
		return -1;
	if (rtv_test_mkdtemp(fx->root, sizeof(fx->root), "napi")) {
		free(fx);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/veth0", fx->root);
	snprintf(fx->file, sizeof(fx->file), "%s/veth0/threaded", fx->root);
	if (mkdir(dir, 0755) < 0)
		return -1;
	/* what the kernel shows for a device that is not threaded */
	put(fx->file, "0\n");
	/* a device without the file (kernel before 5.12) */
	snprintf(dir, sizeof(dir), "%s/old0", fx->root);
	if (mkdir(dir, 0755) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	rtv_test_rmtree(fx->root);
	free(fx);
	return 0;
}

/* ---- sysfs fallback ---- */

static void test_dev_set_writes_value_and_newline(void **state)
{
	struct fx *fx = *state;
	char buf[16];

	/* exactly what `echo 1 >` writes and the kernel prints back; kstrtol()
	 * in threaded_store() takes it with or without the newline */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 1), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "1\n");
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 0), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "0\n");
	/* 2 (busy-poll) is the kernel's to refuse or take */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 2), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "2\n");
}

static void test_dev_set_truncates(void **state)
{
	struct fx *fx = *state;
	char buf[16];

	put(fx->file, "0000000\n");
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 1), 0);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "1\n");
}

static void test_dev_get(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 0);
	put(fx->file, "1\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 1);
	put(fx->file, "2");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 2);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 1), 0);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), 1);
}

static void test_dev_get_bad_content(void **state)
{
	struct fx *fx = *state;

	put(fx->file, "");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "on\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "-1\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "1 \n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
	put(fx->file, "99999999999\n");
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "veth0"), -EINVAL);
}

static void test_dev_missing(void **state)
{
	struct fx *fx = *state;
	char path[PATH_LEN];

	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "nodev0", 1), -ENODEV);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "nodev0"), -ENODEV);
	/* the device is there, its threaded file is not: never created */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "old0", 1), -EOPNOTSUPP);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "old0"), -EOPNOTSUPP);
	snprintf(path, sizeof(path), "%s/old0/threaded", fx->root);
	assert_int_equal(access(path, F_OK), -1);
	/* a root that does not exist */
	assert_int_equal(rtv_napi_dev_threaded_set("/nonexistent-rtvnet", "veth0", 1), -ENODEV);
}

static void test_dev_bad_args(void **state)
{
	struct fx *fx = *state;
	char buf[16];

	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", 3), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0", -1), -EINVAL);
	assert_string_equal(slurp(fx->file, buf, sizeof(buf)), "0\n");
	assert_int_equal(rtv_napi_dev_threaded_set(NULL, "veth0", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set("", "veth0", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, NULL, 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, ".", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "..", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "../veth0", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth0/x", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "veth 0", 1), -EINVAL);
	/* IFNAMSIZ is 16: 15 characters at most */
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "abcdefghijklmnop", 1), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_set(fx->root, "abcdefghijklmno", 1), -ENODEV);
	assert_int_equal(rtv_napi_dev_threaded_get(fx->root, "../veth0"), -EINVAL);
	assert_int_equal(rtv_napi_dev_threaded_get(NULL, "veth0"), -EINVAL);
}

/* ---- netlink argument checks (nothing is sent) ---- */

static void test_set_rejects_bad_params(void **state)
{
	struct rtv_napi_params p = { .has_threaded = true, .threaded = 3 };

	(void)state;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	p.threaded = UINT32_MAX;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	/* nothing marked present */
	memset(&p, 0, sizeof(p));
	p.threaded = 1;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	/* the kernel's range for defer-hard-irqs is 0..S32_MAX */
	p.has_defer = true;
	p.defer_hard_irqs = (uint32_t)INT32_MAX + 1;
	assert_int_equal(rtv_napi_set(1000, &p), -EINVAL);
	/* no NAPI has id 0, no params */
	p.defer_hard_irqs = 2;
	assert_int_equal(rtv_napi_set(0, &p), -EINVAL);
	assert_int_equal(rtv_napi_set(1000, NULL), -EINVAL);
}

static void test_get_list_reject_bad_args(void **state)
{
	struct rtv_napi n;

	(void)state;
	assert_int_equal(rtv_napi_get(1000, NULL), -EINVAL);
	assert_int_equal(rtv_napi_get(0, &n), -EINVAL);
	assert_int_equal(rtv_napi_list(-1, &n, 1), -EINVAL);
	assert_int_equal(rtv_napi_list(1, &n, -1), -EINVAL);
	assert_int_equal(rtv_napi_list(1, NULL, 1), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dev_set_writes_value_and_newline),
		T(test_dev_set_truncates),
		T(test_dev_get),
		T(test_dev_get_bad_content),
		T(test_dev_missing),
		T(test_dev_bad_args),
		cmocka_unit_test(test_set_rejects_bad_params),
		cmocka_unit_test(test_get_list_reject_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
