#!/bin/bash
# bench_protection.sh: the protection target of the reservations.
#
#   With a CPU hog on each CPU (SCHED_OTHER, as a co-located tenant), a
#   taskset misses deadlines without reservations and misses none with the
#   reservations rtvnet computes, per vCPU from the analysis and per thread
#   from the WCET.
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
# Targets (each a verdict line; the exit status is the number missed):
#   protection:  vCPUs without reservations miss (> 0), and with the
#                analysis's (Q, P) miss none;
#   per-thread:  threads with `--reserve` (runtime WCET + 10%) miss none;
#   budget:      bench_budget (the simulator): Q misses nothing, Q minus one
#                grid step misses, on every vCPU: the budgets are not
#                over-sized (Q = P would pass protection, not this);
#   consumed:    the CPU time each reserved thread (per-thread and vCPU runs)
#                consumed between about 1.2 s and its end, from
#                /proc/TID/sched se.sum_exec_runtime, is at most its runtime
#                per started period of its reservation (chrt -p), plus one
#                runtime for the period in progress.
# The CPU used by other processes during each run (foreign, % of one CPU)
# is printed beside it: on this shared machine it is what disturbs a run.
#
# usage: bench/bench_protection.sh [path/to/rtvnet]
# environment: REPEATS (3), SECS (5), OUT (results: the runs' JSON),
#              BENCH_BUDGET (build/bench/bench_budget beside rtvnet)
set -uo pipefail
RTVNET=${1:-build/cli/rtvnet}
REPEATS=${REPEATS:-3}
SECS=${SECS:-5}
DATA=$(dirname "$0")/../tests/data
OUT=${OUT:-results}
BENCH_BUDGET=${BENCH_BUDGET:-$(dirname "$RTVNET")/../bench/bench_budget}
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
command -v jq >/dev/null || { echo "skip: needs jq"; exit 77; }
[ -x "$BENCH_BUDGET" ] || { echo "bench_protection: no bench_budget at '$BENCH_BUDGET'"; exit 2; }

misses() { jq '[.tasks[].misses] | add' "$1"; }
jobs() { jq '[.tasks[].jobs] | add' "$1"; }

# "tid runtime_ns period_ns" of every SCHED_DEADLINE thread of process $1
# and its children
dl_params() {
	local tid
	for tid in $(ps -e -L -o pid=,ppid=,tid=,cls= | awk -v p="$1" '($1 == p || $2 == p) && $4 == "DLN" { print $3 }'); do
		chrt -p "$tid" 2>/dev/null | awk -v t="$tid" -F': ' '/runtime\/deadline\/period/ { split($2, a, "/"); print t, a[1], a[3] }'
	done
}
# "tid sum_exec_runtime_ns" of the threads listed in file $1 (one process,
# quick enough for a loaded machine)
dl_exec() {
	awk '/^se.sum_exec_runtime/ { f = FILENAME; sub(/^\/proc\//, "", f); sub(/\/.*/, "", f); printf "%s %.0f\n", f, $3 * 1e6 }' \
		$(awk '{ print "/proc/" $1 "/sched" }' "$1") 2>/dev/null
}

