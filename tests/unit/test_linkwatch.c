/* Unit tests for lib/net/linkwatch.c that need no privilege and change
 * nothing: argument checks, watching devices of the caller's namespace (the
 * loopback, a device that does not exist), a poll with nothing to report,
 * and NULL-safe freeing. Events themselves (link down/up, GRO toggles,
 * filtering, queue overflow) are covered by
 * tests/integration/t0610-napi-reapply.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "net/linkwatch.h"
#include "util/time.h"

static int calls;

static void count(void *arg, const char *netns, const char *dev, bool up)
{
	(void)arg, (void)netns, (void)dev, (void)up;
	calls++;
}

static void test_new_free(void **state)
{
	struct rtv_linkwatch *lw = (struct rtv_linkwatch *)&calls;

	(void)state;
	assert_int_equal(rtv_linkwatch_new(NULL), -EINVAL);
	assert_int_equal(rtv_linkwatch_new(&lw), 0);
	assert_non_null(lw);
	assert_true(rtv_linkwatch_fd(lw) >= 0);
	assert_int_equal(rtv_linkwatch_fd(NULL), -EINVAL);
	rtv_linkwatch_free(lw);
	rtv_linkwatch_free(NULL);
}

static void test_add_rejects_bad_args(void **state)
{
	struct rtv_linkwatch *lw;

	(void)state;
	assert_int_equal(rtv_linkwatch_new(&lw), 0);
	assert_int_equal(rtv_linkwatch_add(NULL, NULL, "lo"), -EINVAL);
	assert_int_equal(rtv_linkwatch_add(lw, NULL, NULL), -EINVAL);
	assert_int_equal(rtv_linkwatch_add(lw, NULL, ""), -EINVAL);
	/* IFNAMSIZ is 16: 15 characters at most */
	assert_int_equal(rtv_linkwatch_add(lw, NULL, "abcdefghijklmnop"), -EINVAL);
	assert_int_equal(rtv_linkwatch_add(lw, NULL, "a/b"), -EINVAL);
	assert_int_equal(rtv_linkwatch_add(lw, "", "lo"), -EINVAL);
	assert_int_equal(rtv_linkwatch_add(lw, "../x", "lo"), -EINVAL);
	/* a namespace that does not exist: nothing is left half-added */
	assert_int_equal(rtv_linkwatch_add(lw, "rtv-lw-no-such-ns", "lo"), -ENOENT);
	assert_int_equal(rtv_linkwatch_poll(lw, -2, count, NULL), -EINVAL);
	assert_int_equal(rtv_linkwatch_poll(NULL, 0, count, NULL), -EINVAL);
	rtv_linkwatch_free(lw);
}

static void test_watch_quiet_devices(void **state)
{
	struct rtv_linkwatch *lw;
	int64_t t0, waited_ns;

	(void)state;
	calls = 0;
	assert_int_equal(rtv_linkwatch_new(&lw), 0);
	/* nothing to watch yet: a poll only waits */
	assert_int_equal(rtv_linkwatch_poll(lw, 0, count, NULL), 0);
	assert_int_equal(rtv_linkwatch_add(lw, NULL, "lo"), 0);
	assert_int_equal(rtv_linkwatch_add(lw, NULL, "lo"), 0); /* a no-op */
	/* absent now, watched by name all the same */
	assert_int_equal(rtv_linkwatch_add(lw, NULL, "rtvlwnodev0"), 0);
	/* the baselines are what is there: no change to report */
	assert_int_equal(rtv_linkwatch_poll(lw, 0, count, NULL), 0);
	t0 = rtv_now_ns();
	assert_int_equal(rtv_linkwatch_poll(lw, 50, count, NULL), 0);
	waited_ns = rtv_now_ns() - t0;
	assert_true(waited_ns >= 45 * RTV_NS_PER_MS); /* epoll rounds up, never down */
	assert_int_equal(rtv_linkwatch_poll(lw, 0, NULL, NULL), 0);
	assert_int_equal(calls, 0);
	rtv_linkwatch_free(lw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_add_rejects_bad_args),
		cmocka_unit_test(test_watch_quiet_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
