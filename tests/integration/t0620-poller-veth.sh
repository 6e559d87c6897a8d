#!/usr/bin/env bash
# lib/methods/poller.c on a real veth NAPI, through tests/unit/poller_tool.
# The receiving veth has GRO and rx-udp-gro-forwarding on, so UDP from a
# local socket takes veth's NAPI; without a poller that NAPI runs in NET_RX
# softirq on the sending CPU. Sender and receiver run on APP_CPU, the
# poller on POLL_CPU.
#  - BUSY (KBP): the napi:napi_poll events of the device (traced in a tracefs
#    instance of our own) come from the poller thread, by pid and comm;
#    NET_RX on both CPUs does not grow with the traffic (against a baseline
#    run without poller); the poller's CPU time is about its wall time; it
#    stops cleanly (thread gone, no fd left).
#  - HYBRID (EE-KBP): without traffic it sleeps (a few % CPU at most) with
#    the frequency low in a fake cpufreq tree; bursts wake it (wake-ups and
#    their latency counted), every packet is delivered; at stop the
#    frequency is high again.
# The pollers run SCHED_FIFO 10 where this process may (KBP: the polling
# thread must not be preempted), else SCHED_OTHER: a busy CPU then takes
# time from the poller and packets go back to softirq, hence the bounds.
# Numbers are printed ("info: ..."); bounds are generous (shared, noisy VM).
# Leaves no namespace, tracefs instance or mount behind.
. "$(dirname "$0")/lib.sh"

BIN=$(dirname "$RTVNET")/../tests/unit
TOOL=${POLLER_TOOL:-$BIN/poller_tool}
NAPI_TOOL=${NAPI_TOOL:-$BIN/napi_tool}
NS_A=rtv-pl-a # receiver, the NAPI
NS_B=rtv-pl-b # sender
DEV_A=rtvpla0
DEV_B=rtvplb0
ADDR_A=10.213.0.1
PORT=5000
APP_CPU=0
POLL_CPU=1
INST=rtv-pl-test
TRACEFS=$TMP/tracefs
created=()
bg=()
mounted=0

cleanup() {
	local p ns
	for p in "${bg[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -d "$TRACEFS/instances/$INST" ]; then
		echo 0 >"$TRACEFS/instances/$INST/events/napi/napi_poll/enable" 2>/dev/null
		rmdir "$TRACEFS/instances/$INST" || echo "warning: cannot remove tracefs instance $INST" >&2
	fi
	[ "$mounted" = 1 ] && umount "$TRACEFS"
	ip -n "$NS_A" link del "$DEV_A" 2>/dev/null
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	# never remove files through a tracefs still mounted
	if mountpoint -q "$TRACEFS"; then
		echo "warning: tracefs still mounted on $TRACEFS" >&2
	else
		rm -rf --one-file-system "$TMP"
	fi
}
trap cleanup EXIT

info() { echo "info: $*"; }
# reap PID: wait for a background job and forget it; returns its status
reap() {
	local p=$1 st i
	wait "$p"
	st=$?
	for i in "${!bg[@]}"; do
		[ "${bg[$i]}" = "$p" ] && unset 'bg[i]'
	done
	return $st
}
# kv KEY FILE [TAG]: the value of KEY=... on the last line starting with TAG
kv() { grep "^${3:-final} " "$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
net_rx() { awk -v c=$((1 + $1)) '$1 == "NET_RX:" { print $(c + 1) }' /proc/softirqs; }
# wait_for FILE REGEX: up to 10 s
wait_for() {
	local i
	for i in $(seq 100); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1" >&2
	die "no /$2/ in '$1'"
}

[ -x "$TOOL" ] || die "'$TOOL' missing: build the unit tests"
[ -x "$NAPI_TOOL" ] || die "'$NAPI_TOOL' missing: build the unit tests"
[ "$(nproc)" -ge 2 ] || skip "needs 2-cpus: an RT CPU and another"
"$TOOL" probe >"$TMP/out" 2>&1 ||
	skip "needs io_uring-napi: io_uring static NAPI tracking (kernel 6.13 or later, io_uring enabled): $(head -n 1 "$TMP/out")"

netns_add "$NS_A" "$NS_B"
ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B" || die "cannot add veth"
for ns in "$NS_A" "$NS_B"; do
	# no IPv6 chatter (DAD, MLD, RS) to wake the hybrid poller
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || die "sysctl in $ns"
done
ip -n "$NS_A" addr add "$ADDR_A/24" dev "$DEV_A" || die "addr"
ip -n "$NS_B" addr add 10.213.0.2/24 dev "$DEV_B" || die "addr"
ip -n "$NS_A" link set "$DEV_A" up || die "link up"
ip -n "$NS_B" link set "$DEV_B" up || die "link up"
ip netns exec "$NS_A" ethtool -K "$DEV_A" gro on rx-udp-gro-forwarding on >/dev/null 2>&1 ||
	skip "needs veth-gro: cannot turn on GRO and rx-udp-gro-forwarding on veth"
ifindex=$(ip -n "$NS_A" -o link show "$DEV_A" | cut -d: -f1)
ip netns exec "$NS_A" "$NAPI_TOOL" list "$ifindex" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; die "napi_tool list"; }
napi=$(grep -m 1 '^id=' "$TMP/out" | sed 's/^id=\([0-9]*\).*/\1/')
[ -n "$napi" ] || { cat "$TMP/out" >&2; die "$DEV_A has no NAPI with GRO on"; }
info "NAPI of $DEV_A: $napi"

