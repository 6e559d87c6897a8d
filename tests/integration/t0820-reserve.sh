#!/usr/bin/env bash
# rtvnet reserve on throwaway sleeping processes: bad input exits 2 and
# changes nothing; --dry-run changes nothing; a thread gets SCHED_DEADLINE
# (read back with chrt -p), kept until `rtvnet revert`, which restores its
# policy and nice value; --duration holds and undoes it; kill -9 in the
# middle, then `rtvnet revert` restores; admission refusals (ours before any
# change, the kernel's after) exit 1 with the explanation and nothing changed.
# --from takes vCPU K's reservation from `rtvnet analyze --json` output
# (partitioned and global, on Abeni's Table 4 taskset): the thread's
# SCHED_DEADLINE parameters read back equal the file's; a bad file, a
# missing or out-of-range K, a vCPU without tasks and clashing options exit
# 2 with nothing changed.
. "$(dirname "$0")/lib.sh"

pids=()
rpid=
cleanup() {
	[ -n "$rpid" ] && kill -9 "$rpid" 2>/dev/null
	"$RTVNET" -q revert >/dev/null 2>&1
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

[ -e /run/rtvnet/journal ] && [ -s /run/rtvnet/journal ] && skip "needs a-clean-host: rtvnet has changes in place"
sleep 600 & s1=$!; pids+=("$s1")
sleep 600 & s2=$!; pids+=("$s2")
renice -n 5 -p "$s1" >/dev/null || die "renice"

sched() { chrt -p "$1" | sed 's/^pid [0-9]*.s //'; ps -o ni= -p "$1"; }
snapshot() {
	sched "$s1"; sched "$s2"
	cat /run/rtvnet/journal 2>/dev/null
	ls /run/rtvnet/apply 2>/dev/null
}
remember_host
grep -q SCHED_OTHER "$TMP/before" || die "the sleepers should start as SCHED_OTHER"

# -- bad input: exit 2, a message naming it, nothing changed --
expect 2 "$RTVNET" reserve --runtime 1 --period 10
out_has "nothing to reserve"
expect 2 "$RTVNET" reserve --tid "$s1" --pid "$s2" --runtime 1 --period 10
out_has "give one of"
expect 2 "$RTVNET" reserve --tid "$s1" --period 10
out_has "'--runtime' and '--period' are required"
expect 2 "$RTVNET" reserve --tid "$s1" --runtime 20 --period 10
out_has "runtime <= deadline <= period"
expect 2 "$RTVNET" reserve --tid "$s1" --runtime 1 --deadline 20 --period 10
out_has "runtime <= deadline <= period"
expect 2 "$RTVNET" reserve --tid "$s1" --runtime 500ns --period 10
out_has "below the kernel's minimum of 1024ns"
expect 2 "$RTVNET" reserve --tid "$s1" --runtime 10us --period 50us
out_has "outside the kernel's range"
expect 2 "$RTVNET" reserve --tid "$s1" --runtime 1 --period 10 --cpus 0
out_has "'--cpus' pins a group"
expect 2 "$RTVNET" reserve --tid 2147483000 --runtime 1 --period 10
out_has "no thread 2147483000"
expect 2 "$RTVNET" reserve --tid "$s1" --runtime x --period 10
out_has "runtime"
expect 2 "$RTVNET" reserve --cgroup rtvnet-nosuch-t0820 --runtime 2 --period 10
out_has "no cgroup"
expect 2 "$RTVNET" reserve --cgroup ../etc --runtime 2 --period 10
out_has "not a cgroup name"
expect 1 "$RTVNET" reserve --kthreads "rtv-nosuch-*" --runtime 1 --period 10
out_has "no kernel thread matches"
expect 2 "$RTVNET" reserve --tid "$s1" extra --runtime 1 --period 10
out_has "takes no arguments"
same_as_before "after bad input"
expect 0 "$RTVNET" reserve -h
out_has "usage: rtvnet reserve"

# -- dry run --
expect 0 "$RTVNET" reserve --tid "$s1" --runtime 1 --period 10 --dry-run
out_has "would reserve tid=$s1 runtime=1ms period=10ms"
out_has "nothing was changed"
same_as_before "after --dry-run"

# -- kept until revert; revert restores policy and nice --
expect 0 "$RTVNET" reserve --tid "$s1" --runtime 1 --deadline 5 --period 10
out_has "thread $s1: SCHED_DEADLINE runtime 1ms deadline 5ms period 10ms"
out_has "kept until 'rtvnet revert'"
chrt -p "$s1" >"$TMP/chrt"
grep -q "SCHED_DEADLINE" "$TMP/chrt" || die "not SCHED_DEADLINE: $(cat "$TMP/chrt")"
grep -q "1000000/5000000/10000000" "$TMP/chrt" || die "wrong parameters: $(cat "$TMP/chrt")"
grep -qE "^reserve [0-9]+ 0 0 dl $s1 " /run/rtvnet/journal || die "not kept in the journal"
expect 0 "$RTVNET" status
out_has "1 kept"
expect 0 "$RTVNET" revert
out_has "reverted 1 change"
same_as_before "after revert"

# -- a process's threads, held for a duration --
expect 0 "$RTVNET" reserve --pid "$s2" --runtime 2 --period 20 --duration 1
out_has "reserved pid=$s2"
out_has "reverted 1 change"
same_as_before "after --duration"

# -- kill -9 in the middle, then revert --
"$RTVNET" reserve --tid "$s1" --runtime 1 --period 10 --duration 60 >"$TMP/bg" 2>&1 &
rpid=$!
for _ in $(seq 100); do grep -q holding "$TMP/bg" && break; sleep 0.1; done
grep -q holding "$TMP/bg" || { cat "$TMP/bg" >&2; die "reserve did not start"; }
chrt -p "$s1" | grep -q SCHED_DEADLINE || die "not SCHED_DEADLINE while held"
kill -9 "$rpid"; wait "$rpid" 2>/dev/null; rpid=
chrt -p "$s1" | grep -q SCHED_DEADLINE || die "kill -9 should leave it in place"
expect 0 "$RTVNET" revert
out_has "recovered from an earlier run"
same_as_before "after kill -9 and revert"

# -- revert stops a held reservation --
"$RTVNET" reserve --tid "$s1" --runtime 1 --period 10 --duration 60 >"$TMP/bg" 2>&1 &
rpid=$!
for _ in $(seq 100); do grep -q holding "$TMP/bg" && break; sleep 0.1; done
expect 0 "$RTVNET" revert
wait "$rpid"; st=$?; rpid=
[ "$st" -eq 0 ] || { cat "$TMP/bg" >&2; die "a held reserve stopped by revert exited $st"; }
grep -q "reverted 1 change" "$TMP/bg" || { cat "$TMP/bg" >&2; die "did not undo on SIGTERM"; }
same_as_before "after revert of a held reservation"

# -- --from: the reservation of vCPU K computed by `rtvnet analyze --json` --
DATA="$(cd "$(dirname "$0")/../data" && pwd)/table4.json"
[ -r "$DATA" ] || die "missing $DATA"
A="$TMP/partitioned.json" G="$TMP/global.json"
expect 0 "$RTVNET" analyze --cpus 2 --json "$A" "$DATA"
expect 0 "$RTVNET" analyze --global --cpus 4 --json "$G" "$DATA"
# FILE KEY K: vcpus[K].KEY (rtvnet writes one key per line; only vcpus have these)
nth() { grep -o "\"$2\": [0-9]*" "$1" | sed -n "$(($3 + 1))p" | awk '{print $2}'; }
nvcpus=$(grep -c '"runtime_ns"' "$A")
[ "$nvcpus" -ge 2 ] || die "expected 2 vCPUs in $(cat "$A")"
for k in 0 1; do
	rt=$(nth "$A" runtime_ns $k) dl=$(nth "$A" deadline_ns $k) per=$(nth "$A" period_ns $k)
	[ -n "$rt" ] && [ "$rt" -gt 0 ] && [ -n "$per" ] || die "vcpus[$k] of $(cat "$A")"
	expect 0 "$RTVNET" reserve --tid "$s1" --from "$A" --vcpu $k --dry-run
	out_has "vCPU $k of '$A': runtime_ns $rt deadline_ns $dl period_ns $per"
	out_has "nothing was changed"
	same_as_before "after --from --dry-run"
	expect 0 "$RTVNET" reserve --tid "$s1" --from "$A" --vcpu $k
	out_has "the reservation of vCPU $k in '$A'"
	chrt -p "$s1" >"$TMP/chrt"
	grep -q "SCHED_DEADLINE" "$TMP/chrt" || die "--from vCPU $k: not SCHED_DEADLINE: $(cat "$TMP/chrt")"
	grep -q "parameters: $rt/$dl/$per\$" "$TMP/chrt" ||
		die "--from vCPU $k: not $rt/$dl/$per: $(cat "$TMP/chrt")"
	expect 0 "$RTVNET" revert
	out_has "reverted 1 change"
	same_as_before "after --from vCPU $k and revert"
done
# global: vCPU 1 of the even split (8.75 ms every 10 ms), from standard input
[ "$(nth "$G" runtime_ns 1)" = 8750000 ] && [ "$(nth "$G" period_ns 1)" = 10000000 ] ||
	die "global split: $(cat "$G")"
expect 0 "$RTVNET" reserve --tid "$s2" --from - --vcpu 1 <"$G"
out_has "the reservation of vCPU 1 in 'standard input'"
chrt -p "$s2" | grep -q "parameters: 8750000/10000000/10000000$" ||
	die "--from global vCPU 1: $(chrt -p "$s2")"
expect 0 "$RTVNET" revert
same_as_before "after --from global and revert"

# bad input with --from: exit 2, a message naming the file, nothing changed
expect 2 "$RTVNET" reserve --tid "$s1" --from "$A" --vcpu 0 --runtime 1 --period 10
out_has "'--from' takes the runtime, deadline and period from"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$A" --vcpu 0 --period 10
out_has "without '--runtime', '--period'"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$A"
out_has "'--from' needs '--vcpu K'"
expect 2 "$RTVNET" reserve --tid "$s1" --vcpu 0 --runtime 1 --period 10
out_has "'--vcpu' picks a reservation of '--from FILE'"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$A" --vcpu -1
out_has "'--vcpu': '-1' is not a vCPU number"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$A" --vcpu "$nvcpus"
out_has "'$A' has $nvcpus vCPU reservations \(0 to $((nvcpus - 1))\): no vCPU $nvcpus"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$TMP/nosuch.json" --vcpu 0
out_has "cannot read '$TMP/nosuch.json': No such file or directory; nothing was changed"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$TMP" --vcpu 0
out_has "cannot read '$TMP': Is a directory"
head -c 200 "$A" >"$TMP/trunc.json"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$TMP/trunc.json" --vcpu 0
out_has "'$TMP/trunc.json' is not JSON"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$DATA" --vcpu 0
out_has "'$DATA' has no \"vcpus\" array"
echo '{"vcpus": [{"vcpu": 0, "runtime_ns": "7.5ms", "deadline_ns": 11000000, "period_ns": 11000000}]}' >"$TMP/str.json"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$TMP/str.json" --vcpu 0
out_has "vcpus\[0\] has no whole number \"runtime_ns\""
# a task pinned to vCPU 1 leaves vCPU 0 without tasks: budget 0
echo '{"tasks": [{"name": "a", "wcet_ms": 1, "period_ms": 10, "cpu": 1}]}' >"$TMP/pin1.json"
expect 0 "$RTVNET" analyze --cpus 2 --json "$TMP/empty0.json" "$TMP/pin1.json"
expect 2 "$RTVNET" reserve --tid "$s1" --from "$TMP/empty0.json" --vcpu 0
out_has "vCPU 0 has a budget of 0 \(no tasks on it\)"
out_has "nothing was changed"
expect 2 "$RTVNET" reserve --tid 2147483000 --from "$A" --vcpu 0
out_has "no thread 2147483000"
same_as_before "after bad input with --from"

# -- admission refused by rtvnet's test, before any change --
ncpu=$(nproc)
if [ "$ncpu" -le 4 ]; then
	# ncpu+1 kernel threads of one name would be needed; use the ksoftirqd
	# threads: one per CPU, each at 99% of a CPU: over ncpu x 0.95
	expect 1 "$RTVNET" reserve --kthreads 'ksoftirqd/*' --runtime 990 --period 1000
	out_has "admission refused: $ncpu threads x runtime 990ms / period 1s"
	out_has "nothing was changed"
	same_as_before "after an admission refusal"
fi

# -- admission refused by the kernel (bandwidth held that rtvnet cannot see) --
if [ "$ncpu" -eq 2 ]; then
	expect 0 "$RTVNET" reserve --tid "$s1" --runtime 900 --period 1000
	sched "$s2" >"$TMP/s2before"
	cp /run/rtvnet/journal "$TMP/jbefore"
	expect 1 "$RTVNET" reserve --tid "$s2" --runtime 950 --period 1000
	out_has "admission test refused runtime 950ms / period 1s for thread $s2"
	out_has "rtvnet cannot see"
	out_has "nothing was changed"
	sched "$s2" | diff -u "$TMP/s2before" - >&2 || die "refused thread changed"
	cmp -s /run/rtvnet/journal "$TMP/jbefore" || die "journal changed by a refusal"
	expect 0 "$RTVNET" revert
	same_as_before "after the kernel's refusal and revert"
fi
exit 0
