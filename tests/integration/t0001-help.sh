#!/usr/bin/env bash
# Every command that `rtvnet help` lists answers -h, and so does each of its
# modes (`rtvnet help --modes CMD`: netrt server, taskset run, ...); each has
# its man page built beside the binary. Unknown commands and options are
# usage errors.
. "$(dirname "$0")/lib.sh"
MANDIR=$(dirname "$RTVNET")
expect 0 "$RTVNET" help
cmds=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' "$TMP/out")
[ "$(echo "$cmds" | wc -w)" -ge 10 ] || die "'rtvnet help' lists too few commands: $cmds"
[ -s "$MANDIR/rtvnet.8" ] || die "no man page $MANDIR/rtvnet.8"
for c in $cmds; do
	expect 0 "$RTVNET" "$c" -h
	out_has "^usage: rtvnet $c"
	[ -s "$MANDIR/rtvnet-$c.8" ] || die "no man page $MANDIR/rtvnet-$c.8 for '$c'"
	"$RTVNET" help --modes "$c" >"$TMP/modes" || die "'rtvnet help --modes $c' failed"
	while read -r m; do
		expect 0 "$RTVNET" "$c" "$m" -h
		out_has "^usage: rtvnet $c $m"
	done <"$TMP/modes"
done
expect 0 "$RTVNET" --help
out_has "compare"
expect 2 "$RTVNET" frobnicate
out_has "'frobnicate' is not an rtvnet command"
expect 2 "$RTVNET" compare --frobnicate
out_has "unknown option '--frobnicate'"
expect 2 "$RTVNET"
echo ok