mkdir -p "$TRACEFS"
# tracefs is one instance wherever it is mounted: a mount of our own leaves
# /sys/kernel/tracing as it was
mount -t tracefs nodev "$TRACEFS" 2>/dev/null || skip "needs tracefs: cannot mount it"
mounted=1
[ -d "$TRACEFS/events/napi/napi_poll" ] || skip "needs tracefs: no napi:napi_poll tracepoint"
[ -e "$TRACEFS/instances/$INST" ] && die "tracefs instance '$INST' exists already: remove it first"
mkdir "$TRACEFS/instances/$INST" || die "cannot make tracefs instance '$INST'"
EV=$TRACEFS/instances/$INST/events/napi/napi_poll
# empty polls (work 0) would flood the buffer: the busy loop traces each
echo "work > 0 && dev_name == \"$DEV_A\"" >"$EV/filter" || die "cannot set the trace filter"
echo 1 >"$EV/enable" || die "cannot enable napi:napi_poll"
trace_clear() { : >"$TRACEFS/instances/$INST/trace"; }
# "COMM-PID BUDGET" per poll event with work
trace_polls() {
	grep -v '^#' "$TRACEFS/instances/$INST/trace" |
		awk '{ for (i = 1; i <= NF; i++) if ($i == "budget") print $1, $(i + 1) }'
}

# traffic COUNT INTERVAL [BURST GAP]: send from NS_B on APP_CPU, receive in
# NS_A on APP_CPU; sets got and rx0/rx1 (NET_RX growth on APP_CPU/POLL_CPU)
traffic() {
	local n=$1 a0 a1 b0 b1 rcv
	shift
	ip netns exec "$NS_A" taskset -c "$APP_CPU" "$TOOL" recv "$PORT" 30 "$n" >"$TMP/recv" 2>&1 &
	rcv=$!
	bg+=("$rcv")
	wait_for "$TMP/recv" '^listening'
	a0=$(net_rx "$APP_CPU") b0=$(net_rx "$POLL_CPU")
	ip netns exec "$NS_B" taskset -c "$APP_CPU" "$TOOL" send "$ADDR_A" "$PORT" "$n" "$@" \
		>"$TMP/send" 2>&1 || { cat "$TMP/send" >&2; die "send"; }
	reap "$rcv"
	a1=$(net_rx "$APP_CPU") b1=$(net_rx "$POLL_CPU")
	rx0=$((a1 - a0)) rx1=$((b1 - b0))
	got=$(sed -n 's/^received=\([0-9]*\).*/\1/p' "$TMP/recv")
	[ "$got" = "$n" ] || { cat "$TMP/recv" >&2; die "received ${got:-0} of $n packets"; }
}

# start_poller OUT ARGS...: run the tool in the background, wait until it polls
start_poller() {
	local out=$1
	shift
	"$TOOL" run "$@" >"$out" 2>&1 &
	poller=$!
	bg+=("$poller")
	wait_for "$out" '^started tid='
	tid=$(sed -n 's/^started tid=\([0-9]*\).*/\1/p' "$out")
	[ "$(cat "/proc/$poller/task/$tid/comm" 2>/dev/null)" = "rtv-poll/$POLL_CPU" ] ||
		die "poller thread $tid is not named rtv-poll/$POLL_CPU"
	[ "$(taskset -cp "$tid" | sed 's/.*: //')" = "$POLL_CPU" ] || die "poller thread $tid not pinned to CPU $POLL_CPU"
}

