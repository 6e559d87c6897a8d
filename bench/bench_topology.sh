#!/usr/bin/env bash
# The testbed's two shapes side by side (issue 11): compare's vanilla and
# dedicated against idle on the host topology (the default: stream sources
# on the non-RT CPUs) and on the direct one with floating sources (the old
# default), interleaved invocation by invocation (host, direct, host, ...),
# REPEATS times, SECONDS each. Prints per shape idle's, vanilla's and
# dedicated's RTT p99 (mean and min-max) and the stream's Gbit/s, and one
# target: the phenomenon (vanilla's p99 / idle's) is smaller on the host
# shape, where the sources' receive work no longer lands on the RT CPU.
#
# usage: bench/bench_topology.sh RTVNET [REPEATS] [SECONDS]
set -uo pipefail
RTVNET=${1:?usage: bench_topology.sh RTVNET [REPEATS] [SECONDS]}
REPEATS=${2:-3}
SECS=${3:-10}
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
mkdir -p results
for r in $(seq "$REPEATS"); do
	for t in host direct; do
		extra=()
		[ "$t" = direct ] && extra=(--topology direct --peer-cpus any)
		"$RTVNET" compare --methods vanilla,dedicated --repeats 1 --duration "${SECS}s" \
			--idle-phase 0 --seed "$r" "${extra[@]}" --json "results/bench-topology-$t-$r.json" \
			>/dev/null || { echo "FAIL bench_topology: compare ($t, repeat $r) failed"; exit 1; }
	done
done
summary() { # SHAPE: one line per method, then "factor F"
	jq -s -r '[.[].runs[]] | group_by(.method)[] |
	  "\(.[0].method) p99 \([.[].rtt_us.p99] | add / length | round) (\([.[].rtt_us.p99] | min | round)-\([.[].rtt_us.p99] | max | round)) us, Gbit/s \(if .[0].stream_gbit_s then ([.[].stream_gbit_s] | add / length | . * 10 | round / 10) else "-" end)"' \
		results/bench-topology-"$1"-*.json | sed "s/^/$1: /"
}
factor() {
	jq -s '[.[].runs[]] | ([.[] | select(.method == "vanilla") | .rtt_us.p99] | add / length) /
	  ([.[] | select(.method == "idle") | .rtt_us.p99] | add / length) | . * 100 | round / 100' \
		results/bench-topology-"$1"-*.json
}
summary host
summary direct
fh=$(factor host)
fd=$(factor direct)
echo "phenomenon (vanilla p99 / idle p99): host $fh, direct $fd"
if awk -v h="$fh" -v d="$fd" 'BEGIN { exit !(h < d) }'; then
	echo "PASS bench_topology phenomenon host/direct: target host's < direct's: measured $fh < $fd"
else
	echo "FAIL bench_topology phenomenon host/direct: target host's < direct's: measured $fh, $fd"
	exit 1
fi
