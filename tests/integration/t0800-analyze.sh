#!/usr/bin/env bash
# rtvnet analyze on Abeni 2024's Table 4 taskset (tests/data/table4.json):
# the paper's partition pinned gives (7.5 ms, 11 ms) and (27.5 ms, 33 ms);
# global EDF on 2 CPUs gives Θ = 17.5 ms every Π = 10 ms; the JSON has the
# documented shape; the fair servers of a fake debugfs count against the
# admission limit; bad input exits 2. Pure computation: no host change.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
DATA="$(cd "$(dirname "$0")/../data" && pwd)/table4.json"
[ -r "$DATA" ] || die "missing $DATA"

# a fake /proc for the admission check: 0.95 of each CPU
mkdir -p "$TMP/root/proc/sys/kernel"
echo 950000 >"$TMP/root/proc/sys/kernel/sched_rt_runtime_us"
echo 1000000 >"$TMP/root/proc/sys/kernel/sched_rt_period_us"

# the paper's partition, pinned with "cpu"
jq '.tasks |= map(.cpu = (if (.name | IN("t0","t3","t4","t7")) then 0 else 1 end))' "$DATA" >"$TMP/pinned.json"
expect 0 "$RTVNET" analyze --cpus 2 --proc-root "$TMP/root" --json "$TMP/p.json" "$TMP/pinned.json"
out_has "total reserved bandwidth 1.51"
J="$TMP/p.json"
jq -e '.mode == "partitioned" and (.vcpus | length) == 2' "$J" >/dev/null || die "shape: $(cat "$J")"
jq -e '.vcpus[0].budget_ms == 7.5 and .vcpus[0].period_ms == 11' "$J" >/dev/null || die "vCPU 0: $(jq -c '.vcpus[0]' "$J")"
jq -e '.vcpus[1].budget_ms == 27.5 and .vcpus[1].period_ms == 33' "$J" >/dev/null || die "vCPU 1: $(jq -c '.vcpus[1]' "$J")"
jq -e '.vcpus[0].tasks == ["t0","t3","t4","t7"]' "$J" >/dev/null || die "pinned tasks moved"
jq -e '.vcpus[0].runtime_ns == 7500000 and .vcpus[0].deadline_ns == 11000000 and .vcpus[0].period_ns == 11000000' "$J" >/dev/null || die "SCHED_DEADLINE parameters"
jq -e '(.total_bandwidth - 1.515) | fabs < 0.001' "$J" >/dev/null || die "total_bandwidth $(jq .total_bandwidth "$J")"
jq -e '(.overhead - 0.115) | fabs < 0.001' "$J" >/dev/null || die "overhead $(jq .overhead "$J")"
jq -e '.admissible == true and .admission.limit == 1.9' "$J" >/dev/null || die "admission $(jq -c .admission "$J")"
jq -e '.tool == "rtvnet" and (.kernel | type) == "string"' "$J" >/dev/null || die "metadata"

jq -e '.admission.fair_server == 0 and .admission.fair_server_source == "none"' "$J" >/dev/null || die "fair servers in a tree without them: $(jq -c .admission "$J")"

# the fair servers count against the limit, as in `rtvnet reserve`: 0.05 of
# each of 2 CPUs from debugfs leaves room, 0.2 of each does not (1.515 + 0.4 > 1.9)
mkdir -p "$TMP/root/sys/devices/system/cpu"
echo 0-1 >"$TMP/root/sys/devices/system/cpu/online"
fair() {
	for c in 0 1; do
		mkdir -p "$TMP/root/sys/kernel/debug/sched/fair_server/cpu$c"
		echo "$1" >"$TMP/root/sys/kernel/debug/sched/fair_server/cpu$c/runtime"
		echo 1000000000 >"$TMP/root/sys/kernel/debug/sched/fair_server/cpu$c/period"
	done
}
fair 50000000
expect 0 "$RTVNET" analyze --cpus 2 --proc-root "$TMP/root" --json - "$TMP/pinned.json"
jq -e '.admissible == true and .admission.fair_server == 0.1 and .admission.fair_server_source == "debugfs" and .admission.cpus == 2' "$TMP/out" >/dev/null ||
	die "fair servers from debugfs: $(jq -c .admission "$TMP/out")"
