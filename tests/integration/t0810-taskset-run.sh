#!/usr/bin/env bash
# rtvnet taskset run: a small taskset runs for a few seconds; the JSON has
# its fields and about duration/period jobs per task; the SVG is written; an
# rt-app taskset runs too; bad input exits 2 with the position.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"

cat >"$TMP/ts.json" <<'JSON'
{"tasks":[{"name":"fast","wcet_ms":0.5,"period_ms":5},
          {"name":"slow","wcet_ms":2,"period_ms":20,"deadline_ms":15,"cpu":0}]}
JSON
expect 0 "$RTVNET" taskset run "$TMP/ts.json" --duration 3 --json "$TMP/r.json" --svg "$TMP/r.svg"
out_has '^fast +[0-9]+ +[0-9]+ \|'
out_has '^slow '
jq -e '.meta.kernel and .meta.cmdline and .config.duration_s == 3 and (.tasks | length) == 2' \
	"$TMP/r.json" >/dev/null || die "JSON lacks meta/config/tasks"
for f in jobs misses warmup_jobs response_us.p50 response_us.p99 response_us.max \
	response_norm.p50 response_norm.p99 release_latency_us.p50 release_latency_us.p99; do
	jq -e ".tasks[] | .$f | numbers" "$TMP/r.json" >/dev/null || die "JSON lacks tasks[].$f"
done
# releases in [0, 3 s): exactly 600 and 150 jobs unless interrupted
[ "$(jq '.tasks[0].jobs' "$TMP/r.json")" -eq 600 ] || die "fast: $(jq '.tasks[0].jobs' "$TMP/r.json") jobs, expected 600"
[ "$(jq '.tasks[1].jobs' "$TMP/r.json")" -eq 150 ] || die "slow: expected 150 jobs"
# a job ends after at least its WCET; normalized = response / period
jq -e '.tasks[0].response_us.min >= 500 and .tasks[1].response_us.min >= 2000' "$TMP/r.json" >/dev/null ||
	die "a response shorter than its WCET"
jq -e '.tasks[] | (.response_norm.p50 - .response_us.p50 / 1000 / .period_ms) | fabs < 0.01' \
	"$TMP/r.json" >/dev/null || die "normalized response is not response / period"
grep -q '^<svg' "$TMP/r.svg" && grep -q 'fast' "$TMP/r.svg" || die "no SVG CDF"

# rt-app's format, with a priority, a competing CPU hog and a warm-up
cat >"$TMP/rtapp.json" <<'JSON'
{ "global": { "duration": 2, "default_policy": "SCHED_FIFO" },
  "tasks": { "rt": { "priority": 20, "cpus": [0], "run": 1000,
                     "timer": { "ref": "unique", "period": 10000, "mode": "absolute" } } } }
JSON
expect 0 "$RTVNET" taskset run "$TMP/rtapp.json" --duration 2 --warmup 0.5 --load --json "$TMP/a.json"
jq -e '.tasks[0].prio == 20 and .tasks[0].jobs == 150 and .tasks[0].warmup_jobs == 50 and .config.load' \
	"$TMP/a.json" >/dev/null || die "rt-app taskset: $(jq -c '.tasks[0] | {prio, jobs, warmup_jobs}' "$TMP/a.json")"
pgrep -x rtv-hog >/dev/null && die "a CPU hog outlived the run"

# Ctrl-C during the warm-up: nothing was measured, and it says so (exit 1)
timeout --preserve-status -s INT 1 "$RTVNET" taskset run "$TMP/ts.json" --duration 3 \
	--warmup 2 --json "$TMP/w.json" >"$TMP/out" 2>&1
st=$?
[ "$st" -eq 1 ] || { cat "$TMP/out" >&2; die "interrupted in the warm-up: exit $st, expected 1"; }
out_has "interrupted during the warm-up: no job was measured"
[ ! -e "$TMP/w.json" ] || die "interrupted in the warm-up, yet results were written"

# bad input: exit 2, the file and position named
printf '{"tasks":[{"name":"a",' >"$TMP/trunc.json"
expect 2 "$RTVNET" taskset run "$TMP/trunc.json"
out_has "trunc.json: line 1, column 22: "
echo '{"tasks":[{"name":"a","wcet_ms":1,"period_ms":-4}]}' >"$TMP/neg.json"
expect 2 "$RTVNET" taskset run "$TMP/neg.json"
out_has "neg.json: task 0 'a': 'period_ms' is negative"
echo '{"tasks":[{"name":"a","wcet_ms":1,"period_ms":4},{"name":"a","wcet_ms":1,"period_ms":8}]}' >"$TMP/dup.json"
expect 2 "$RTVNET" taskset run "$TMP/dup.json"
out_has "task 1 'a': duplicate name"
echo '{"tasks":[{"name":"a","wcet_ms":9,"period_ms":10},{"name":"b","wcet_ms":9,"period_ms":10}]}' >"$TMP/u.json"
expect 2 "$RTVNET" taskset run "$TMP/u.json" --cpu 0
out_has "total utilization 1.800 is above the 1 CPU"
expect 2 "$RTVNET" taskset run "$TMP/missing.json"
out_has "missing.json: cannot open"
expect 2 "$RTVNET" taskset run
expect 2 "$RTVNET" taskset walk
expect 0 "$RTVNET" taskset run -h
out_has "usage: rtvnet taskset run FILE"

# --reserve: each thread SCHED_DEADLINE for the run, then restored; refused
# with --cpu (a DEADLINE thread cannot be pinned) and above the admission limit
echo '{"tasks":[{"name":"r","wcet_ms":1,"period_ms":10}]}' >"$TMP/r.json"
# (whether jobs then meet their deadlines is bench_protection.sh's question:
# on this VM stolen time can throttle a job now and then)
"$RTVNET" taskset run "$TMP/r.json" --reserve --work cpu-time --duration 2s \
	--json "$TMP/r.out.json" >"$TMP/r.log" 2>&1 &
rpid=$!
sleep 1
dl=$(ps -Lo cls= -p "$rpid" | grep -c DLN)
wait "$rpid" || { cat "$TMP/r.log" >&2; die "--reserve run failed"; }
[ "$dl" -ge 1 ] || die "--reserve: no thread of the run was SCHED_DEADLINE"
jq -e '.config.reserve == true and .tasks[0].jobs == 200' "$TMP/r.out.json" >/dev/null \
	|| { jq . "$TMP/r.out.json" >&2; die "--reserve: wrong results"; }
[ "$(ps -eLo cls= | grep -c DLN)" -eq 0 ] || die "--reserve left a SCHED_DEADLINE thread"
[ ! -s /run/rtvnet/journal ] || die "--reserve left journal entries"
expect 2 "$RTVNET" taskset run "$TMP/r.json" --reserve --cpu 0
out_has "cannot be pinned"
echo '{"tasks":[{"name":"a","wcet_ms":9,"period_ms":10},{"name":"b","wcet_ms":9,"period_ms":10}]}' >"$TMP/big.json"
expect 1 "$RTVNET" taskset run "$TMP/big.json" --reserve --reserve-margin 10
out_has "above the .* this host admits"
exit 0
