/* Unit tests for lib/net/rps.c: the mask text both ways (pure), and, as
 * root, on a veth pair in a namespace of our own (rtv-rps-PID, made through
 * a test journal under mkdtemp and removed when it closes): reading the
 * mask through a detached sysfs mount of that namespace (the root
 * namespace's same-named device is not seen), the journaled setter (its
 * entries, undo restoring the kernel's own text, nothing recorded when the
 * mask is already so), the errors for an unknown device and namespace, and
 * undo when the namespace is gone. Skipped when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "host/journal.h"
#include "net/netns.h"
#include "net/rps.h"
#include "net/rtnl.h"
#include "util/log.h"

#include "fixture.h"

#define DEV "rtvrps0"
#define PEER "rtvrps1"

/* ---- masks ---- */

static void mask_parse(void **state)
{
	cpu_set_t s;

	(void)state;
	assert_int_equal(rtv_rps_mask_parse("0", &s), 0);
	assert_int_equal(CPU_COUNT(&s), 0);
	assert_int_equal(rtv_rps_mask_parse("00000001\n", &s), 0);
	assert_int_equal(CPU_COUNT(&s), 1);
	assert_true(CPU_ISSET(0, &s));
	assert_int_equal(rtv_rps_mask_parse("a", &s), 0); /* 1010 */
	assert_int_equal(CPU_COUNT(&s), 2);
	assert_true(CPU_ISSET(1, &s) && CPU_ISSET(3, &s));
	assert_int_equal(rtv_rps_mask_parse("00000001,80000000", &s), 0);
	assert_int_equal(CPU_COUNT(&s), 2);
	assert_true(CPU_ISSET(31, &s) && CPU_ISSET(32, &s));
	assert_int_equal(rtv_rps_mask_parse("", &s), -EINVAL);
	assert_int_equal(rtv_rps_mask_parse("1g", &s), -EINVAL);
	assert_int_equal(rtv_rps_mask_parse(",1", &s), -EINVAL);
	assert_int_equal(rtv_rps_mask_parse("1,", &s), -EINVAL);
	assert_int_equal(rtv_rps_mask_parse("-1", &s), -EINVAL);
}

static void mask_format(void **state)
{
	char buf[64];
	cpu_set_t s, back;

	(void)state;
	CPU_ZERO(&s);
	assert_int_equal(rtv_rps_mask_format(&s, 2, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "00000000");
	CPU_SET(0, &s);
	CPU_SET(33, &s);
	assert_int_equal(rtv_rps_mask_format(&s, 40, buf, sizeof(buf)), 17);
	assert_string_equal(buf, "00000002,00000001");
	assert_int_equal(rtv_rps_mask_parse(buf, &back), 0);
	assert_true(CPU_EQUAL(&s, &back));
	assert_int_equal(rtv_rps_mask_format(&s, 40, buf, 10), -ENOSPC);
}

/* ---- in a namespace ---- */

struct fx {
	char root[64];
	char jdir[128];
	char ns[32];
};

static bool have_root;

static int veth_add(void *arg)
{
	(void)arg;
	return rtv_rtnl_veth_add(DEV, -1, PEER, -1);
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	if (have_root) {
		rtv_journal_close(); /* deletes the namespace */
		if (fx->root[0])
			rtv_test_rmtree(fx->root);
	}
	free(fx);
	return 0;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	have_root = geteuid() == 0;
	if (!have_root)
		return 0;
	if (rtv_test_mkdtemp(fx->root, sizeof(fx->root), "rps"))
		goto fail;
	snprintf(fx->jdir, sizeof(fx->jdir), "%s/journal.d", fx->root);
	snprintf(fx->ns, sizeof(fx->ns), "rtv-rps-%d", (int)getpid());
	if (rtv_journal_open(fx->jdir, NULL) || rtv_netns_add(fx->ns) ||
	    rtv_netns_run(fx->ns, veth_add, NULL))
		goto fail;
	return 0;
fail:
	teardown(state);
	return -1;
}

#define SKIP_UNLESS_ROOT()                                      \
	do {                                                    \
		if (!have_root)                                 \
			RTV_SKIP("needs root: namespaces and devices"); \
	} while (0)

static void set_read_back_and_undo(void **state)
{
	struct fx *fx = *state;
	cpu_set_t one, got;
	size_t mark;

	SKIP_UNLESS_ROOT();
	assert_int_equal(rtv_rps_get(fx->ns, DEV, &got), 0);
	assert_int_equal(CPU_COUNT(&got), 0); /* the kernel's default: off */
	assert_int_equal(rtv_rps_get(NULL, DEV, &got), -ENODEV); /* not in the root namespace */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_rps_set_journaled(fx->ns, DEV, &one), 0);
	assert_int_equal(rtv_journal_mark(), mark + 1); /* veth: one receive queue */
	assert_int_equal(rtv_rps_get(fx->ns, DEV, &got), 0);
	assert_true(CPU_EQUAL(&got, &one));
	assert_int_equal(rtv_rps_get(fx->ns, PEER, &got), 0);
	assert_int_equal(CPU_COUNT(&got), 0); /* its peer untouched */
	assert_int_equal(rtv_rps_set_journaled(fx->ns, DEV, &one), 0); /* already so */
	assert_int_equal(rtv_journal_mark(), mark + 1);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(rtv_rps_get(fx->ns, DEV, &got), 0);
	assert_int_equal(CPU_COUNT(&got), 0);
}

static void errors(void **state)
{
	struct fx *fx = *state;
	cpu_set_t one;
	size_t mark = rtv_journal_mark();

	SKIP_UNLESS_ROOT();
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	assert_int_equal(rtv_rps_set_journaled(fx->ns, "rtvnosuch0", &one), -ENODEV);
	assert_int_equal(rtv_rps_set_journaled("rtv-no-such-ns", DEV, &one), -ENOENT);
	assert_int_equal(rtv_rps_set_journaled(fx->ns, "../x", &one), -EINVAL);
	assert_int_equal(rtv_rps_set_journaled(fx->ns, "", &one), -EINVAL);
	assert_int_equal(rtv_journal_mark(), mark); /* nothing recorded */
}

/* The namespace went (a testbed torn down): its entry is a target gone. */
static void undo_when_namespace_gone(void **state)
{
	struct fx *fx = *state;
	char ns[40];
	cpu_set_t one;
	size_t mark;

	SKIP_UNLESS_ROOT();
	snprintf(ns, sizeof(ns), "%s-b", fx->ns);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_netns_add(ns), 0);
	assert_int_equal(rtv_netns_run(ns, veth_add, NULL), 0);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	size_t before = rtv_journal_mark();

	assert_int_equal(rtv_rps_set_journaled(ns, DEV, &one), 0);
	/* undo only the rps entry after deleting the namespace by hand */
	char path[64];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	assert_int_equal(umount2(path, MNT_DETACH), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rtv_journal_undo_to(before), 0); /* gone: dropped */
	assert_int_equal(rtv_journal_undo_to(mark), 0);   /* the namespace too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mask_parse),
		cmocka_unit_test(mask_format),
		cmocka_unit_test_setup_teardown(set_read_back_and_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(errors, setup, teardown),
		cmocka_unit_test_setup_teardown(undo_when_namespace_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
