/* rtvnet revert: stop a running `rtvnet apply` (which undoes its own changes),
 * then undo every change rtvnet left on the host (a testbed that is up, and
 * whatever a crashed run left; the latter is also undone by the lock
 * step that runs before every host-changing command). */
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "host/journal.h"

const struct rtv_cmd_mode cmd_revert_modes[] = {
	{ NULL, "rtvnet revert", rtv_cli_no_opts },
	{ NULL, NULL, NULL },
};

int cmd_revert(int argc, char **argv)
{
	int err;
	bool done;

	err = rtv_cli_parse_noargs(rtv_cli_no_opts, cmd_revert_modes[0].usage, argc, argv, &done);
	if (err || done)
		return err;
	err = rtv_cli_stop_apply();
	if (err < 0) {
		rtv_cli_error("a running 'rtvnet apply' did not stop: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	if (rtv_cli_host_lock() < 0)
		return RTV_EXIT_FAIL;
	err = rtv_journal_undo_all();
	if (err < 0) {
		rtv_cli_error("could not undo every change: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	printf("reverted %d change%s\n", err, err == 1 ? "" : "s");
	return RTV_EXIT_OK;
}
