#!/bin/bash
# bench_netrt.sh: the fidelity target of rtvnet's NetRT probe.
#
#   On one veth path, rtvnet's client/server against Debian's sockperf 3.7
#   ping-pong (--full-rtt), interleaved in one run: median RTT ratio between
#   0.9 and 1.1, p99 ratio between 0.8 and 1.2.
#
# usage: bench/bench_netrt.sh [path/to/rtvnet]     (default build/cli/rtvnet)
# environment: REPEATS (5), SECS (10, measured seconds per run),
#              RTVNET_SPIN (1ms, see below; 0 for a client that sleeps),
#              SOCKPERF_OPTS (extra sockperf ping-pong options, default none)
#
# sockperf ping-pong is closed loop: it sends the next request only after the
# reply to the previous one. rtvnet's client is open loop: it sends on a
# schedule fixed in advance and measures from the intended send time. At
# 1 kHz on an unloaded path every reply comes long before the next send, so
# both see the same round trips and must agree; under stalls they must not
# (sockperf samples a stall once, rtvnet once per request it delayed), which
# is why rtvnet exists. Both send 64-byte payloads at 1000 per second.
#
# Holding the rest equal, idle states above all (a CPU that halts between
# requests adds its wake-up to every round trip):
#  - clients run on CPU 0 and servers on CPU 1, for both tools;
#  - sockperf paces its sends by busy-waiting, so its CPU never sleeps long.
#    A client that sleeps the 1 ms between sends instead lets its CPU halt,
#    and on a VM waking a halted CPU costs about 60-100 us: that would be
#    measured, not the path. So rtvnet's client spins too (--spin, the whole
#    interval by default). RTVNET_SPIN=0 shows the cost of sleeping (on a
#    Firecracker VM: rtt about 2x sockperf's, almost every send late).
#    What is left unequal: while spinning, rtvnet polls for the reply, where
#    sockperf blocks in epoll_wait() for about one round trip; on such a VM
#    that short halt costs sockperf roughly 5-10 us at the median.
#  - sockperf discards its first 400 ms and last 50 ms; rtvnet discards a
#    1 s warm-up (--duration SECS+1 --warmup 1s).
#
# Needs root, iproute2, sockperf, jq, taskset. Exits 77 (skipped) without
# them. Creates the namespaces rtvb-c and rtvb-s and a veth pair with
# 198.18.251.1/24 and .2/24 (RFC 2544 benchmarking range; traffic stays
# there) and removes them on exit. Exit 0 when both targets pass, 1 if not.
set -euo pipefail

RTVNET=${1:-build/cli/rtvnet}
REPEATS=${REPEATS:-5}
SECS=${SECS:-10}
RTVNET_SPIN=${RTVNET_SPIN:-1ms}
read -r -a SOCKPERF_EXTRA <<<"${SOCKPERF_OPTS:-}"
NS_C=rtvb-c
NS_S=rtvb-s
ADDR_C=198.18.251.1
ADDR_S=198.18.251.2
PORT_SP=11111
PORT_RTV=7201

