#!/usr/bin/env bash
# rtvnet apply / status / revert on a veth pair in throwaway namespaces (the
# "real host" here): bad input exits 2 and changes nothing; --dry-run prints
# the plan and changes nothing; a device without NAPI is refused with nothing
# changed; separate, busypoll and hybrid apply (NAPIs threaded, kthreads at
# SCHED_FIFO, a poller thread, cpufreq steps on a fake tree) and restore
# every value exactly when they end; a re-apply after link down/up; kill -9
# in the middle, then `rtvnet revert` restores everything.
. "$(dirname "$0")/lib.sh"

TOOL=$(dirname "$RTVNET")/../tests/unit/napi_tool
NS_A=rtv-ap-a
NS_B=rtv-ap-b
DEV_A=rtvap0
DEV_B=rtvap1
created=()
apid=

cleanup() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null
	"$RTVNET" -q revert >/dev/null 2>&1
	ip -n "$NS_A" link del "$DEV_A" 2>/dev/null
	for ns in "${created[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

kver=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
[ "$kver" -ge 6017 ] || skip "needs kernel-6.17: per-NAPI threaded"
[ -x "$TOOL" ] || die "'$TOOL' missing: build the unit tests"
netns_add "$NS_A" "$NS_B"
ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B" || die "veth"
ip -n "$NS_A" addr add 198.19.77.1/24 dev "$DEV_A"
ip -n "$NS_B" addr add 198.19.77.2/24 dev "$DEV_B"
ip -n "$NS_A" link set "$DEV_A" up && ip -n "$NS_B" link set "$DEV_B" up || die "link up"
ip -n "$NS_A" link set lo up
ifindex=$(ip -n "$NS_A" -o link show "$DEV_A" | cut -d: -f1)
last=$(($(nproc) - 1))

# The state apply may change, as text: features, NAPIs (ids masked: they
# change on GRO toggles), napi kthreads with their policy, journal, pollers.
snapshot() {
	ip netns exec "$NS_A" ethtool -k "$DEV_A" | grep -E '^(generic-receive-offload|rx-udp-gro-forwarding):'
	ip netns exec "$NS_A" "$TOOL" list "$ifindex" | sed 's/^id=[0-9]* //'
	ps -eLo comm=,cls=,rtprio= | grep -E "^(napi/$DEV_A|rtv-poll)" | sort
	cat /run/rtvnet/journal 2>/dev/null
	ls /run/rtvnet/apply 2>/dev/null
	cat /proc/sys/net/core/netdev_budget /proc/sys/net/core/dev_weight
	ip netns exec "$NS_B" cat /sys/class/net/"$DEV_B"/queues/rx-0/rps_cpus
}
remember_host

# -- bad input: exit 2, a message naming it, nothing changed --
expect 2 "$RTVNET" apply nosuch --rt-dev "$DEV_A@$NS_A"
out_has "method 'nosuch' is unknown"
expect 2 "$RTVNET" apply prio --rt-dev "$DEV_A@$NS_A"
out_has "method 'prio'"
expect 2 "$RTVNET" apply separate
out_has "'--rt-dev' is required"
expect 2 "$RTVNET" apply separate --rt-dev nosuch0@"$NS_A"
out_has "no device 'nosuch0"
expect 2 "$RTVNET" apply separate --rt-dev "$DEV_A@rtv-ap-none"
out_has "no network namespace 'rtv-ap-none'"
expect 2 "$RTVNET" apply separate --rt-dev "$DEV_A@$NS_A" --rt-cpu 999
out_has "rt-cpu"
expect 2 "$RTVNET" apply separate --rt-dev "$DEV_A@$NS_A" --rt-prio 0
out_has "rt-prio"
expect 2 "$RTVNET" apply separate --rt-dev "$DEV_A@$NS_A" --rt-prio 100
out_has "rt-prio"
expect 2 "$RTVNET" apply separate+steer --rt-dev "$DEV_A@$NS_A"
out_has "option '--nonrt-dev' is required"
expect 2 "$RTVNET" apply steer --rt-dev "$DEV_A@$NS_A" --nonrt-dev "$DEV_B@$NS_B"
out_has "method 'steer' sets no receive path"
same_as_before "after bad input"

