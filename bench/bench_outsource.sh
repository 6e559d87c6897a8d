#!/bin/bash
# bench_outsource.sh: the costs of RT socket outsourcing (rtvnet outsource).
#
#  1. Control path (bench_outsource, C): socket() answered through the
#     supervisor against a plain socket(), with and without
#     SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, interleaved; its own verdicts.
#  2. Data path: NetRT RTT of `rtvnet netrt server` run under `rtvnet
#     outsource run --netns X` from another namespace A (its socket made in
#     X) against the same server run directly in X, the client in a third
#     namespace C across a veth pair to X, interleaved, REPEATS times each.
#     Target (issue 11): the outsourced server's median p50 and median mean
#     RTT within +-5% of the direct one's. The socket is a plain kernel
#     socket in X either way; only socket() itself was outsourced.
#
# usage: bench/bench_outsource.sh [path/to/rtvnet]   (default build/cli/rtvnet)
# environment: REPEATS (5), SECS (8, measured seconds per run), BLOCKS (30,
# control-path blocks)
#
# Clients on CPU 0, servers (and rtvnet's supervisor and helper) on CPU 1,
# the client spinning between sends (see bench_netrt.sh for why). Needs root,
# iproute2, jq, taskset, nsenter; exits 77 without them. Makes the
# namespaces rtvo-c, rtvo-x, rtvo-a and a veth pair 198.18.252.1/24 (C) -
# 198.18.252.2/24 (X), removed on exit. Exits with the number of targets
# missed.
set -uo pipefail

RTVNET=${1:-build/cli/rtvnet}
REPEATS=${REPEATS:-5}
SECS=${SECS:-8}
BLOCKS=${BLOCKS:-30}
NS_C=rtvo-c
NS_X=rtvo-x
NS_A=rtvo-a
ADDR_C=198.18.252.1
ADDR_X=198.18.252.2
PORT_D=7301
PORT_O=7302

