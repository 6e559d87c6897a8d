#!/usr/bin/env bash
# Valid extremes are not bad input: 9223372036s (INT64_MAX ns, 292 years)
# makes a deadline that never comes, not one that overflows into the past
# and ends the run at once.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"

# netrt and stream in a network namespace of their own, on loopback
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

# taskset run: its --duration includes the warm-up; with the longest one,
# interrupted after 2 s, the run reports the jobs after its 1 s warm-up
echo '{"tasks":[{"name":"a","wcet_ms":0.2,"period_ms":10}]}' >"$TMP/ts.json"
timeout --preserve-status -s INT 2 "$RTVNET" taskset run "$TMP/ts.json" \
	--duration 9223372036s --warmup 1s --json "$TMP/ts.out.json" >"$TMP/out" 2>&1 ||
	{ cat "$TMP/out" >&2; die "taskset run with a duration of 9223372036s"; }
out_has "interrupted"
jq -e '.tasks[0].jobs > 0 and .tasks[0].warmup_jobs > 0' "$TMP/ts.out.json" >/dev/null ||
	{ cat "$TMP/out" >&2; die "taskset: no jobs after the warm-up"; }
echo ok
