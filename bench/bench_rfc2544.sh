#!/usr/bin/env bash
# Issue 15's targets: RFC 2544 on the RT path, as KBP and EE-KBP report it.
#
# One interleaved run of `rtvnet rfc2544 run` with vanilla (NAPI), busypoll
# (KBP) and hybrid (EE-KBP), REPEATS repeats, frame sizes 64, 512 and 1518,
# latency at 64 and 1518 bytes at 10k, 30k and 100k pps (the same offered
# rate for every method: the papers' comparison; 100k is above vanilla's
# zero-loss rate here, as KBP's 1 Gbps at 64 bytes was above NAPI's) and at
# 50% and 100% of each method's own throughput (RFC 2544's latency, shown,
# not compared across methods), sockperf beside at 64 bytes and 30k pps.
# Trials are TRIAL s with 1 s waits (the RFC: 60 s, 2 s and 5 s; shortened to
# fit, said in the output), the search to 5%. The targets, judged by the
# command itself on the means over repeats and repeated here:
#   KBP          busypoll's max and p99.9 RTT below vanilla's at every
#                absolute rate, its zero-loss throughput not below vanilla's
#                per size
#   EE-KBP       hybrid's p99.9 within 1.3x busypoll's at every absolute
#                rate, and its CPU cost falling with the rate
#   sockperf     rtvnet's p50 within 10% of sockperf's at the same rate
#                (--sockperf-rx-cpu: sockperf's receiver thread on the RT CPU,
#                its sender on the generator's: otherwise its two threads
#                share the one peer CPU and its receiver waits behind its
#                busy-waiting sender, doubling its p50; measured by hand)
# The generator's accuracy (offered within 1% of requested up to its limit)
# is bench_udpgen's. Where the thresholds come from: 1.3x and 10% and 1% are
# the issue's; "below vanilla's" and "not below" are KBP's claims read as
# strictly as they are stated (lower maximum RTT, higher throughput); "falls
# with the rate" is EE-KBP's (power lower at lower rates), judged on CPU
# since this machine has no RAPL. None was set or moved after a run.
#
# usage: bench/bench_rfc2544.sh RTVNET [REPEATS] [TRIAL_S]
set -uo pipefail
RTVNET=${1:?usage: bench_rfc2544.sh RTVNET [REPEATS] [TRIAL_S]}
REPEATS=${2:-2}
TRIAL=${3:-2}
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
command -v sockperf >/dev/null || { echo "needs sockperf"; exit 77; }
OUT=results/bench-rfc2544-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$RTVNET" rfc2544 run --methods vanilla,busypoll,hybrid --repeats "$REPEATS" \
	--sizes 64,512,1518 --latency-sizes 64,1518 --rates 10k,30k,100k,50%,100% --sockperf-rate 30k \
	--trial "$TRIAL" --residual-wait 1 --settle-wait 1 --resolution 5 \
	--sockperf --sockperf-rx-cpu 1 --json "$OUT/r.json" | tee "$OUT/out"
rc=${PIPESTATUS[0]}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$rc" -eq 0 ] || { echo "FAIL bench_rfc2544: rtvnet rfc2544 exited $rc"; exit 1; }
missed=0
# verdict CLAIM-REGEX NAME: one line per target, from the command's claims
verdict() {
	local n m
	n=$(jq "[.claims[] | select(.claim | test(\"$1\"))] | length" "$OUT/r.json")
	m=$(jq "[.claims[] | select((.claim | test(\"$1\")) and .met)] | length" "$OUT/r.json")
	if [ "$n" -gt 0 ] && [ "$n" -eq "$m" ]; then
		echo "PASS bench_rfc2544 $2: met at all $n points"
	else
		echo "FAIL bench_rfc2544 $2: met at $m of $n points: $(jq -r "[.claims[] |
			select((.claim | test(\"$1\")) and (.met | not)) | \"\(.point) \(.value * 1000 | round / 1000)\"] | join(\", \")" "$OUT/r.json")"
		missed=$((missed + 1))
	fi
}
verdict "^KBP (max|p99.9)" "KBP latency (busypoll / vanilla < 1)"
verdict "^KBP throughput" "KBP throughput (busypoll / vanilla >= 1)"
verdict "^EE-KBP p99.9" "EE-KBP latency (hybrid / busypoll <= 1.3)"
verdict "^EE-KBP CPU" "EE-KBP CPU falls with the rate"
verdict "^sockperf" "sockperf cross-check (p50 within 10%)"
exit "$missed"