fair 200000000
expect 0 "$RTVNET" analyze --cpus 2 --proc-root "$TMP/root" "$TMP/pinned.json"
out_has "SCHED_DEADLINE admission: REFUSED \(1.5150 requested \+ 0.4000 fair servers \(debugfs\), limit 2 CPUs"
rm -r "$TMP/root/sys"

# on one CPU of 0.95 the same reservations are refused
expect 0 "$RTVNET" analyze --cpus 2 --proc-root "$TMP/root" --json - "$TMP/pinned.json"
echo -1 >"$TMP/root/proc/sys/kernel/sched_rt_runtime_us"
expect 0 "$RTVNET" analyze --cpus 2 --proc-root "$TMP/root" --json - "$TMP/pinned.json"
jq -e '.admissible == true and .admission.limit == null' "$TMP/out" >/dev/null || die "no-limit admission"
echo 950000 >"$TMP/root/proc/sys/kernel/sched_rt_runtime_us"

# global EDF: Θ = 17.5 ms every 10 ms on 2 CPUs, split into (8.75, 10)
expect 0 "$RTVNET" analyze --global --cpus 4 --proc-root "$TMP/root" --json - "$DATA"
J="$TMP/out"
jq -e '.mode == "global" and .budget_ms == 17.5 and .period_ms == 10 and .cpus == 2' "$J" >/dev/null || die "global: $(cat "$J")"
jq -e '(.vcpus | length) == 2 and all(.vcpus[]; .budget_ms == 8.75 and .period_ms == 10)' "$J" >/dev/null || die "global split"
jq -e '.total_bandwidth == 1.75 and (.overhead - 0.35 | fabs) < 0.001 and .admissible == true' "$J" >/dev/null || die "global totals"

# every heuristic and scheduler runs and keeps the shape
for h in first-fit best-fit worst-fit least-bw; do
	for s in rm dm edf; do
		expect 0 "$RTVNET" analyze --cpus 2 --heuristic $h --sched $s --proc-root "$TMP/root" --json - "$DATA"
		jq -e '(.vcpus | length) >= 1 and ([.vcpus[].tasks[]] | length) == 10 and .total_bandwidth >= 1.4 and (.admissible | type) == "boolean"' "$TMP/out" >/dev/null ||
			die "$h/$s: $(cat "$TMP/out")"
	done
done
# a fixed period
expect 0 "$RTVNET" analyze --cpus 2 --period 11 --json - "$TMP/pinned.json"
jq -e 'all(.vcpus[]; .period_ms == 11)' "$TMP/out" >/dev/null || die "--period"

# bad input: exit 2 with a message
expect 2 "$RTVNET" analyze --heuristic next-fit "$DATA"
out_has "'--heuristic'"
expect 2 "$RTVNET" analyze --sched fifo "$DATA"
out_has "'--sched'"
expect 2 "$RTVNET" analyze --cpus -1 "$DATA"
out_has "'--cpus'"
expect 2 "$RTVNET" analyze
out_has "no taskset file"
expect 2 "$RTVNET" analyze "$TMP/does-not-exist.json"
echo '{"tasks": [{"name": "a", "wcet_ms": 5, "period_ms": 0}]}' >"$TMP/bad.json"
expect 2 "$RTVNET" analyze "$TMP/bad.json"
echo '{"tasks": [' >"$TMP/trunc.json"
expect 2 "$RTVNET" analyze "$TMP/trunc.json"
# more than the CPUs allow, and a task pinned beyond them
expect 2 "$RTVNET" analyze --cpus 1 "$DATA"
echo '{"tasks": [{"name": "a", "wcet_ms": 1, "period_ms": 10}, {"name": "b", "wcet_ms": 1, "period_ms": 20, "cpu": 3}]}' >"$TMP/pin3.json"
expect 2 "$RTVNET" analyze --cpus 2 "$TMP/pin3.json"
out_has "CPU 3"
expect 0 "$RTVNET" analyze -h
out_has "usage: rtvnet analyze"
echo ok
