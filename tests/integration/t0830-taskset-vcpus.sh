#!/usr/bin/env bash
# rtvnet taskset run --vcpus: the analysis's partition runs as one thread per
# vCPU that schedules its tasks inside; with --reserve each vCPU thread holds
# the SCHED_DEADLINE reservation `rtvnet analyze` computed for it; with
# --container the runner lives in a testbed container (its cgroup and network
# namespace), and --net-load runs a TCP stream across the testbed. The host
# is left as found: no testbed, no SCHED_DEADLINE thread, an empty journal.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
command -v chrt >/dev/null || skip "needs chrt: from util-linux"
TS=$(dirname "$0")/../data/table4.json

snapshot() {
	ip netns list | grep -c '^rtv-'
	ps -eLo cls= | grep -c DLN
	cat /run/rtvnet/journal 2>/dev/null
	ls /sys/fs/cgroup/cpuset/rtvnet /sys/fs/cgroup/rtvnet 2>/dev/null
}
remember_host
[ -z "$(ip netns list | grep '^rtv-')" ] || skip "needs a-clean-host: a testbed is up"

# the interfaces analyze computes (its defaults: least-bw, RM)
expect 0 "$RTVNET" analyze "$TS" --cpus 2 --json "$TMP/a.json"

# -- reserved vCPUs inside the RT server's container --
"$RTVNET" taskset run "$TS" --vcpus 2 --reserve --reserve-margin 0 --work cpu-time \
	--container rts --duration 2 --json "$TMP/r.json" >"$TMP/r.log" 2>&1 &
rpid=$!
# wait for the vCPU threads, then read them while they run
for _ in $(seq 50); do
	[ "$(ps -eLo comm= | grep -c '^vcpu-')" -eq 2 ] && break
	sleep 0.1
done
sleep 0.3
ps -eLo pid=,tid=,comm= | awk '$3 ~ /^vcpu-/ {print $1, $2}' >"$TMP/vcpus"
[ "$(wc -l <"$TMP/vcpus")" -eq 2 ] || { cat "$TMP/r.log" >&2; die "expected 2 vCPU threads"; }
: >"$TMP/params"
while read -r pid tid; do
	grep -q ':/rtvnet/rts$' "/proc/$pid/cgroup" || die "vCPU $tid is not in the rts container's cgroup"
	[ "$(ip netns identify "$pid")" = rtv-rts ] || die "vCPU $tid is not in namespace rtv-rts"
	chrt -p "$tid" | grep -q 'SCHED_DEADLINE' || die "vCPU $tid is not SCHED_DEADLINE"
	chrt -p "$tid" | sed -n 's|.*parameters: \([0-9]*\)/\([0-9]*\)/\([0-9]*\)|\1 \2 \3|p' >>"$TMP/params"
done <"$TMP/vcpus"
wait "$rpid" || { cat "$TMP/r.log" >&2; die "the reserved vCPU run failed"; }
# each vCPU thread held exactly the analysis's (Q, P): runtime Q, deadline = period = P
jq -r '.vcpus[] | "\(.runtime_ns) \(.deadline_ns) \(.period_ns)"' "$TMP/a.json" | sort >"$TMP/want"
sort "$TMP/params" >"$TMP/got"
diff -u "$TMP/want" "$TMP/got" >&2 || die "the vCPU reservations are not analyze's"
# the run reports the same partition and interfaces, and every task's jobs
jq -e --slurpfile a "$TMP/a.json" '
	.config.container == "rts" and .config.reserve and .config.sched == "rm" and
	([.config.vcpus[] | [.budget_ms, .period_ms, .reserved_runtime_ns]] ==
	 [$a[0].vcpus[] | [.budget_ms, .period_ms, .runtime_ns]]) and
	([.config.vcpus[].tasks] == [$a[0].vcpus[].tasks])' "$TMP/r.json" >/dev/null ||
	{ jq -c .config "$TMP/r.json" >&2; die "the run's vCPUs differ from analyze's"; }
# releases in [0, 2 s): ceil(2000 / period) jobs per task, each on its vCPU
jq -e '[.tasks[] | .jobs == ((2000 / .period_ms) | ceil)] | all' "$TMP/r.json" >/dev/null ||
	{ jq -c '[.tasks[] | {name, jobs, period_ms}]' "$TMP/r.json" >&2; die "wrong job counts"; }
jq -e '. as $r | [.tasks[] | . as $t | $r.config.vcpus[$t.vcpu].tasks | index($t.name) != null] | all' \
	"$TMP/r.json" >/dev/null || die "tasks[].vcpu disagrees with config.vcpus"
same_as_before "after the reserved vCPU run in a container"

# -- unreserved vCPUs with a TCP stream across the testbed --
expect 0 "$RTVNET" taskset run "$TS" --vcpus 2 --net-load --duration 2 --json "$TMP/n.json"
out_has 'network load: [0-9.]+ Gbit/s'
jq -e '.config.net_load_gbit_s > 0 and .config.container == null and (.config.vcpus | length) == 2' \
	"$TMP/n.json" >/dev/null || { jq -c .config "$TMP/n.json" >&2; die "no network load measured"; }
same_as_before "after the run with network load"

# -- EDF inside one vCPU --
cat >"$TMP/one.json" <<'JSON'
{"tasks":[{"name":"a","wcet_ms":1,"period_ms":10},{"name":"b","wcet_ms":4,"period_ms":20}]}
JSON
expect 0 "$RTVNET" taskset run "$TMP/one.json" --vcpus 1 --sched edf --work cpu-time \
	--duration 1 --json "$TMP/e.json"
jq -e '.config.sched == "edf" and (.config.vcpus | length) == 1 and
	.tasks[0].jobs == 100 and .tasks[1].jobs == 50' "$TMP/e.json" >/dev/null ||
	die "EDF vCPU run: $(jq -c '[.tasks[] | {name, jobs}]' "$TMP/e.json")"

# -- bad input: exit 2, named, nothing changed --
expect 2 "$RTVNET" taskset run "$TS" --vcpus 1
out_has "total utilization 1.400 is above the 1 CPU"
cat >"$TMP/rm.json" <<'JSON'
{"tasks":[{"name":"x","wcet_ms":5,"period_ms":10},{"name":"y","wcet_ms":7,"period_ms":15}]}
JSON
expect 2 "$RTVNET" taskset run "$TMP/rm.json" --vcpus 1 --sched rm
out_has "option '--vcpus': the taskset does not fit on 1 vCPU with least-bw under rm"
expect 2 "$RTVNET" taskset run "$TS" --container nope
out_has "option '--container': 'nope' is not a testbed host name"
expect 2 "$RTVNET" taskset run "$TS" --vcpus 2 --sched fifo
out_has "sched"
same_as_before "after bad input"
exit 0
