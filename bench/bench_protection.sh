#!/bin/bash
# bench_protection.sh: the protection target of the reservations.
#
#   With a CPU hog on each CPU (SCHED_OTHER, as a co-located tenant), the
#   taskset tests/data/protection.json (6 ms every 10 ms, 12 ms every 40 ms)
#   misses deadlines as plain SCHED_OTHER threads and misses none when each
#   thread has its SCHED_DEADLINE reservation (runtime WCET + 10%, deadline,
#   period: `rtvnet taskset run --reserve`). Interleaved, REPEATS times. The
#   work is C of CPU time (--work cpu-time), so that a job's work is what its
#   reservation budgets for; the first second of jobs is warm-up (the
#   reservations are given as the threads start).
#
# usage: bench/bench_protection.sh [path/to/rtvnet]    environment: REPEATS (3), SECS (5)
set -uo pipefail
RTVNET=${1:-build/cli/rtvnet}
REPEATS=${REPEATS:-3}
SECS=${SECS:-5}
TS=$(dirname "$0")/../tests/data/protection.json
OUT=${OUT:-results}
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
command -v jq >/dev/null || { echo "skip: needs jq"; exit 77; }

misses() { jq '[.tasks[].misses] | add' "$1"; }
jobs() { jq '[.tasks[].jobs] | add' "$1"; }
plain=0; resv=0; pj=0; rj=0; fail=0
for r in $(seq "$REPEATS"); do
	"$RTVNET" -q taskset run "$TS" --load --no-prio --work cpu-time --warmup 1s --duration "${SECS}s" \
		--json "$OUT/prot-plain-$r.json" >/dev/null || fail=1
	"$RTVNET" -q taskset run "$TS" --load --reserve --work cpu-time --warmup 1s --duration "${SECS}s" \
		--json "$OUT/prot-resv-$r.json" >/dev/null || fail=1
	[ "$fail" -eq 0 ] || { echo "FAIL: a run failed"; exit 1; }
	m1=$(misses "$OUT/prot-plain-$r.json"); m2=$(misses "$OUT/prot-resv-$r.json")
	echo "repeat $r: without reservations $m1 of $(jobs "$OUT/prot-plain-$r.json") jobs missed;" \
	     "with them $m2 of $(jobs "$OUT/prot-resv-$r.json")"
	plain=$((plain + m1)); resv=$((resv + m2))
done
echo "misses over $REPEATS repeats: without reservations $plain, with reservations $resv"
if [ "$plain" -gt 0 ] && [ "$resv" -eq 0 ]; then echo "PASS"; else echo "FAIL"; exit 1; fi
