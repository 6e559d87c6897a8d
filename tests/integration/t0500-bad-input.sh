#!/usr/bin/env bash
# Bad input: a clear message naming the input, exit 2, and no change to the
# host (the runner compares the host before and after).
. "$(dirname "$0")/lib.sh"
expect 2 "$RTVNET" compare --interval 10ms-1ms
out_has "'--interval'.*minimum 10ms is greater than maximum 1ms"
expect 2 "$RTVNET" compare --duration 0
out_has "'--duration'"
expect 2 "$RTVNET" compare --duration -5s
out_has "'--duration'"
expect 2 "$RTVNET" compare --methods vanilla,frob
out_has "unknown method 'frob'"
expect 2 "$RTVNET" compare --rt-cpu 64
out_has "'--rt-cpu'"
expect 2 "$RTVNET" compare --repeats 0
out_has "'--repeats'"
expect 2 "$RTVNET" compare --repeats 65
out_has "'--repeats': 65 is out of range 1-64"
expect 2 "$RTVNET" compare --warmup 30s --duration 10s
out_has "'--warmup'"
expect 2 "$RTVNET" testbed up --streams 99
out_has "'--streams'"
expect 2 "$RTVNET" testbed sideways
out_has "'sideways' is not one of up, down, status"
expect 2 "$RTVNET" netrt client --target 198.18.0.2 --interval 5ms-1ms
out_has "'--interval'"
expect 2 "$RTVNET" netrt client --target 198.18.0.2 --prio 120 --policy fifo
out_has "'--prio'"
if command -v setpriv >/dev/null; then
	expect 2 setpriv --reuid=65534 --regid=65534 --clear-groups "$RTVNET" compare --quick
	out_has "needs root"
	expect 2 setpriv --reuid=65534 --regid=65534 --clear-groups "$RTVNET" testbed up
	out_has "needs root"
else
	skip_section "needs setpriv: from util-linux, to run as nobody"
fi
# status and revert: bad input exits 2 naming it, and changes nothing (the
# host state around them is the same; run.sh checks it around the test too)
before=$("$RTVNET" status --snapshot)
for args in "status extra" "status --bogus" "status --snapshot=1" "revert now" "revert --bogus" \
	"revert -d 1"; do
	read -r -a a <<<"$args"
	expect 2 "$RTVNET" "${a[@]}"
	out_has "rtvnet ${a[0]}: .*'(${a[1]}|${a[1]%%=*})'"
done
[ "$before" = "$("$RTVNET" status --snapshot)" ] || die "bad input to status or revert changed the host"
echo ok
