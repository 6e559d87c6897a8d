#!/bin/bash
# bench_rxpath.sh: the targets of the receive-path methods, in one
# interleaved compare run (idle, prio, dedicated, separate, busypoll, hybrid,
# repeated), and a second run of busypoll with the poller alone on its CPU
# (KBP's placement) to show whose context processes the RT packets.
#
#   busypoll: the poller costs about one core, under load and idle;
#             apart: RT packets polled in the poller's context, no NET_RX
#             on the RT CPU;
#   hybrid:   poller CPU with no traffic <= 2% of a core; p99 under load
#             within 1.3x of busypoll's in the same run;
#   every method: whether its p99 beats prio's and dedicated's (printed,
#             not a target).
# One "PASS|FAIL bench_rxpath ..." line per target; exits with the number of
# targets missed (1 when a compare run fails).
#
# Spread: every figure is the mean over REPEATS with (min-max) across them.
# The napi_poll evidence needs tracefs: mounted here for the run when the host
# has none mounted, and unmounted again at the end.
#
# usage: bench/bench_rxpath.sh [path/to/rtvnet]
# environment: REPEATS (3), SECS (10)
set -uo pipefail

RTVNET=${1:-build/cli/rtvnet}
REPEATS=${REPEATS:-3}
SECS=${SECS:-10}
OUT=${OUT:-results}
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
command -v jq >/dev/null || { echo "skip: needs jq"; exit 77; }

mounted=
if [ ! -d /sys/kernel/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing && mounted=1
fi
trap '[ -n "$mounted" ] && umount /sys/kernel/tracing' EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$RTVNET" -q compare --methods prio,dedicated,separate,busypoll,hybrid --repeats "$REPEATS" \
	--duration "${SECS}s" --json "$OUT/bench-rxpath.json" >"$OUT/bench-rxpath.txt" || exit 1
"$RTVNET" -q compare --methods busypoll,hybrid --poller-apart --repeats "$REPEATS" \
	--duration "${SECS}s" --json "$OUT/bench-rxpath-apart.json" >"$OUT/bench-rxpath-apart.txt" || exit 1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# f FILE METHOD KEY: "mean (min-max)" of a summary field
f() {
	jq -r --arg m "$2" --arg k "$3" '.summary[] | select(.method == $m) |
		"\(.[$k] // "null" | if type == "number" then (. * 10 | round / 10) else . end) (\(.[$k + "_min"] // "-" | if type == "number" then (. * 10 | round / 10) else . end)-\(.[$k + "_max"] // "-" | if type == "number" then (. * 10 | round / 10) else . end))"' "$1"
}
v() { jq -r --arg m "$2" --arg k "$3" '.summary[] | select(.method == $m) | .[$k] // "nan"' "$1"; }

J=$OUT/bench-rxpath.json
A=$OUT/bench-rxpath-apart.json
echo
echo "p99 us, mean (min-max) over $REPEATS repeats, same interleaved run:"
for m in idle prio dedicated separate busypoll hybrid; do
	printf '  %-10s %s\n' "$m" "$(f "$J" "$m" p99_us)"
done
failed=0
# verdict OK TARGET MEASURED: one line, and the count of targets missed
verdict() {
	if [ "$1" = 1 ]; then echo "PASS bench_rxpath $2: measured $3"
	else echo "FAIL bench_rxpath $2: measured $3"; failed=$((failed + 1)); fi
}
# a condition on numbers: 1 when it holds; 0 when not or a value is missing
is() {
	case "$1" in *nan* | *null*) echo 0 ;; *) awk "BEGIN { print ($1) ? 1 : 0 }" ;; esac
}
echo
bl=$(v "$J" busypoll poller_load_cpu_pct); bi=$(v "$J" busypoll poller_idle_cpu_pct)
echo "busypoll poller CPU, % of a core: under load $(f "$J" busypoll poller_load_cpu_pct), no traffic $(f "$J" busypoll poller_idle_cpu_pct)"
echo "busypoll, RT hosts on the poller's CPU: RT polls in softirq $(f "$J" busypoll rt_polls_softirq_pct)%, by the poller $(f "$J" busypoll rt_polls_poller_pct)%; NET_RX on the RT CPU $(f "$J" busypoll rt_cpu_net_rx_per_s)/s"
echo "busypoll, poller apart (KBP):   RT polls in softirq $(f "$A" busypoll rt_polls_softirq_pct)%, by the poller $(f "$A" busypoll rt_polls_poller_pct)%; NET_RX on the RT CPU $(f "$A" busypoll rt_cpu_net_rx_per_s)/s; p99 $(f "$A" busypoll p99_us) us"
pp=$(v "$A" busypoll rt_polls_poller_pct); nr=$(v "$A" busypoll rt_cpu_net_rx_per_s)
hi=$(v "$J" hybrid poller_idle_cpu_pct); hp=$(v "$J" hybrid p99_us); bp=$(v "$J" busypoll p99_us)
echo "hybrid poller CPU with no traffic: $(f "$J" hybrid poller_idle_cpu_pct)% of a core (busypoll: $(f "$J" busypoll poller_idle_cpu_pct)%)"
hr=$(awk -v h="$hp" -v b="$bp" 'BEGIN { printf "%.2f", (b > 0 ? h / b : -1) }')
echo
verdict "$(is "$bl >= 80 && $bi >= 80")" "busypoll cost: target poller >= 80% of a core under load and idle" \
	"under load $bl%, idle $bi%"
verdict "$(is "$pp >= 50 && $nr < 10")" "busypoll apart: target >= 50% of RT polls by the poller, NET_RX on its CPU < 10/s" \
	"poller $pp%, NET_RX $nr/s"
verdict "$(is "$hi <= 2")" "hybrid idle: target poller with no traffic <= 2% of a core" "$hi%"
verdict "$(is "$hr >= 0 && $hr <= 1.3")" "hybrid tail: target p99 <= 1.3x busypoll's" \
	"${hr}x ($hp / $bp us)"
echo
pr=$(v "$J" prio p99_us); de=$(v "$J" dedicated p99_us)
for m in separate busypoll hybrid; do
	x=$(v "$J" "$m" p99_us)
	awk -v m="$m" -v x="$x" -v p="$pr" -v d="$de" 'BEGIN { printf "%-9s p99 %.0f us: %s prio (%.0f), %s dedicated (%.0f)\n", m, x, x < p ? "beats" : "does not beat", p, x < d ? "beats" : "does not beat", d }'
done
exit "$failed"
