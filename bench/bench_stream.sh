#!/bin/bash
# bench_stream.sh: the throughput target of rtvnet's NetStream generator.
#
#   On one veth pair, one TCP stream with rtvnet stream source/sink against
#   one with iperf3, interleaved in one run: rtvnet's median throughput is at
#   least 0.90 times iperf3's.
#
# usage: bench/bench_stream.sh [path/to/rtvnet]     (default build/cli/rtvnet)
# environment: REPEATS (5), SECS (5, seconds per run)
#
# Both are measured at the receiver: iperf3's end.sum_received.bits_per_second
# (from the server), rtvnet's sink total.gbit_s (bytes received over first
# connection to last data). Both write and read 128 KiB at a time. Held equal:
# senders run on CPU 0 and receivers on CPU 1 for both tools (veth delivers in
# the sender's softirq, so the sender's CPU does most of the work); the
# 1-minute load average is noted before each run, since anything else on the
# machine shows up as spread between repeats.
#
# Needs root, iproute2, iperf3, jq, taskset. Exits 77 (skipped) without them.
# Creates the namespaces rtvb-a and rtvb-b and a veth pair with
# 198.18.250.1/24 and .2/24 (RFC 2544 benchmarking range; traffic stays there)
# and removes them on exit, Ctrl-C included. Exit 0 on PASS, 1 on FAIL (the
# verdict line: "PASS|FAIL bench_stream: target ... measured ...").
set -euo pipefail

RTVNET=${1:-build/cli/rtvnet}
REPEATS=${REPEATS:-5}
SECS=${SECS:-5}
NS_A=rtvb-a
NS_B=rtvb-b
ADDR_A=198.18.250.1
ADDR_B=198.18.250.2
PORT_IPERF=5201
PORT_RTV=5301
TARGET=0.90

