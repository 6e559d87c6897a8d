#!/usr/bin/env bash
# Runs every benchmark; each prints its own ratio against a reference measured
# in the same run, and a PASS/FAIL line against its target.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RTVNET="$PWD/$BUILD/cli/rtvnet"
echo "== bench_hist: cost of taking and recording one sample"
"$BUILD/bench/bench_hist"
echo; echo "== bench_analysis: partitioning 100 tasks on 8 vCPUs, global MPR of 20 tasks"
"$BUILD/bench/bench_analysis"
echo; echo "== bench_netrt: rtvnet netrt vs sockperf ping-pong on one veth path"
bash bench/bench_netrt.sh "$RTVNET"
echo; echo "== bench_stream: rtvnet stream vs iperf3 on one veth pair"
bash bench/bench_stream.sh "$RTVNET"
echo; echo "== bench_compare: the phenomenon and the cure (rtvnet compare, 3 repeats)"
"$RTVNET" compare --methods vanilla,dedicated --repeats 3 --duration 15s --json "results/bench-compare.json" |
	sed -n '/^Expected effects/,$p'
echo; echo "== bench_rxpath: separate, busypoll, hybrid against prio and dedicated (one interleaved run)"
bash bench/bench_rxpath.sh "$RTVNET"
echo; echo "== bench_taskset: rtvnet taskset run vs rt-app 1.0 on the same taskset (interleaved, 5 repeats)"; bash bench/bench_taskset.sh "$RTVNET" 5 8
echo; echo "== bench_protection: a taskset under CPU hogs, without and with reservations"
bash bench/bench_protection.sh "$RTVNET"
