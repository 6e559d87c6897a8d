/* Unit tests for lib/net/ethtool.c, as root, on a veth pair in a namespace
 * of our own (rtv-et-PID, made through a test journal under mkdtemp and
 * removed when it closes): reading and setting features with exact values
 * read back, the errors for an unknown feature or device and a fixed
 * feature, the driver's name, and the journaled setter: its entry, what
 * undo restores, nothing recorded when nothing changes, and undo when the
 * device or the namespace is gone. Skipped when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "host/journal.h"
#include "net/ethtool.h"
#include "net/netns.h"
#include "net/rtnl.h"
#include "util/log.h"

#include "fixture.h"

#define DEV "rtvet0"
#define PEER "rtvet1"

struct fx {
	char root[64];  /* the mkdtemp directory */
	char jdir[128]; /* the journal's, inside root */
	char ns[32];    /* rtv-et-PID */
};

static bool have_root;

/* ---- the library's warnings, counted ---- */

static int warnings;

__attribute__((format(printf, 2, 0)))
static void count_log(enum rtv_log_level level, const char *fmt, va_list ap)
{
	(void)fmt, (void)ap;
	if (level <= RTV_LOG_WARN)
		warnings++;
}

/* ---- calls made inside the namespace ---- */

enum op { GET, SET, DRIVER, VETH_ADD, LINK_DEL };

struct call {
	enum op op;
	const char *dev, *feature;
	bool on;
	char driver[32];
	size_t driver_len;
};

static int run_call(void *p)
{
	struct call *c = p;

	switch (c->op) {
	case GET:
		return rtv_ethtool_feature_get(c->dev, c->feature);
	case SET:
		return rtv_ethtool_feature_set(c->dev, c->feature, c->on);
	case DRIVER:
		return rtv_ethtool_driver(c->dev, c->driver, c->driver_len);
	case VETH_ADD:
		return rtv_rtnl_veth_add(DEV, -1, PEER, -1);
	case LINK_DEL:
		return rtv_rtnl_link_del(c->dev);
	}
	return -EINVAL;
}

static int in_ns(const struct fx *fx, struct call *c)
{
	return rtv_netns_run(fx->ns, run_call, c);
}

static int get(const struct fx *fx, const char *dev, const char *feature)
{
	struct call c = { .op = GET, .dev = dev, .feature = feature };

	return in_ns(fx, &c);
}

static int set(const struct fx *fx, const char *dev, const char *feature, bool on)
{
	struct call c = { .op = SET, .dev = dev, .feature = feature, .on = on };

	return in_ns(fx, &c);
}

/* ---- fixture ---- */

static int teardown(void **state)
{
	struct fx *fx = *state;

	if (have_root) {
		rtv_journal_close(); /* deletes the namespace, the veth pair with it */
		if (fx->root[0])
			rtv_test_rmtree(fx->root);
	}
	rtv_log_set(NULL);
	free(fx);
	return 0;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct call c = { .op = VETH_ADD };

	if (!fx)
		return -1;
	*state = fx;
	warnings = 0;
	rtv_log_set(count_log);
	have_root = geteuid() == 0;
	if (!have_root)
		return 0;
	if (rtv_test_mkdtemp(fx->root, sizeof(fx->root), "ethtool"))
		goto fail;
	snprintf(fx->jdir, sizeof(fx->jdir), "%s/journal.d", fx->root);
	snprintf(fx->ns, sizeof(fx->ns), "rtv-et-%d", (int)getpid());
	if (rtv_journal_open(fx->jdir, NULL))
		goto fail;
	if (rtv_netns_add(fx->ns) || in_ns(fx, &c))
		goto fail;
	return 0;
fail:
	teardown(state);
	return -1;
}

#define SKIP_UNLESS_ROOT()                                   \
	do {                                                 \
		if (!have_root)                              \
			RTV_SKIP("needs root: namespaces and devices"); \
	} while (0)

/* ---- plain calls ---- */

static void gro_off_by_default_then_on_and_off(void **state)
{
	struct fx *fx = *state;

	SKIP_UNLESS_ROOT();
	assert_int_equal(get(fx, DEV, "rx-gro"), 0);
	assert_int_equal(set(fx, DEV, "rx-gro", true), 0);
	assert_int_equal(get(fx, DEV, "rx-gro"), 1);
	assert_int_equal(get(fx, PEER, "rx-gro"), 0); /* the peer is its own device */
	assert_int_equal(set(fx, DEV, "rx-gro", true), 0); /* already on */
	assert_int_equal(get(fx, DEV, "rx-gro"), 1);
	assert_int_equal(set(fx, DEV, "rx-gro", false), 0);
	assert_int_equal(get(fx, DEV, "rx-gro"), 0);
}

