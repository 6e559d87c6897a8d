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
fi
# Valid extremes are not bad input: 9223372036s (INT64_MAX ns, 292 years)
# makes a deadline that never comes, not one that overflows into the past
# and ends the run at once. In a network namespace of its own, on loopback.
unshare -n bash -c '
	ip link set lo up
	"$1" netrt server --bind 127.0.0.1 >/dev/null 2>&1 &
	"$1" stream sink --bind 127.0.0.1 --duration 9223372036s >/dev/null 2>&1 &
	sleep 0.3
	"$1" netrt client --target 127.0.0.1 --count 3 --warmup 0 --interval 1ms \
		--duration 9223372036s --timeout 9223372036s || exit 1
	timeout --preserve-status -s INT 1 "$1" stream source --target 127.0.0.1 \
		--duration 9223372036s --interval 9223372036s
	rc=$?
	kill %1 %2
	wait
	exit $rc
' _ "$RTVNET" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; die "a duration of 9223372036s"; }
out_has "sent 3  received 3  lost 0"
secs=$(sed -n 's/^total: .* in \([0-9.]*\) s.*/\1/p' "$TMP/out")
awk -v s="$secs" 'BEGIN { exit !(s >= 0.5) }' || { cat "$TMP/out" >&2; die "stream source ended at once"; }
echo ok
