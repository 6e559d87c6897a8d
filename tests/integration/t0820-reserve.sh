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
# Groups on the host's cgroup hierarchy (v1 here: cpu and cpuset mounted
# under /sys/fs/cgroup/<controller>): --cgroup sets CFS and RT bandwidth,
# read back, and with --cpus an exclusive cpuset that is a root domain (a
# thread pinned to it can have SCHED_DEADLINE only then); --container on a
# testbed container with a process in it (its cgroups and namespace, as the
# testbed spawns them; no OCI runtime needed): its processes move into the
# reserved cpu cgroup and a spinner there gets no more than its bandwidth;
# --kthreads on the threaded NAPI kthread of its device. Every one is undone,
# the files read back as they were.
. "$(dirname "$0")/lib.sh"

pids=()
rpid=
CG=/sys/fs/cgroup
GRP=rtvnet-t0820
cleanup() {
	[ -n "$rpid" ] && kill -9 "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	"$RTVNET" -q revert >/dev/null 2>&1
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for c in cpu cpuset; do
		[ -d "$CG/$c/$GRP" ] || continue
		while read -r p; do echo "$p" >"$CG/$c/cgroup.procs"; done <"$CG/$c/$GRP/cgroup.procs"
		rmdir "$CG/$c/$GRP"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

[ -e /run/rtvnet/journal ] && [ -s /run/rtvnet/journal ] && skip "needs a-clean-host: rtvnet has changes in place"
sleep 600 & s1=$!; pids+=("$s1")
sleep 600 & s2=$!; pids+=("$s2")
renice -n 5 -p "$s1" >/dev/null || die "renice"

sched() { chrt -p "$1" | sed 's/^pid [0-9]*.s //'; ps -o ni= -p "$1"; }
# the cgroup files a reservation may change, as NAME=VALUE lines
cgfiles() {
	local d f
	for d in "$@"; do
		for f in "$d"/cpu.cfs_quota_us "$d"/cpu.cfs_period_us "$d"/cpu.rt_runtime_us \
			"$d"/cpu.rt_period_us "$d"/cpuset.cpus "$d"/cpuset.cpu_exclusive \
			"$d"/cpuset.sched_load_balance; do
			[ -e "$f" ] && echo "$f=$(cat "$f")"
		done
	done
}
snapshot() {
	sched "$s1"; sched "$s2"
	cat /run/rtvnet/journal 2>/dev/null
	ls /run/rtvnet/apply 2>/dev/null
	ls "$CG/cpu" "$CG/cpuset" | grep rtv
	cgfiles "$CG/cpu" "$CG/cpuset"
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
if [ "$ncpu" -gt 4 ]; then
	skip_section "needs at most 4 CPUs: $ncpu ksoftirqd threads at 99% fit under the limit only then"
else
	# ncpu+1 kernel threads of one name would be needed; use the ksoftirqd
	# threads: one per CPU, each at 99% of a CPU: over ncpu x 0.95
	expect 1 "$RTVNET" reserve --kthreads 'ksoftirqd/*' --runtime 990 --period 1000
	out_has "admission refused: $ncpu threads x runtime 990ms / period 1s"
	out_has "nothing was changed"
	same_as_before "after an admission refusal"
fi

# -- admission refused by the kernel (bandwidth held that rtvnet cannot see) --
if [ "$ncpu" -ne 2 ]; then
	skip_section "needs 2 CPUs: the runtimes below pass rtvnet's test and fail the kernel's only there ($ncpu here)"
else
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

# -- groups: which hierarchy --
if [ -e "$CG/cgroup.controllers" ]; then
	skip_section "needs cgroup v1 cpu and cpuset controllers: this host has cgroup v2 (its logic is tested on a fake tree in test_reserve)"
	exit 0
fi
[ -e "$CG/cpu/cpu.cfs_quota_us" ] && [ -e "$CG/cpuset/cpuset.cpus" ] || {
	skip_section "needs cgroup v1 cpu and cpuset controllers under $CG: $(ls "$CG" | tr '\n' ' ')"
	exit 0
}
rtgroup=0
[ -e "$CG/cpu/cpu.rt_runtime_us" ] && rtgroup=1
[ "$rtgroup" = 1 ] || skip_section "needs CONFIG_RT_GROUP_SCHED: no cpu.rt_runtime_us; RT bandwidth of groups not checked"
[ "$ncpu" -ge 2 ] || die "the cpuset sections need 2 CPUs"
# dl_ok PID: whether PID may have SCHED_DEADLINE now (set, then reset). The
# kernel checks the root domain of the CPU the task last ran on, and a
# sleeping task moves to its new CPUs only when it wakes: wake it first.
dl_ok() {
	kill -STOP "$1"; kill -CONT "$1"
	chrt -d --sched-runtime 1000000 --sched-deadline 10000000 --sched-period 10000000 -p 0 "$1" \
		2>/dev/null || return 1
	chrt -o -p 0 "$1"
}
# cpu_pct PID SECONDS: PID's CPU time over SECONDS, in % of one CPU
cpu_pct() {
	local a b
	a=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	sleep "$2"
	b=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	echo $(( (b - a) * 100 / $(getconf CLK_TCK) / $2 ))
}

# -- --cgroup on v1: CFS and RT bandwidth, an exclusive cpuset as a root domain --
for c in cpu cpuset; do mkdir "$CG/$c/$GRP" || die "mkdir $CG/$c/$GRP"; done
echo 0 >"$CG/cpuset/$GRP/cpuset.mems"
echo "$((ncpu - 1))" >"$CG/cpuset/$GRP/cpuset.cpus"
sleep 600 & s3=$!; pids+=("$s3")
echo "$s3" >"$CG/cpuset/$GRP/cgroup.procs"
echo "$s3" >"$CG/cpu/$GRP/cgroup.procs"
# pinned by a plain cpuset, it cannot have SCHED_DEADLINE: no root domain of its own
dl_ok "$s3" && die "SCHED_DEADLINE allowed to a thread pinned without a root domain"
remember_host
expect 2 "$RTVNET" reserve --cgroup "$GRP" --runtime 500us --period 10
out_has "cgroup CPU bandwidth needs 1ms <= runtime"
same_as_before "after a refused --cgroup"
expect 0 "$RTVNET" reserve --cgroup "$CG/cpu/$GRP" --runtime 3 --period 20 --cpus "$((ncpu - 1))"
out_has "reserved cgroup=$GRP runtime=3ms period=20ms cpus=$((ncpu - 1))"
cgfiles "$CG/cpu/$GRP" "$CG/cpuset/$GRP" "$CG/cpuset" >"$TMP/grp"
for want in "cpu/$GRP/cpu.cfs_quota_us=3000" "cpu/$GRP/cpu.cfs_period_us=20000" \
	"cpuset/$GRP/cpuset.cpus=$((ncpu - 1))" "cpuset/$GRP/cpuset.cpu_exclusive=1" \
	"cpuset/$GRP/cpuset.sched_load_balance=1" "cpuset/cpuset.sched_load_balance=0"; do
	grep -qx "$CG/$want" "$TMP/grp" || { cat "$TMP/grp" >&2; die "--cgroup: not $want"; }
done
if [ "$rtgroup" = 1 ]; then
	grep -qx "$CG/cpu/$GRP/cpu.rt_runtime_us=3000" "$TMP/grp" &&
		grep -qx "$CG/cpu/$GRP/cpu.rt_period_us=20000" "$TMP/grp" ||
		{ cat "$TMP/grp" >&2; die "--cgroup: RT bandwidth not 3000us every 20000us"; }
fi
dl_ok "$s3" || die "--cpus: the exclusive cpuset is not a root domain (SCHED_DEADLINE refused)"
grep -qE "^reserve [0-9]+ 0 0 file $CG/cpuset/cpuset.sched_load_balance " /run/rtvnet/journal || die "not kept"
expect 0 "$RTVNET" revert
same_as_before "after --cgroup --cpus and revert"
dl_ok "$s3" && die "SCHED_DEADLINE still allowed after revert: the root domain is left"
for c in cpu cpuset; do echo "$s3" >"$CG/$c/cgroup.procs"; rmdir "$CG/$c/$GRP" || die "rmdir $c/$GRP"; done

# -- --container on v1: a testbed container with processes in it --
remember_host
expect 0 "$RTVNET" testbed up --streams 1
# in_container HOST CMD...: start CMD in HOST's cgroups and namespace, as
# the testbed spawns its processes; its pid in $cpid
in_container() {
	local h=$1; shift
	(
		echo "$BASHPID" >"$CG/cpuset/rtvnet/$h/cgroup.procs"
		echo "$BASHPID" >"$CG/cpuacct/rtvnet/$h/cgroup.procs"
		[ -d "$CG/cpu/rtvnet/$h" ] && echo "$BASHPID" >"$CG/cpu/rtvnet/$h/cgroup.procs"
		exec ip netns exec "rtv-$h" "$@"
	) &
	cpid=$!
	pids+=("$cpid")
	sleep 0.2
}
in_container rts sleep 600; c1=$cpid
[ "$rtgroup" = 1 ] && chrt -f -p 10 "$c1"
grep -q '^[0-9]*:cpu:/$' "/proc/$c1/cgroup" || die "a testbed process should start in the root cpu cgroup"
tb_snapshot() { sched "$c1"; grep ':cpu:' "/proc/$c1/cgroup"; ls "$CG/cpu" | grep rtv; cgfiles "$CG/cpu" "$CG/cpuset"; }
tb_snapshot >"$TMP/tb.before"
expect 2 "$RTVNET" reserve --container nosuch --runtime 2 --period 10
out_has "no testbed container 'nosuch'"
"$RTVNET" reserve --container rts --runtime 2 --period 10 --duration 30 >"$TMP/bg" 2>&1 &
rpid=$!
for _ in $(seq 100); do grep -q holding "$TMP/bg" && break; sleep 0.1; done
grep -q holding "$TMP/bg" || { cat "$TMP/bg" >&2; die "reserve --container did not start"; }
grep -q ':cpu:/rtvnet/rts$' "/proc/$c1/cgroup" || die "--container: not moved: $(cat "/proc/$c1/cgroup")"
cgfiles "$CG/cpu/rtvnet/rts" >"$TMP/grp"
grep -qx "$CG/cpu/rtvnet/rts/cpu.cfs_quota_us=2000" "$TMP/grp" &&
	grep -qx "$CG/cpu/rtvnet/rts/cpu.cfs_period_us=10000" "$TMP/grp" ||
	{ cat "$TMP/grp" >&2; die "--container: CFS bandwidth"; }
if [ "$rtgroup" = 1 ]; then
	grep -qx "$CG/cpu/rtvnet/rts/cpu.rt_runtime_us=2000" "$TMP/grp" &&
		grep -qx "$CG/cpu/rtvnet/rts/cpu.rt_period_us=10000" "$TMP/grp" ||
		{ cat "$TMP/grp" >&2; die "--container: RT bandwidth"; }
	chrt -p "$c1" | grep -q SCHED_FIFO || die "--container: its SCHED_FIFO process lost its policy"
fi
# in force: a spinner started in the container now joins the reserved group
# and gets at most 2 ms every 10 ms (20% of a CPU; unreserved it takes ~100%)
in_container rts sh -c 'while :; do :; done'; spin=$cpid
grep -q ':cpu:/rtvnet/rts$' "/proc/$spin/cgroup" || die "a new process in the container did not join its cpu cgroup"
pct=$(cpu_pct "$spin" 2)
echo "container spinner (SCHED_OTHER): ${pct}% of a CPU with 2ms/10ms"
[ "$pct" -le 30 ] || die "--container: a spinner used ${pct}% of a CPU, over its 20% bandwidth"
[ "$pct" -ge 5 ] || die "--container: a spinner got ${pct}% of a CPU: starved"
if [ "$rtgroup" = 1 ]; then
	chrt -f -p 20 "$spin" || die "SCHED_FIFO refused in the reserved group"
	pct=$(cpu_pct "$spin" 2)
	echo "container spinner (SCHED_FIFO 20): ${pct}% of a CPU with 2ms/10ms of RT runtime"
	[ "$pct" -le 30 ] || die "--container: a SCHED_FIFO spinner used ${pct}% of a CPU, over 20%"
	[ "$pct" -ge 5 ] || die "--container: a SCHED_FIFO spinner got ${pct}%: starved"
fi
kill -9 "$spin"; wait "$spin" 2>/dev/null
kill "$rpid"; wait "$rpid"; st=$?; rpid=
[ "$st" -eq 0 ] || { cat "$TMP/bg" >&2; die "a held --container reserve exited $st"; }
tb_snapshot | diff -u "$TMP/tb.before" - >&2 || die "container not restored after --duration"

# -- --container --cpus: an exclusive cpuset needs the other containers off those CPUs --
last=$((ncpu - 1))
expect 1 "$RTVNET" reserve --container rts --runtime 2 --period 10 --cpus "$last"
out_has "cannot make cpuset '$CG/cpuset/rtvnet/rts' exclusive"
out_has "what was done is undone"
tb_snapshot | diff -u "$TMP/tb.before" - >&2 || die "container changed by a refusal"
for h in rtc s1c s1s; do echo "0-$((last - 1))" >"$CG/cpuset/rtvnet/$h/cpuset.cpus"; done
tb_snapshot >"$TMP/tb.before"
# -- and a threaded NAPI kthread carrying its traffic (veth: GRO on gives a NAPI) --
ip netns exec rtv-rts ethtool -K rtvs0 gro on >/dev/null || die "cannot turn GRO on for rtvs0"
ip netns exec rtv-rts sh -c 'echo 1 >/sys/class/net/rtvs0/threaded' || die "threaded NAPI on rtvs0"
napi=$(ps -eo pid=,comm= | awk '$2 ~ /^napi\/rtvs0-/ { print $1; exit }')
[ -n "$napi" ] || die "no napi/rtvs0-* kthread with threaded NAPI on"
napi_before=$(sched "$napi")
"$RTVNET" reserve --container rts --kthreads 'napi/rtvs0-*' --runtime 2 --period 10 --cpus "$last" \
	--duration 30 >"$TMP/bg" 2>&1 &
rpid=$!
for _ in $(seq 100); do grep -q holding "$TMP/bg" && break; sleep 0.1; done
grep -q holding "$TMP/bg" || { cat "$TMP/bg" >&2; die "reserve --container --kthreads did not start"; }
grep -q "reserved container=rts kthreads=napi/rtvs0-\* runtime=2ms period=10ms cpus=$last" "$TMP/bg" ||
	{ cat "$TMP/bg" >&2; die "--container --kthreads: output"; }
chrt -p "$napi" | grep -q "SCHED_DEADLINE" && chrt -p "$napi" | grep -q "2000000/10000000/10000000" ||
	die "--kthreads: napi kthread $napi: $(chrt -p "$napi")"
cgfiles "$CG/cpuset/rtvnet/rts" "$CG/cpuset/rtvnet" "$CG/cpuset" >"$TMP/grp"
for want in "rtvnet/rts/cpuset.cpus=$last" "rtvnet/rts/cpuset.cpu_exclusive=1" \
	"rtvnet/cpuset.cpu_exclusive=1" "rtvnet/cpuset.sched_load_balance=0" "cpuset.sched_load_balance=0"; do
	grep -qx "$CG/cpuset/$want" "$TMP/grp" || { cat "$TMP/grp" >&2; die "--container --cpus: not $want"; }
done
taskset -p "$c1" | grep -q "mask: $(printf '%x' $((1 << last)))\$" || die "not pinned: $(taskset -p "$c1")"
dl_ok "$c1" || die "--container --cpus: not a root domain (SCHED_DEADLINE refused in it)"
[ "$rtgroup" = 1 ] && chrt -f -p 10 "$c1"
grep -q ':cpu:/rtvnet/rts$' "/proc/$c1/cgroup" || die "--container: not moved"
kill "$rpid"; wait "$rpid"; st=$?; rpid=
[ "$st" -eq 0 ] || { cat "$TMP/bg" >&2; die "a held --container --kthreads reserve exited $st"; }
[ "$(sched "$napi")" = "$napi_before" ] || die "napi kthread not restored: $(sched "$napi")"
tb_snapshot | diff -u "$TMP/tb.before" - >&2 || die "container not restored after --cpus"

# kept until revert, which undoes it, and the testbed (kept entries) with it
expect 0 "$RTVNET" reserve --container rts --runtime 2 --period 10
out_has "kept until 'rtvnet revert'"
grep -q ':cpu:/rtvnet/rts$' "/proc/$c1/cgroup" || die "--container: not moved"
grep -qE "^reserve [0-9]+ 0 0 cgmove $CG/cpu/rtvnet/rts $CG/cpu\$" /run/rtvnet/journal || die "the move is not kept"
expect 0 "$RTVNET" revert
for _ in $(seq 50); do ip netns list | grep -q '^rtv-' || break; sleep 0.1; done
same_as_before "after --container and revert"
exit 0