skip() { echo "bench_outsource: skipped: $*" >&2; exit 77; }
die() { echo "FAIL bench_outsource: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in ip jq taskset nsenter awk; do
	command -v "$t" >/dev/null 2>&1 || skip "'$t' not found"
done
[ -x "$RTVNET" ] || die "no rtvnet binary at '$RTVNET' (build first, or pass its path)"
RTVNET=$(realpath "$RTVNET")
BENCH_C=$(dirname "$RTVNET")/../bench/bench_outsource
[ -x "$BENCH_C" ] || die "no '$BENCH_C' (build first)"
for ns in $NS_C $NS_X $NS_A; do
	[ ! -e "/run/netns/$ns" ] || die "namespace '$ns' exists: remove it with 'ip netns del $ns'"
done
if [ "$(nproc)" -ge 2 ]; then
	CPU_C=(taskset -c 0) CPU_S=(taskset -c 1) placement="clients on CPU 0, servers on CPU 1"
else
	CPU_C=() CPU_S=() placement="one CPU: no pinning"
fi

missed=0
echo "== control path: socket() through the supervisor (bench_outsource $BLOCKS)"
"$BENCH_C" "$BLOCKS"
rc=$?
[ "$rc" -eq 77 ] && skip "no seccomp user notification"
[ "$rc" -le 3 ] || die "bench_outsource exited $rc"
missed=$((missed + rc))
echo

TMP=$(mktemp -d /tmp/bench_outsource.XXXXXX)
pids=() client= created=0
cleanup() {
	local p
	[ -n "$client" ] && { kill "$client" 2>/dev/null; wait "$client" 2>/dev/null; }
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	if [ "$created" -eq 1 ]; then
		for ns in $NS_C $NS_X $NS_A; do ip netns del $ns 2>/dev/null; done
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

created=1
for ns in $NS_C $NS_X $NS_A; do ip netns add $ns && ip -n $ns link set lo up || die "cannot add '$ns'"; done
ip link add rtvo-c0 netns $NS_C type veth peer name rtvo-x0 netns $NS_X || die "veth"
ip -n $NS_C addr add $ADDR_C/24 dev rtvo-c0
ip -n $NS_X addr add $ADDR_X/24 dev rtvo-x0
ip -n $NS_C link set rtvo-c0 up && ip -n $NS_X link set rtvo-x0 up || die "link up"

ip netns exec $NS_X "${CPU_S[@]}" "$RTVNET" -q netrt server --port $PORT_D >"$TMP/direct.log" 2>&1 &
pids+=($!)
nsenter --net=/run/netns/$NS_A "${CPU_S[@]}" "$RTVNET" -v outsource run --netns $NS_X -- \
	"$RTVNET" -q netrt server --port $PORT_O >"$TMP/outsourced.log" 2>&1 &
pids+=($!)
sleep 1
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a server did not start: $(cat "$TMP"/*.log)"
done
ss -N $NS_X -uln | grep -q ":$PORT_O\b" || die "the outsourced server's socket is not in $NS_X"
ss -N $NS_A -uln | grep -q ":$PORT_O\b" && die "the outsourced server's socket is in $NS_A"

run_client() { # PORT: p50 p99 mean of rtt in us
	ip netns exec $NS_C "${CPU_C[@]}" "$RTVNET" -q netrt client --target $ADDR_X --port "$1" \
		--interval 1ms --dist const --size 64 --duration $((SECS + 1))s --warmup 1s --spin 1ms \
		--json "$TMP/c.json" >"$TMP/c.log" 2>&1 &
	client=$!
	wait "$client" || die "netrt client failed: $(tail -5 "$TMP/c.log")"
	client=
	jq -r '.result | "\(.rtt_us.p50) \(.rtt_us.p99) \(.rtt_us.mean) \(.lost)"' "$TMP/c.json" ||
		die "cannot read the client's JSON"
}

echo "== data path: netrt server direct in $NS_X vs under 'outsource run --netns $NS_X' from $NS_A"
echo "   client in $NS_C -> $ADDR_X, 64 B at 1000/s, $SECS s measured per run, $REPEATS repeats interleaved"
echo "   $placement; kernel $(uname -r), $(nproc) CPUs; RTT in us"
d50=() d99=() dm=() o50=() o99=() om=()
for i in $(seq 1 "$REPEATS"); do
	for which in direct outsourced; do
		# alternate which goes first
		if { [ "$which" = direct ] && [ $((i % 2)) -eq 1 ]; } || { [ "$which" = outsourced ] && [ $((i % 2)) -eq 0 ]; }; then
			w=direct port=$PORT_D
		else
			w=outsourced port=$PORT_O
		fi
		read -r a b m lost < <(run_client "$port")
		printf "repeat %d  %-10s  p50 %8.3f  p99 %8.3f  mean %8.3f  lost %s\n" "$i" "$w" "$a" "$b" "$m" "$lost"
		if [ "$w" = direct ]; then d50+=("$a") d99+=("$b") dm+=("$m"); else o50+=("$a") o99+=("$b") om+=("$m"); fi
	done
done
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'; }
echo
echo "median over $REPEATS repeats (spread min-max):"
for k in 50 99 m; do
	eval "read -r dmed dlo dhi < <(stats \"\${d$k[@]}\")"
	eval "read -r omed olo ohi < <(stats \"\${o$k[@]}\")"
	label=$([ $k = m ] && echo mean || echo "p$k")
	ratio=$(awk -v o="$omed" -v d="$dmed" 'BEGIN { printf "%.3f", o / d }')
	printf "  %-4s direct %8.3f (%.3f-%.3f)  outsourced %8.3f (%.3f-%.3f)  ratio %s\n" \
		"$label" "$dmed" "$dlo" "$dhi" "$omed" "$olo" "$ohi" "$ratio"
	if [ $k != 99 ]; then
		if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.95 && r <= 1.05) }'; then v=PASS; else v=FAIL; missed=$((missed + 1)); fi
		echo "$v bench_outsource data-path-$label: target outsourced/direct RTT $label ratio 0.95-1.05: measured $ratio ($omed vs $dmed us)"
	fi
done
kill -INT "${pids[1]}"
wait "${pids[1]}"
grep -E "notifications" "$TMP/outsourced.log" | sed 's/^/  outsource supervisor: /'
exit "$missed"