skip() { echo "bench_netrt: skipped: $*" >&2; exit 77; }
die() { echo "bench_netrt: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in sockperf ip jq taskset awk; do
	command -v "$t" >/dev/null 2>&1 || skip "'$t' not found"
done
[ -x "$RTVNET" ] || die "no rtvnet binary at '$RTVNET' (build first, or pass its path)"
RTVNET=$(realpath "$RTVNET")
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer"
[[ "$SECS" =~ ^[1-9][0-9]*$ ]] || die "SECS must be a positive integer"
for ns in $NS_C $NS_S; do
	[ ! -e "/run/netns/$ns" ] || die "namespace '$ns' exists: another bench is running, or remove it with 'ip netns del $ns'"
done

if [ "$(nproc)" -ge 2 ]; then
	CPU_C=(taskset -c 0)
	CPU_S=(taskset -c 1)
	placement="clients on CPU 0, servers on CPU 1"
else
	CPU_C=()
	CPU_S=()
	placement="one CPU: no pinning"
fi

TMP=$(mktemp -d /tmp/bench_netrt.XXXXXX)
created=0
pids=()   # the servers
client=   # the client running now
cleanup() {
	local p
	if [ -n "$client" ]; then
		kill "$client" 2>/dev/null || true
		wait "$client" 2>/dev/null || true
	fi
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$created" -eq 1 ]; then
		ip netns del $NS_C 2>/dev/null || true
		ip netns del $NS_S 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

created=1
ip netns add $NS_C
ip netns add $NS_S
ip link add rtvb-c0 netns $NS_C type veth peer name rtvb-s0 netns $NS_S
ip -n $NS_C addr add $ADDR_C/24 dev rtvb-c0
ip -n $NS_S addr add $ADDR_S/24 dev rtvb-s0
for ns in $NS_C $NS_S; do
	ip -n "$ns" link set lo up
done
ip -n $NS_C link set rtvb-c0 up
ip -n $NS_S link set rtvb-s0 up

ip netns exec $NS_S "${CPU_S[@]}" sockperf server -i $ADDR_S -p $PORT_SP >"$TMP/sockperf-server.log" 2>&1 &
pids+=($!)
ip netns exec $NS_S "${CPU_S[@]}" "$RTVNET" -q netrt server --bind $ADDR_S --port $PORT_RTV \
	>"$TMP/rtvnet-server.log" 2>&1 &
pids+=($!)
sleep 1
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a server did not start: $(cat "$TMP"/*-server.log)"
done

# Run a client in the background and wait for it, so that a signal ends the
# bench at once (bash runs traps only between foreground commands, but
# interrupts `wait`); the client is killed by cleanup.
run_client() {
	local rc=0

	"$@" &
	client=$!
	wait "$client" || rc=$?
	client=
	return $rc
}

# sockperf's percentile lines: "sockperf: ---> percentile 99.000 =  142.749"
sockperf_run() {
	run_client ip netns exec $NS_C "${CPU_C[@]}" sockperf ping-pong -i $ADDR_S -p $PORT_SP --full-rtt \
		--mps=1000 -m 64 -t "$SECS" "${SOCKPERF_EXTRA[@]}" >"$TMP/sp.log" 2>&1 ||
		die "sockperf failed: $(tail -5 "$TMP/sp.log")"
	sed 's/\x1b\[[0-9;]*m//g' "$TMP/sp.log" | awk '
		/percentile 50.000 =/ { p50 = $NF }
		/percentile 99.000 =/ { p99 = $NF }
		/avg-rtt=/ { sub(/.*avg-rtt=/, ""); sub(/ .*/, ""); avg = $0 }
		/\[Valid Duration\]/ { for (i = 1; i <= NF; i++) if ($i ~ /^ReceivedMessages=/) { sub(/.*=/, "", $i); n = $i } }
		/# dropped messages/ { sub(/.*dropped messages = /, ""); sub(/;.*/, ""); drop = $0 }
		END { if (p50 == "" || p99 == "") exit 1; print p50, p99, avg, n, drop }' >"$TMP/sp.txt" ||
		die "cannot parse sockperf's output: $(tail -20 "$TMP/sp.log")"
}

rtvnet_run() {
	run_client ip netns exec $NS_C "${CPU_C[@]}" "$RTVNET" -q netrt client --target $ADDR_S \
		--port $PORT_RTV --interval 1ms --dist const --size 64 --duration $((SECS + 1))s \
		--warmup 1s --spin "$RTVNET_SPIN" --json "$TMP/rtv.json" >"$TMP/rtv.log" 2>&1 ||
		die "rtvnet client failed: $(tail -5 "$TMP/rtv.log")"
	jq -r '.result | "\(.rtt_us.p50) \(.rtt_us.p99) \(.rtt_us.mean) \(.received) \(.lost) \(.service_us.p50) \(.service_us.p99) \(.late) \(.warmup)"' \
		"$TMP/rtv.json" >"$TMP/rtv.txt" || die "cannot read rtvnet's JSON result"
}