# -- a device with no NAPI and no way to get one: refused, nothing changed --
expect 1 "$RTVNET" apply separate --rt-dev "lo@$NS_A"
out_has "has no NAPI"
out_has "nothing was changed"
same_as_before "after a refused apply"

# -- dry run: the plan, no change --
expect 0 "$RTVNET" apply busypoll --rt-dev "$DEV_A@$NS_A" --rt-cpu "$last" --dry-run
out_has "plan for busypoll"
out_has "rx-gro on"
out_has "dry run: nothing was changed"
same_as_before "after a dry run"

# run_apply ARGS...: apply in the background, wait until it is in place
run_apply() {
	"$RTVNET" apply "$@" >"$TMP/apply.out" 2>&1 &
	apid=$!
	for i in $(seq 100); do
		grep -q '^applied ' "$TMP/apply.out" && return 0
		kill -0 "$apid" 2>/dev/null || { cat "$TMP/apply.out" >&2; die "apply $* exited early"; }
		sleep 0.1
	done
	cat "$TMP/apply.out" >&2
	die "apply $* did not come up"
}
stop_apply() {
	kill -TERM "$apid"
	wait "$apid"
	local st=$?
	apid=
	[ "$st" -eq 0 ] || { cat "$TMP/apply.out" >&2; die "apply exited $st on SIGTERM"; }
	grep -q '^reverted ' "$TMP/apply.out" || die "apply did not say it reverted"
}
napi_line() { ip netns exec "$NS_A" "$TOOL" list "$ifindex" | grep -m1 '^id='; }

# -- separate: threaded NAPI, kthread SCHED_FIFO at rt_prio on the RT CPU --
run_apply separate --rt-dev "$DEV_A@$NS_A" --rt-cpu "$last" --rt-prio 42
line=$(napi_line)
[[ $line == *" threaded=1 "* ]] || die "separate: NAPI not threaded: $line"
pid=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' <<<"$line")
[ -n "$pid" ] && [ "$pid" -gt 0 ] || die "separate: no kthread pid in '$line'"
chrt -p "$pid" | grep -q "SCHED_FIFO" || die "separate: kthread $pid not SCHED_FIFO"
chrt -p "$pid" | grep -q "priority: 42" || die "separate: kthread $pid not at priority 42"
[ "$(taskset -cp "$pid" | sed 's/.*: //')" = "$last" ] || die "separate: kthread $pid not on CPU $last"
# the CPU stays shared: short NET_RX rounds; the preemption switch tried
[ "$(cat /proc/sys/net/core/netdev_budget)" -le 32 ] || die "separate: netdev_budget not lowered"
[ "$(cat /proc/sys/net/core/dev_weight)" -le 16 ] || die "separate: dev_weight not lowered"
grep -q "short NET_RX rounds" "$TMP/apply.out" || die "separate: apply did not say it shortened the rounds"
grep -q "preemption model" "$TMP/apply.out" || die "separate: apply did not report the preemption model"
expect 0 "$RTVNET" status
out_has "^applied: separate rt-dev=$DEV_A@$NS_A"
# link down/up recreates the NAPI: the watcher re-applies on the new one
ip -n "$NS_A" link set "$DEV_A" down; ip -n "$NS_A" link set "$DEV_A" up
for i in $(seq 50); do
	line=$(napi_line)
	npid=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' <<<"$line")
	[ -n "$npid" ] && [ "$npid" != "$pid" ] && [ "$npid" -gt 0 ] && \
		chrt -p "$npid" | grep -q "priority: 42" && break
	sleep 0.1
done
[[ $line == *" threaded=1 "* ]] || die "separate: not re-applied after link down/up: $line"
chrt -p "$npid" | grep -q "priority: 42" || die "separate: new kthread $npid not at priority 42"
grep -q "re-applied" "$TMP/apply.out" || die "apply did not report the re-apply"
stop_apply
same_as_before "after separate"