static void udp_gro_forwarding(void **state)
{
	struct fx *fx = *state;

	SKIP_UNLESS_ROOT();
	assert_int_equal(get(fx, DEV, "rx-udp-gro-forwarding"), 0);
	assert_int_equal(set(fx, DEV, "rx-udp-gro-forwarding", true), 0);
	assert_int_equal(get(fx, DEV, "rx-udp-gro-forwarding"), 1);
	assert_int_equal(get(fx, DEV, "rx-gro"), 0); /* untouched */
	assert_int_equal(set(fx, DEV, "rx-udp-gro-forwarding", false), 0);
	assert_int_equal(get(fx, DEV, "rx-udp-gro-forwarding"), 0);
}

/* "loopback" is off and fixed on veth (`ethtool -k`: "off [fixed]"). */
static void fixed_feature(void **state)
{
	struct fx *fx = *state;

	SKIP_UNLESS_ROOT();
	assert_int_equal(get(fx, DEV, "loopback"), 0);
	assert_int_equal(set(fx, DEV, "loopback", true), -EOPNOTSUPP);
	assert_int_equal(get(fx, DEV, "loopback"), 0);
	assert_int_equal(set(fx, DEV, "loopback", false), 0); /* already so */
}

/* TSO needs a checksum offload: with tx-checksum-ip-generic off the kernel
 * records a request for tx-tcp-segmentation but does not turn it on. The
 * setter says so and withdraws the request, or turning the checksum back on
 * would turn TSO on behind the caller's back. */
static void wish_not_taken_is_withdrawn(void **state)
{
	struct fx *fx = *state;

	SKIP_UNLESS_ROOT();
	assert_int_equal(get(fx, DEV, "tx-tcp-segmentation"), 1);
	assert_int_equal(set(fx, DEV, "tx-tcp-segmentation", false), 0);
	assert_int_equal(set(fx, DEV, "tx-checksum-ip-generic", false), 0);
	assert_int_equal(set(fx, DEV, "tx-tcp-segmentation", true), -EOPNOTSUPP);
	assert_int_equal(get(fx, DEV, "tx-tcp-segmentation"), 0);
	assert_int_equal(set(fx, DEV, "tx-checksum-ip-generic", true), 0);
	assert_int_equal(get(fx, DEV, "tx-tcp-segmentation"), 0);
	/* and with the checksum on it takes */
	assert_int_equal(set(fx, DEV, "tx-tcp-segmentation", true), 0);
	assert_int_equal(get(fx, DEV, "tx-tcp-segmentation"), 1);
}

static void unknown_feature_and_device(void **state)
{
	struct fx *fx = *state;

	SKIP_UNLESS_ROOT();
	assert_int_equal(get(fx, DEV, "rx-no-such-feature"), -ENOENT);
	assert_int_equal(set(fx, DEV, "rx-no-such-feature", true), -ENOENT);
	/* ethtool -k's older name for rx-gro is not a kernel name */
	assert_int_equal(get(fx, DEV, "generic-receive-offload"), -ENOENT);
	assert_int_equal(get(fx, DEV, ""), -ENOENT);
	assert_int_equal(get(fx, "rtvet9", "rx-gro"), -ENODEV);
	assert_int_equal(set(fx, "rtvet9", "rx-gro", true), -ENODEV);
	/* the test's own namespace has no such device either */
	assert_int_equal(rtv_ethtool_feature_get(DEV "x", "rx-gro"), -ENODEV);
	assert_int_equal(get(fx, "", "rx-gro"), -EINVAL);
	assert_int_equal(get(fx, "a-name-far-too-long", "rx-gro"), -EINVAL);
	assert_int_equal(get(fx, NULL, "rx-gro"), -EINVAL);
	assert_int_equal(get(fx, DEV, NULL), -EINVAL);
}

static void driver_name(void **state)
{
	struct fx *fx = *state;
	struct call c = { .op = DRIVER, .dev = DEV, .driver_len = 32 };

	SKIP_UNLESS_ROOT();
	assert_int_equal(in_ns(fx, &c), 0);
	assert_string_equal(c.driver, "veth");
	c.driver_len = 4; /* "veth" and its NUL need 5 */
	assert_int_equal(in_ns(fx, &c), -ENOSPC);
	c.dev = "rtvet9";
	c.driver_len = 32;
	assert_int_equal(in_ns(fx, &c), -ENODEV);
}

/* ---- journaled ---- */

static void journaled_set_then_undo(void **state)
{
	struct fx *fx = *state;
	size_t mark;

	SKIP_UNLESS_ROOT();
	mark = rtv_journal_mark();
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-gro", true), 0);
	assert_int_equal(rtv_journal_mark(), mark + 1);
	assert_int_equal(get(fx, DEV, "rx-gro"), 1);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(get(fx, DEV, "rx-gro"), 0);
	assert_int_equal(rtv_journal_mark(), mark);

	/* from on to off, and back to on */
	assert_int_equal(set(fx, DEV, "rx-udp-gro-forwarding", true), 0);
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-udp-gro-forwarding",
							   false),
			 0);
	assert_int_equal(get(fx, DEV, "rx-udp-gro-forwarding"), 0);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(get(fx, DEV, "rx-udp-gro-forwarding"), 1);

	/* two entries, undone newest first, each to its own old value */
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-gro", true), 0);
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, PEER, "rx-gro", true), 0);
	assert_int_equal(rtv_journal_mark(), mark + 2);
	assert_int_equal(rtv_journal_undo_to(mark), 2);
	assert_int_equal(get(fx, DEV, "rx-gro"), 0);
	assert_int_equal(get(fx, PEER, "rx-gro"), 0);
	assert_int_equal(warnings, 0);
}