over=0 # reserved threads that consumed more than their reservations allow
run() { # NAME REPEAT ARGS...: one run, its JSON in $OUT/prot-NAME-REPEAT.json
	local name=$1 r=$2 pid t t0 t1 rc=0 f; shift 2
	f="$OUT/prot-$name-$r"
	"$RTVNET" -q taskset run "$@" --work cpu-time --warmup 1s --duration "${SECS}s" \
		--json "$f.json" >/dev/null &
	pid=$!
	if [[ "$name" == *resv ]]; then
		sleep 1.2
		dl_params "$pid" >"$f.dl"
		t0=$(date +%s%N); dl_exec "$f.dl" >"$f.dl0"
		: >"$f.dl1"
		while kill -0 "$pid" 2>/dev/null; do # the last sample with every thread alive
			sleep 0.5
			t=$(date +%s%N); dl_exec "$f.dl" >"$f.dlx"
			[ "$(wc -l <"$f.dlx")" -ne "$(wc -l <"$f.dl")" ] || { mv "$f.dlx" "$f.dl1"; t1=$t; }
		done
		rm -f "$f.dlx"
	fi
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { echo "FAIL bench_protection: run $name $r failed (exit $rc)"; exit 1; }
	[[ "$name" == *resv ]] || return 0
	if [ ! -s "$f.dl" ] || [ "$(wc -l <"$f.dl1")" -ne "$(wc -l <"$f.dl")" ]; then
		echo "FAIL bench_protection: run $name $r: its SCHED_DEADLINE threads not found, or not sampled twice"
		exit 1
	fi
	# allowed: the runtime per period started in [t0, t1], and one more
	join <(sort "$f.dl") <(join <(sort "$f.dl0") <(sort "$f.dl1")) |
		awk -v dt=$((t1 - t0)) -v n="$name" -v r="$r" '{
			q = $2; p = $3; used = $5 - $4; allowed = q * (int(dt / p) + 2)
			printf "  %s %s thread %s: consumed %.1f ms in %.1f ms, allowed %.1f (Q %.2f ms every %.2f ms): %.3f of Q/P\n",
				n, r, $1, used / 1e6, dt / 1e6, allowed / 1e6, q / 1e6, p / 1e6, (used / dt) / (q / p)
			if (used > allowed) bad++ } END { exit bad > 0 }' >>"$OUT/prot-consumed.txt" || over=$((over + 1))
}
declare -A total
modes="thr-plain thr-resv vcpu-plain vcpu-resv vcpu-plain-net vcpu-resv-net"
for m in $modes; do total[$m]=0; done
: >"$OUT/prot-consumed.txt"
gbit=()
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
		line="$line $m $(misses "$f")/$(jobs "$f") ($(jq '.accounting.foreign_pct | . * 10 | round / 10' "$f")%)"
		total[$m]=$((total[$m] + $(misses "$f")))
	done
	for m in vcpu-plain-net vcpu-resv-net; do
		gbit+=("$(jq '.config.net_load_gbit_s' "$OUT/prot-$m-$r.json")")
	done
	echo "$line"
done
echo "(misses/jobs per run, and in brackets the CPU other processes used during it, % of one CPU)"
spread=$(printf '%s\n' "${gbit[@]}" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f-%.1f", v[1], v[NR] }')
echo "misses over $REPEATS repeats, CPU hogs:"
echo "  threads: without reservations ${total[thr-plain]}, with them (WCET + 10%) ${total[thr-resv]}"
echo "  vCPUs:   without reservations ${total[vcpu-plain]}, with the analysis's (Q, P) ${total[vcpu-resv]}"
echo "for the record, a TCP stream across the testbed instead of hogs (Gbit/s per run: ${gbit[*]}; $spread):"
echo "  vCPUs:   without reservations ${total[vcpu-plain-net]}, with them ${total[vcpu-resv-net]}"
echo "CPU time the reserved threads consumed against their reservations:"
cat "$OUT/prot-consumed.txt"
"$BENCH_BUDGET" "$DATA/table4.json" 2 >"$OUT/prot-budget.txt"
budget_rc=$?
cat "$OUT/prot-budget.txt"

failed=0
verdict() { # OK TARGET MEASURED
	if [ "$1" = 1 ]; then echo "PASS bench_protection $2: measured $3"
	else echo "FAIL bench_protection $2: measured $3"; failed=$((failed + 1)); fi
}
ok=$([ "${total[vcpu-plain]}" -gt 0 ] && [ "${total[vcpu-resv]}" -eq 0 ] && echo 1)
verdict "$ok" "vcpus: target unreserved misses > 0 and reserved misses 0" \
	"unreserved ${total[vcpu-plain]}, reserved ${total[vcpu-resv]}"
ok=$([ "${total[thr-resv]}" -eq 0 ] && echo 1)
verdict "$ok" "threads: target 0 misses with per-thread reservations (WCET + 10%)" "${total[thr-resv]}"
ok=$([ "$budget_rc" -eq 0 ] && echo 1)
verdict "$ok" "budget: target Q - one grid step misses in the simulator, Q does not" "see bench_budget above"
ok=$([ "$over" -eq 0 ] && echo 1)
verdict "$ok" "consumed: target every reserved thread within its runtime per period" \
	"$over runs with a thread over"
exit "$failed"