echo "bench_netrt: rtvnet netrt vs sockperf $(sockperf --version 2>&1 | awk '/version/ { print $3; exit }') ping-pong --full-rtt"
echo "  veth $NS_C/$ADDR_C <-> $NS_S/$ADDR_S, 64 B at 1000/s, ${SECS} s measured per run, $REPEATS repeats interleaved"
echo "  $placement; rtvnet client --spin $RTVNET_SPIN; sockperf options: ${SOCKPERF_OPTS:-(none)}"
echo "  kernel $(uname -r), $(nproc) CPUs"
echo "  times in us; rtvnet rtt is from the intended send time, service from the actual send"
echo

sp50=() sp99=() rt50=() rt99=()
for i in $(seq 1 "$REPEATS"); do
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	sockperf_run
	read -r a b avg n drop <"$TMP/sp.txt"
	printf "repeat %d  sockperf  load %-14s  p50 %8.3f  p99 %8.3f  avg %8.3f  received %s dropped %s\n" \
		"$i" "$load" "$a" "$b" "$avg" "$n" "$drop"
	sp50+=("$a") sp99+=("$b")

	load=$(cut -d' ' -f1-3 /proc/loadavg)
	rtvnet_run
	read -r a b avg n lost s50 s99 late warm <"$TMP/rtv.txt"
	printf "repeat %d  rtvnet    load %-14s  p50 %8.3f  p99 %8.3f  avg %8.3f  received %s lost %s late %s warm-up %s  (service p50 %.3f p99 %.3f)\n" \
		"$i" "$load" "$a" "$b" "$avg" "$n" "$lost" "$late" "$warm" "$s50" "$s99"
	rt50+=("$a") rt99+=("$b")
done

# median, min and max of the arguments
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
read -r m_sp50 lo_sp50 hi_sp50 < <(stats "${sp50[@]}")
read -r m_sp99 lo_sp99 hi_sp99 < <(stats "${sp99[@]}")
read -r m_rt50 lo_rt50 hi_rt50 < <(stats "${rt50[@]}")
read -r m_rt99 lo_rt99 hi_rt99 < <(stats "${rt99[@]}")

echo
printf "median over %d repeats (spread min-max):\n" "$REPEATS"
printf "  sockperf  p50 %8.3f (%.3f-%.3f)  p99 %8.3f (%.3f-%.3f)\n" \
	"$m_sp50" "$lo_sp50" "$hi_sp50" "$m_sp99" "$lo_sp99" "$hi_sp99"
printf "  rtvnet    p50 %8.3f (%.3f-%.3f)  p99 %8.3f (%.3f-%.3f)\n" \
	"$m_rt50" "$lo_rt50" "$hi_rt50" "$m_rt99" "$lo_rt99" "$hi_rt99"

verdict() { # ratio lo hi
	awk -v r="$1" -v lo="$2" -v hi="$3" 'BEGIN { print (r >= lo && r <= hi) ? "PASS" : "FAIL" }'
}
r50=$(awk -v a="$m_rt50" -v b="$m_sp50" 'BEGIN { printf "%.3f", a / b }')
r99=$(awk -v a="$m_rt99" -v b="$m_sp99" 'BEGIN { printf "%.3f", a / b }')
v50=$(verdict "$r50" 0.9 1.1)
v99=$(verdict "$r99" 0.8 1.2)
echo
echo "$v50 bench_netrt median: target rtvnet/sockperf p50 ratio 0.9-1.1: measured $r50"
echo "$v99 bench_netrt p99: target rtvnet/sockperf p99 ratio 0.8-1.2: measured $r99"
missed=0
[ "$v50" = PASS ] || missed=$((missed + 1))
[ "$v99" = PASS ] || missed=$((missed + 1))
exit "$missed"
