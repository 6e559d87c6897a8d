#!/bin/bash
# bench_protection.sh: the protection target of the reservations.
#
#   With a CPU hog on each CPU (SCHED_OTHER, as a co-located tenant), a
#   taskset misses deadlines without reservations and misses none with the
#   reservations rtvnet computes: the target is judged on the vCPUs, whose
#   reservations come from the analysis; the threads are for comparison.
#   Two forms, each without and with, all interleaved, REPEATS times:
#    - threads (IRMOS per thread): tests/data/protection.json (6 ms every
#      10 ms, 12 ms every 40 ms), a thread per task, plain SCHED_OTHER vs
#      `--reserve` (SCHED_DEADLINE runtime WCET + 10%, deadline, period);
#    - vCPUs (Abeni 4.3): Abeni's Table 4 taskset (U = 1.4) partitioned on 2
#      vCPUs by `rtvnet analyze`'s defaults, each vCPU a thread scheduling its
#      tasks by RM inside; pinned SCHED_OTHER vCPUs vs `--vcpus 2 --reserve
#      --reserve-margin 0`: each vCPU exactly the (Q, P) the analysis gives.
#   Then, for the record and not the target, the vCPU pair under a TCP
#   stream across the testbed instead of the hogs (--net-load): softirq work
#   is charged to whatever thread it interrupts, reservation or not.
#   The work is C of CPU time (--work cpu-time), so that a job's work is what
#   its reservation budgets for; the first second of jobs is warm-up.
#
# usage: bench/bench_protection.sh [path/to/rtvnet]    environment: REPEATS (3), SECS (5)
set -uo pipefail
RTVNET=${1:-build/cli/rtvnet}
REPEATS=${REPEATS:-3}
SECS=${SECS:-5}
DATA=$(dirname "$0")/../tests/data
OUT=${OUT:-results}
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
command -v jq >/dev/null || { echo "skip: needs jq"; exit 77; }

misses() { jq '[.tasks[].misses] | add' "$1"; }
jobs() { jq '[.tasks[].jobs] | add' "$1"; }
run() { # NAME REPEAT ARGS...: one run, its JSON in $OUT/prot-NAME-REPEAT.json
	local name=$1 r=$2; shift 2
	"$RTVNET" -q taskset run "$@" --work cpu-time --warmup 1s --duration "${SECS}s" \
		--json "$OUT/prot-$name-$r.json" >/dev/null || { echo "FAIL: run $name failed"; exit 1; }
}
declare -A total
modes="thr-plain thr-resv vcpu-plain vcpu-resv vcpu-plain-net vcpu-resv-net"
for m in $modes; do total[$m]=0; done
for r in $(seq "$REPEATS"); do
	run thr-plain "$r" "$DATA/protection.json" --load --no-prio
	run thr-resv "$r" "$DATA/protection.json" --load --reserve
	run vcpu-plain "$r" "$DATA/table4.json" --load --vcpus 2
	run vcpu-resv "$r" "$DATA/table4.json" --load --vcpus 2 --reserve --reserve-margin 0
	run vcpu-plain-net "$r" "$DATA/table4.json" --net-load --vcpus 2
	run vcpu-resv-net "$r" "$DATA/table4.json" --net-load --vcpus 2 --reserve --reserve-margin 0
	line="repeat $r:"
	for m in $modes; do
		f="$OUT/prot-$m-$r.json"
		line="$line $m $(misses "$f")/$(jobs "$f")"
		total[$m]=$((total[$m] + $(misses "$f")))
	done
	echo "$line   (misses/jobs)"
done
net=$(jq '.config.net_load_gbit_s' "$OUT/prot-vcpu-resv-net-$REPEATS.json")
echo "misses over $REPEATS repeats, CPU hogs:"
echo "  threads: without reservations ${total[thr-plain]}, with them ${total[thr-resv]}"
echo "  vCPUs:   without reservations ${total[vcpu-plain]}, with the analysis's (Q, P) ${total[vcpu-resv]}"
echo "for the record, a TCP stream across the testbed (${net} Gbit/s in the last run) instead of hogs:"
echo "  vCPUs:   without reservations ${total[vcpu-plain-net]}, with them ${total[vcpu-resv-net]}"
if [ "${total[vcpu-plain]}" -gt 0 ] && [ "${total[vcpu-resv]}" -eq 0 ]; then
	echo "PASS protection: the analysis's reservations kept every deadline under the hogs"
	[ "${total[thr-resv]}" -eq 0 ] || echo "note: per-thread reservations (WCET + 10%) missed ${total[thr-resv]}: a job's budget has 10% for whatever else the kernel charges it"
else
	echo "FAIL"; exit 1
fi