# stop_poller OUT: SIGTERM, the tool stops the poller and reports
stop_poller() {
	local out=$1 st
	kill -TERM "$poller"
	reap "$poller"
	st=$?
	[ "$st" -eq 0 ] || { cat "$out" >&2; die "poller_tool exited $st"; }
	grep -q '^stopped ' "$out" || { cat "$out" >&2; die "no stop report"; }
	[ "$(kv fds_before "$out" stopped)" = "$(kv fds_after "$out" stopped)" ] ||
		{ cat "$out" >&2; die "fds left open after stop"; }
	[ "$(kv threads_before "$out" stopped)" = "$(kv threads_after "$out" stopped)" ] ||
		{ cat "$out" >&2; die "thread left after stop"; }
	[ -d "/proc/$tid" ] && die "poller thread $tid still exists"
	[ "$(kv error "$out")" = 0 ] || die "poller ended with error $(kv error "$out")"
	info "stop took $(($(kv stop_ns "$out" stopped) / 1000)) us"
}

N=2000
GAP=500us
if chrt -f 10 true 2>/dev/null; then
	SCHED=(policy=fifo prio=10)
	MIN_MINE=75 # % of the device's polls done by the poller
else
	SCHED=()
	MIN_MINE=50
	info "SCHED_FIFO not allowed here: pollers run SCHED_OTHER, bounds relaxed"
fi

# -- baseline: no poller, the NAPI runs in softirq on the sending CPU --
trace_clear
traffic "$N" "$GAP"
base_rx0=$rx0 base_rx1=$rx1
base_ev=$(trace_polls | wc -l)
info "baseline, $N packets: NET_RX +$base_rx0 on CPU $APP_CPU, +$base_rx1 on CPU $POLL_CPU;" \
	"$base_ev polls of $DEV_A, by: $(trace_polls | awk '{ print $1 }' | sed 's/-[0-9]*$//' | sort | uniq -c | tr -s ' \n' ' ')"
[ "$base_rx0" -ge $((N / 2)) ] ||
	die "baseline: NET_RX grew by $base_rx0 only for $N packets: veth's NAPI path not taken?"

