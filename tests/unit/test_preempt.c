/* Unit tests for lib/host/preempt.c against a fake debugfs tree (a
 * directory passed as the root): the file's text parsed, the current model
 * read, the journaled switch (its entry, the write, undo switching back,
 * nothing recorded when already so, errors recording nothing), and the
 * reasons given for a kernel that refuses or lacks the switch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/journal.h"
#include "host/preempt.h"

#include "fixture.h"

static void parse(void **state)
{
	char m[16];

	(void)state;
	assert_int_equal(rtv_preempt_parse("none voluntary (full) lazy\n", m, sizeof(m)), 0);
	assert_string_equal(m, "full");
	assert_int_equal(rtv_preempt_parse("(none) voluntary full\n", m, sizeof(m)), 0);
	assert_string_equal(m, "none");
	assert_int_equal(rtv_preempt_parse("lazy\n", m, sizeof(m)), 0);
	assert_string_equal(m, "lazy");
	assert_int_equal(rtv_preempt_parse("none voluntary full\n", m, sizeof(m)), -EINVAL);
	assert_int_equal(rtv_preempt_parse("none (voluntary", m, sizeof(m)), -EINVAL);
	assert_int_equal(rtv_preempt_parse("()", m, sizeof(m)), -EINVAL);
	assert_int_equal(rtv_preempt_parse("", m, sizeof(m)), -EINVAL);
	assert_int_equal(rtv_preempt_parse("(averyveryverylongmodel)", m, sizeof(m)), -EINVAL);
}

/* The fake's file after a write holds the written word alone, which the
 * parser reads as the current model. */
static void switch_and_undo(void **state)
{
	struct rtv_test_tree *t = *state;
	char jdir[128], m[16];
	size_t mark;

	snprintf(jdir, sizeof(jdir), "%s/journal.d", t->root);
	assert_int_equal(rtv_journal_open(jdir, NULL), 0);
	rtv_test_mkdir_in(t->root, "sched");
	rtv_test_put_in(t->root, "sched/preempt", "(none) voluntary full lazy\n");
	assert_int_equal(rtv_preempt_get(t->root, m, sizeof(m)), 0);
	assert_string_equal(m, "none");
	mark = rtv_journal_mark();
	assert_int_equal(rtv_preempt_set_journaled(t->root, "full", m, sizeof(m)), 0);
	assert_string_equal(m, "none");
	assert_int_equal(rtv_journal_mark(), mark + 1);
	assert_int_equal(rtv_preempt_get(t->root, m, sizeof(m)), 0);
	assert_string_equal(m, "full");
	assert_int_equal(rtv_preempt_set_journaled(t->root, "full", NULL, 0), 0); /* already so */
	assert_int_equal(rtv_journal_mark(), mark + 1);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(rtv_preempt_get(t->root, m, sizeof(m)), 0);
	assert_string_equal(m, "none");
	assert_int_equal(rtv_preempt_set_journaled(t->root, "ful l", NULL, 0), -EINVAL);
	assert_int_equal(rtv_preempt_set_journaled(t->root, "", NULL, 0), -EINVAL);
	assert_int_equal(rtv_journal_mark(), mark);
	rtv_journal_close();
}

/* No sched/preempt under a root that is not the real one: -ENOENT, nothing
 * recorded, and a reason a user can act on. */
static void missing(void **state)
{
	struct rtv_test_tree *t = *state;
	char jdir[128], m[16];

	snprintf(jdir, sizeof(jdir), "%s/journal.d", t->root);
	assert_int_equal(rtv_journal_open(jdir, NULL), 0);
	size_t mark = rtv_journal_mark();

	assert_int_equal(rtv_preempt_get(t->root, m, sizeof(m)), -ENOENT);
	assert_int_equal(rtv_preempt_set_journaled(t->root, "full", NULL, 0), -ENOENT);
	assert_int_equal(rtv_journal_mark(), mark);
	rtv_journal_close();
	assert_non_null(strstr(rtv_preempt_why(-ENOENT), "PREEMPT_DYNAMIC"));
	assert_non_null(strstr(rtv_preempt_why(-EPERM), "locked down"));
}

static int setup(void **state)
{
	return rtv_test_tree_setup(state, "preempt");
}

static int teardown(void **state)
{
	return rtv_test_tree_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse),
		cmocka_unit_test_setup_teardown(switch_and_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(missing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