skip() { echo "bench_stream: skipped: $*" >&2; exit 77; }
die() { echo "bench_stream: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in iperf3 ip jq taskset awk ss; do
	command -v "$t" >/dev/null 2>&1 || skip "'$t' not found"
done
[ -x "$RTVNET" ] || skip "no rtvnet binary at '$RTVNET' (build first, or pass its path)"
RTVNET=$(realpath "$RTVNET")
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer"
[[ "$SECS" =~ ^[1-9][0-9]*$ ]] || die "SECS must be a positive integer"
for ns in $NS_A $NS_B; do
	[ ! -e "/run/netns/$ns" ] || die "namespace '$ns' exists: another bench is running, or remove it with 'ip netns del $ns'"
done

if [ "$(nproc)" -ge 2 ]; then
	CPU_A=(taskset -c 0)
	CPU_B=(taskset -c 1)
	placement="senders on CPU 0, receivers on CPU 1"
else
	CPU_A=()
	CPU_B=()
	placement="one CPU: no pinning"
fi

TMP=$(mktemp -d /tmp/bench_stream.XXXXXX)
created=0
bg= # the receiver running in the background, if any
cleanup() {
	local ns left
	set +e
	if [ -n "$bg" ]; then
		kill -TERM "$bg" 2>/dev/null
		wait "$bg" 2>/dev/null
	fi
	if [ "$created" -eq 1 ]; then
		# whatever is still inside the throwaway namespaces was started here
		for ns in $NS_A $NS_B; do
			mapfile -t left < <(ip netns pids "$ns" 2>/dev/null)
			[ "${#left[@]}" -eq 0 ] || kill -KILL "${left[@]}" 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		done
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

created=1
ip netns add $NS_A
ip netns add $NS_B
ip link add rtvb-va netns $NS_A type veth peer name rtvb-vb netns $NS_B
ip -n $NS_A addr add $ADDR_A/24 dev rtvb-va
ip -n $NS_B addr add $ADDR_B/24 dev rtvb-vb
for ns in $NS_A $NS_B; do
	ip -n "$ns" link set lo up
done
ip -n $NS_A link set rtvb-va up
ip -n $NS_B link set rtvb-vb up

# wait up to 5 s for the background receiver to listen on TCP port $1
wait_listen() {
	local i
	for i in $(seq 50); do
		[ -z "$(ip netns exec $NS_B ss -Hltn "sport = :$1")" ] || return 0
		kill -0 "$bg" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait for the background receiver to end; its exit status
reap() {
	local rc=0
	wait "$bg" || rc=$?
	bg=
	return $rc
}

# one run of each; they set $gbit (no subshell, so that cleanup knows $bg)
iperf3_run() {
	ip netns exec $NS_B "${CPU_B[@]}" iperf3 -s -1 -B $ADDR_B -p $PORT_IPERF \
		>"$TMP/iperf3-server.log" 2>&1 &
	bg=$!
	wait_listen $PORT_IPERF || die "iperf3 -s did not start: $(tail -5 "$TMP/iperf3-server.log")"
	ip netns exec $NS_A "${CPU_A[@]}" iperf3 -c $ADDR_B -p $PORT_IPERF -t "$SECS" -J \
		>"$TMP/iperf3.json" 2>"$TMP/iperf3.err" ||
		die "iperf3 -c failed: $(jq -r '.error // empty' "$TMP/iperf3.json" 2>/dev/null) $(tail -5 "$TMP/iperf3.err")"
	reap || true # a one-off server's status says nothing more than the client's JSON
	gbit=$(jq -er '.end.sum_received.bits_per_second / 1e9' "$TMP/iperf3.json") ||
		die "no end.sum_received.bits_per_second in iperf3's JSON"
}

rtvnet_run() {
	rm -f "$TMP/sink.json"
	ip netns exec $NS_B "${CPU_B[@]}" "$RTVNET" -q stream sink --bind $ADDR_B --port $PORT_RTV \
		--json "$TMP/sink.json" >"$TMP/sink.log" 2>&1 &
	bg=$!
	wait_listen $PORT_RTV || die "rtvnet stream sink did not start: $(tail -5 "$TMP/sink.log")"
	ip netns exec $NS_A "${CPU_A[@]}" "$RTVNET" -q stream source --target $ADDR_B --port $PORT_RTV \
		--duration "$SECS" >"$TMP/source.log" 2>&1 ||
		die "rtvnet stream source failed: $(tail -5 "$TMP/source.log")"
	kill -TERM "$bg"
	reap || die "rtvnet stream sink failed: $(tail -5 "$TMP/sink.log")"
	gbit=$(jq -er '.total.gbit_s' "$TMP/sink.json") || die "no total.gbit_s in the sink's JSON"
}

echo "bench_stream: rtvnet stream vs $(iperf3 --version | awk 'NR == 1 { print $1, $2 }'), one TCP stream"
echo "  veth $NS_A/$ADDR_A -> $NS_B/$ADDR_B, ${SECS} s per run, $REPEATS repeats interleaved"
echo "  $placement; kernel $(uname -r), $(nproc) CPUs; received Gbit/s; load: 1-min average before the run"
echo

ip3=() rtv=()
printf "%-7s %14s %6s %14s %6s\n" repeat "iperf3 Gbit/s" load "rtvnet Gbit/s" load
for i in $(seq 1 "$REPEATS"); do
	load_i=$(cut -d' ' -f1 /proc/loadavg)
	iperf3_run
	a=$gbit
	load_r=$(cut -d' ' -f1 /proc/loadavg)
	rtvnet_run
	b=$gbit
	printf "%-7d %14.2f %6s %14.2f %6s\n" "$i" "$a" "$load_i" "$b" "$load_r"
	ip3+=("$a") rtv+=("$b")
done

# median, min and max of the arguments
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
read -r m_ip3 lo_ip3 hi_ip3 < <(stats "${ip3[@]}")
read -r m_rtv lo_rtv hi_rtv < <(stats "${rtv[@]}")

echo
printf "%-7s %14.2f %6s %14.2f\n" median "$m_ip3" "" "$m_rtv"
printf "%-7s %14s %6s %14s\n" min-max "$(printf '%.2f-%.2f' "$lo_ip3" "$hi_ip3")" "" \
	"$(printf '%.2f-%.2f' "$lo_rtv" "$hi_rtv")"
ratio=$(awk -v a="$m_rtv" -v b="$m_ip3" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
verdict=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN { print (r >= t) ? "PASS" : "FAIL" }')
echo "ratio of medians (rtvnet / iperf3): $ratio"
echo
echo "$verdict bench_stream: target rtvnet/iperf3 ratio of medians >= $TARGET: measured $ratio (iperf3 $m_ip3, rtvnet $m_rtv Gbit/s)"
[ "$verdict" = PASS ]