# -- BUSY --
start_poller "$TMP/busy" busy "$POLL_CPU" 600 "$napi" -- "${SCHED[@]}"
if [ ${#SCHED[@]} -gt 0 ]; then
	chrt -p "$tid" | grep -q SCHED_FIFO || die "poller thread $tid is not SCHED_FIFO"
fi
trace_clear
traffic "$N" "$GAP"
sleep 0.2
stop_poller "$TMP/busy"
polls=$(trace_polls | wc -l)
mine=$(trace_polls | grep -c "^rtv-poll/$POLL_CPU-$tid ")
mine_busy=$(trace_polls | grep -c "^rtv-poll/$POLL_CPU-$tid 8$")
cpu=$(kv cpu_ns "$TMP/busy") wall=$(kv wall_ns "$TMP/busy") calls=$(kv polls "$TMP/busy")
info "busy, $N packets: NET_RX +$rx0 on CPU $APP_CPU, +$rx1 on CPU $POLL_CPU;" \
	"$polls polls of $DEV_A, $mine by the poller ($mine_busy in its busy loop, budget 8);" \
	"others: $(trace_polls | grep -v "^rtv-poll/$POLL_CPU-$tid " | awk '{ print $1, "budget", $2 }' | sed 's/-[0-9]* / /' | sort | uniq -c | tr -s ' \n' ' ')"
info "busy: CPU $((cpu / 1000000)) ms in $((wall / 1000000)) ms wall ($((100 * cpu / wall))%)," \
	"$calls io_uring_enter calls ($((wall / calls / 1000)) us each)"
[ "$polls" -ge $((N / 2)) ] || die "only $polls polls of $DEV_A traced for $N packets"
[ $((100 * mine)) -ge $((MIN_MINE * polls)) ] || die "the poller did $mine of $polls polls (< $MIN_MINE%)"
if [ $((4 * rx0)) -gt "$N" ] || [ $((2 * rx0)) -gt "$base_rx0" ]; then
	die "NET_RX on CPU $APP_CPU grew by $rx0 with the poller (baseline $base_rx0)"
fi
[ $((4 * rx1)) -le "$N" ] || die "NET_RX on the poller's CPU $POLL_CPU grew by $rx1 for $N packets"
[ $((2 * cpu)) -ge "$wall" ] || die "busy poller used $cpu ns of CPU in $wall ns"

# -- HYBRID: a fake cpufreq tree (this VM has none) shows the steps --
CF=$TMP/cpufreq
mkdir -p "$CF/cpu$POLL_CPU/cpufreq"
for f in scaling_governor:userspace cpuinfo_min_freq:800000 cpuinfo_max_freq:3000000 \
	scaling_setspeed:3000000 scaling_max_freq:3000000; do
	echo "${f#*:}" >"$CF/cpu$POLL_CPU/cpufreq/${f%%:*}"
done
setspeed() { cat "$CF/cpu$POLL_CPU/cpufreq/scaling_setspeed"; }
start_poller "$TMP/hybrid" hybrid "$POLL_CPU" 600 "$napi:$NS_A:$DEV_A" -- idle=2ms sample=500ms \
	cpufreq="$CF" "${SCHED[@]}"
[ "$(kv cpufreq "$TMP/hybrid" started)" = 0 ] || die "hybrid poller has no frequency steps on the fake tree"
# idle: 3 s without traffic
sleep 3.2
idle_cpu=$(kv cpu_ns "$TMP/hybrid" sample) idle_wall=$(kv wall_ns "$TMP/hybrid" sample)
info "hybrid, no traffic: CPU $((idle_cpu / 1000)) us in $((idle_wall / 1000000)) ms wall" \
	"($((1000 * idle_cpu / idle_wall)) per mille), sleeps $(kv sleeps "$TMP/hybrid" sample)," \
	"wake-ups $(kv wakeups "$TMP/hybrid" sample), frequency now $(setspeed) kHz"
[ "$idle_wall" -ge 2000000000 ] || die "no sample after 2 s"
[ $((100 * idle_cpu)) -le $((5 * idle_wall)) ] || die "hybrid poller used $idle_cpu ns of CPU in $idle_wall ns while idle"
[ "$(setspeed)" = 800000 ] || die "frequency not lowered while asleep: $(setspeed)"
# traffic: 20 bursts of 10 packets 100 us apart, 50 ms between bursts
trace_clear
traffic 200 100us 10 50ms
sleep 0.5
stop_poller "$TMP/hybrid"
wk=$(kv wakeups "$TMP/hybrid") sl=$(kv sleeps "$TMP/hybrid") fw=$(kv freq_writes "$TMP/hybrid")
mine=$(trace_polls | grep -c "^rtv-poll/$POLL_CPU-$tid ")
info "hybrid, 20 bursts of 10: $got received, wake-ups $wk, sleeps $sl, frames $(kv frames "$TMP/hybrid")," \
	"$mine of $(trace_polls | wc -l) polls by the poller, NET_RX +$rx0 on CPU $APP_CPU, +$rx1 on CPU $POLL_CPU"
info "hybrid: wake-up latency (frame timestamp to thread running) n=$(kv wake_n "$TMP/hybrid")" \
	"p50 $(($(kv wake_p50_ns "$TMP/hybrid") / 1000)) us, p99 $(($(kv wake_p99_ns "$TMP/hybrid") / 1000)) us," \
	"max $(($(kv wake_max_ns "$TMP/hybrid") / 1000)) us; cpufreq writes $fw, frequency at the end $(setspeed) kHz"
[ "$wk" -ge 10 ] || die "only $wk wake-ups for 20 bursts 50 ms apart"
[ "$(kv wake_n "$TMP/hybrid")" -ge 10 ] || die "wake-up latencies not recorded"
[ "$(kv freq_errors "$TMP/hybrid")" = 0 ] || die "cpufreq writes failed"
[ "$fw" -ge $((2 * wk)) ] || die "$fw cpufreq writes for $wk wake-ups"
[ "$(setspeed)" = 3000000 ] || die "frequency not restored to high at stop: $(setspeed)"
echo ok