static void journaled_nothing_to_change(void **state)
{
	struct fx *fx = *state;
	size_t mark;

	SKIP_UNLESS_ROOT();
	mark = rtv_journal_mark();
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-gro", false), 0);
	assert_int_equal(rtv_journal_mark(), mark);
	assert_int_equal(set(fx, DEV, "rx-gro", true), 0);
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-gro", true), 0);
	assert_int_equal(rtv_journal_mark(), mark);
	/* a fixed feature already at the value is nothing to change either */
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "loopback", false), 0);
	assert_int_equal(rtv_journal_mark(), mark);
}

/* Failures record nothing, and change nothing. */
static void journaled_failures(void **state)
{
	struct fx *fx = *state;
	size_t mark;

	SKIP_UNLESS_ROOT();
	mark = rtv_journal_mark();
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "loopback", true),
			 -EOPNOTSUPP);
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-nope", true), -ENOENT);
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, "rtvet9", "rx-gro", true),
			 -ENODEV);
	assert_int_equal(rtv_ethtool_feature_set_journaled("rtv-et-none", DEV, "rx-gro", true),
			 -ENOENT);
	assert_int_equal(rtv_ethtool_feature_set_journaled("", DEV, "rx-gro", true), -EINVAL);
	assert_int_equal(rtv_ethtool_feature_set_journaled("-", DEV, "rx-gro", true), -EINVAL);
	assert_int_equal(rtv_journal_mark(), mark);
	assert_int_equal(get(fx, DEV, "loopback"), 0);
	assert_int_equal(warnings, 0);
}

/* Undo counts a device or a namespace that went away as done. */
static void undo_when_gone(void **state)
{
	struct fx *fx = *state;
	struct call del = { .op = LINK_DEL, .dev = DEV };
	char path[64];
	size_t mark;

	SKIP_UNLESS_ROOT();
	mark = rtv_journal_mark();
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-gro", true), 0);
	assert_int_equal(in_ns(fx, &del), 0); /* the peer goes with it */
	assert_int_equal(rtv_journal_undo_to(mark), 0); /* gone: dropped */
	assert_int_equal(rtv_journal_mark(), mark);
	assert_int_equal(warnings, 0);

	/* again with the pair back, then the whole namespace gone */
	del.op = VETH_ADD;
	assert_int_equal(in_ns(fx, &del), 0);
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, PEER, "rx-gro", true), 0);
	snprintf(path, sizeof(path), "%s/%s", RTV_NETNS_DIR, fx->ns);
	assert_int_equal(umount2(path, MNT_DETACH), 0);
	assert_int_equal(unlink(path), 0);
	assert_false(rtv_netns_exists(fx->ns));
	assert_int_equal(rtv_journal_undo_to(mark), 0); /* gone: dropped */
	assert_int_equal(rtv_journal_mark(), mark);
	assert_int_equal(warnings, 0);
}

/* With no journal open nothing is changed. The setup's entries are kept
 * over the close (so that the namespace stays), then undone by hand. */
static void journaled_needs_journal(void **state)
{
	struct fx *fx = *state;

	SKIP_UNLESS_ROOT();
	assert_int_equal(rtv_journal_keep_from(0, "test"), 0);
	rtv_journal_close();
	assert_true(rtv_netns_exists(fx->ns));
	assert_int_equal(rtv_ethtool_feature_set_journaled(fx->ns, DEV, "rx-gro", true), -EBADF);
	assert_int_equal(get(fx, DEV, "rx-gro"), 0);
	assert_int_equal(rtv_journal_open(fx->jdir, NULL), 0);
	assert_int_equal(rtv_journal_undo_all(), 1);
	assert_false(rtv_netns_exists(fx->ns));
	assert_int_equal(warnings, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(gro_off_by_default_then_on_and_off, setup, teardown),
		cmocka_unit_test_setup_teardown(udp_gro_forwarding, setup, teardown),
		cmocka_unit_test_setup_teardown(fixed_feature, setup, teardown),
		cmocka_unit_test_setup_teardown(wish_not_taken_is_withdrawn, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_feature_and_device, setup, teardown),
		cmocka_unit_test_setup_teardown(driver_name, setup, teardown),
		cmocka_unit_test_setup_teardown(journaled_set_then_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(journaled_nothing_to_change, setup, teardown),
		cmocka_unit_test_setup_teardown(journaled_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(undo_when_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(journaled_needs_journal, setup, teardown),
	};

	return cmocka_run_group_tests_name("ethtool", tests, NULL, NULL);
}
