#!/usr/bin/env bash
# Every subcommand answers -h; unknown commands and options are usage errors.
. "$(dirname "$0")/lib.sh"
for c in compare testbed netrt stream revert; do
	expect 0 "$RTVNET" "$c" -h
	out_has "^usage: rtvnet $c"
done
expect 0 "$RTVNET" --help
out_has "compare"
expect 2 "$RTVNET" frobnicate
out_has "'frobnicate' is not an rtvnet command"
expect 2 "$RTVNET" compare --frobnicate
out_has "unknown option '--frobnicate'"
expect 2 "$RTVNET"
echo ok