# -- separate+steer: the non-RT device's RPS to the other CPUs, restored --
if [ "$last" -gt 0 ]; then
	run_apply separate+steer --rt-dev "$DEV_A@$NS_A" --nonrt-dev "$DEV_B@$NS_B" --rt-cpu "$last"
	mask=$(ip netns exec "$NS_B" cat /sys/class/net/"$DEV_B"/queues/rx-0/rps_cpus)
	[ "$((16#${mask//,/}))" -eq $(( (1 << last) - 1 )) ] ||
		die "steer: $DEV_B's rps_cpus is '$mask', expected the CPUs below $last"
	grep -q "backlog work steered (RPS)" "$TMP/apply.out" || die "steer: not in the note"
	stop_apply
	same_as_before "after separate+steer"
	run_apply busypoll --shared --rt-dev "$DEV_A@$NS_A" --rt-cpu "$last"
	[ "$(cat /proc/sys/net/core/netdev_budget)" -le 32 ] || die "busypoll --shared: netdev_budget not lowered"
	stop_apply
	same_as_before "after busypoll --shared"
fi

# -- busypoll: an rtv-poll thread on the RT CPU polls the NAPI --
run_apply busypoll --rt-dev "$DEV_A@$NS_A" --rt-cpu "$last"
if grep -q "io_uring-napi" "$TMP/apply.out"; then
	ptid=$(ps -eLo tid=,comm= | awk '$2 ~ /^rtv-poll/ { print $1; exit }')
	[ -n "$ptid" ] || die "busypoll: no rtv-poll thread"
	[ "$(taskset -cp "$ptid" | sed 's/.*: //')" = "$last" ] || die "busypoll: poller not on CPU $last"
else
	skip_section "needs io_uring-napi: busypoll fell back to the busy_poll sysctls, no poller to check"
fi
stop_apply
same_as_before "after busypoll"

# -- hybrid on a fake cpufreq tree: low while idle, restored at the end --
FAKE=$TMP/cpu
mkdir -p "$FAKE/cpu$last/cpufreq"
printf 'schedutil\n' >"$FAKE/cpu$last/cpufreq/scaling_governor"
printf '800000\n' >"$FAKE/cpu$last/cpufreq/cpuinfo_min_freq"
printf '3000000\n' >"$FAKE/cpu$last/cpufreq/cpuinfo_max_freq"
printf '3000000\n' >"$FAKE/cpu$last/cpufreq/scaling_max_freq"
run_apply hybrid --rt-dev "$DEV_A@$NS_A" --rt-cpu "$last" --idle 5ms --cpufreq-root "$FAKE"
out=$(cat "$TMP/apply.out")
[[ $out == *"frequency 800000 kHz while the poller sleeps"* ]] || die "hybrid: no cpufreq step in the plan"
sleep 1 # no traffic: asleep, frequency low
[ "$(cat "$FAKE/cpu$last/cpufreq/scaling_max_freq")" = 800000 ] || \
	die "hybrid: scaling_max_freq is $(cat "$FAKE/cpu$last/cpufreq/scaling_max_freq") while idle"
stop_apply
[ "$(cat "$FAKE/cpu$last/cpufreq/scaling_max_freq")" = 3000000 ] || die "hybrid: frequency not restored"
same_as_before "after hybrid"

# -- kill -9 in the middle, then revert restores every value --
run_apply separate --rt-dev "$DEV_A@$NS_A" --rt-cpu "$last" --rt-prio 43
kill -9 "$apid"; wait "$apid" 2>/dev/null; apid=
napi_line | grep -q " threaded=1 " || die "kill -9: nothing was applied to revert"
expect 0 "$RTVNET" status
out_has "did not finish"
expect 0 "$RTVNET" revert
same_as_before "after kill -9 and revert"

# -- revert stops a running apply, which undoes its changes --
run_apply separate --rt-dev "$DEV_A@$NS_A" --rt-cpu "$last"
expect 0 "$RTVNET" revert
out_has "stopping 'rtvnet apply separate"
wait "$apid"; apid=
same_as_before "after revert of a running apply"
echo "ok"
