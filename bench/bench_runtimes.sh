#!/usr/bin/env bash
# Issue 13's targets, Abeni et al.'s comparison of hosting environments on
# this machine: one interleaved `rtvnet runtimes` run of native, netns, crun,
# runc and podman (cyclictest idle and under stress-ng, REPEATS repeats of
# SECONDS, and under the load with a SCHED_DEADLINE reservation for
# cyclictest's threads (RESERVE, us) as a third condition of the same run;
# 50 startups of /bin/true each, with hyperfine on the same commands).
# Prints the tables, then one line per target:
#   startup      crun starts faster than runc (mean and worst)
#   memory       crun + cyclictest no more RSS than runc + cyclictest
#   loaded p99   each container's p99 under load within 1.2x native's, with
#                p99.9 and its spread reported
#   reservation  with the reservation the loaded p99 comes back toward idle's:
#                its mean below every loaded repeat's p99, beyond the spread
#                (native and crun)
#   parsing      every run's reading of cyclictest's JSON equals cyclictest's
#                own summary lines (min, avg, max, cycles, overflows)
#   hyperfine    each environment's one command: rtvnet's mean within 10% of
#                hyperfine's
#
# usage: bench/bench_runtimes.sh RTVNET [REPEATS] [SECONDS] [RESERVE]
set -uo pipefail
RTVNET=${1:?usage: bench_runtimes.sh RTVNET [REPEATS] [SECONDS] [RESERVE]}
REPEATS=${2:-3}
SECS=${3:-30}
RESERVE=${4:-50/100}
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
A=$TMP/a.json
"$RTVNET" runtimes --envs native,netns,crun,runc,podman --repeats "$REPEATS" \
	--duration "$SECS" --reserve "$RESERVE" --startup 50 --json "$A" ||
	{ echo "FAIL bench_runtimes: rtvnet runtimes exited $?"; exit 1; }
cp "$A" results/bench-runtimes.json 2>/dev/null

# mean of KEY over ENV's ok runs under LOAD in FILE
lat() { jq --arg e "$2" --arg l "$3" --arg k "$4" '[.environments[] | select(.name == $e) |
	.latency[] | select(.load == $l and .ok) | .[$k]] | if length > 0 then add / length else null end' "$1"; }
spread() { jq -r --arg e "$2" --arg l "$3" --arg k "$4" '[.environments[] | select(.name == $e) |
	.latency[] | select(.load == $l and .ok) | .[$k]] | "\(min)-\(max)"' "$1"; }
st() { jq --arg e "$2" --arg k "$3" '.environments[] | select(.name == $e) | .startup.total[$k]' "$1"; }
verdict() { # NAME OK TEXT
	if [ "$2" = true ]; then echo "PASS bench_runtimes $1: $3"; else echo "FAIL bench_runtimes $1: $3"; fi
}
missed=0
judge() { verdict "$@"; [ "$2" = true ] || missed=$((missed + 1)); }

cm=$(st "$A" crun mean_ms) rm=$(st "$A" runc mean_ms)
cw=$(st "$A" crun worst_ms) rw=$(st "$A" runc worst_ms)
nm=$(st "$A" native mean_ms) pm=$(st "$A" podman mean_ms) pw=$(st "$A" podman worst_ms)
judge startup "$(jq -n "$cm < $rm and $cw < $rw")" \
	"target crun faster than runc (paper: 15/19 ms against 25/42 ms mean/worst): measured crun $(printf %.1f "$cm")/$(printf %.1f "$cw") ms, runc $(printf %.1f "$rm")/$(printf %.1f "$rw") ms mean/worst ($(jq -n "$rm / $cm * 100 | round / 100")x mean); native /bin/true $(printf %.2f "$nm") ms, podman $(printf %.0f "$pm")/$(printf %.0f "$pw") ms"
crss=$(jq '[.environments[] | select(.name == "crun") | .latency[] | select(.ok) | .memory.rss_bytes] | add / length / 1048576' "$A")
rrss=$(jq '[.environments[] | select(.name == "runc") | .latency[] | select(.ok) | .memory.rss_bytes] | add / length / 1048576' "$A")
prss=$(jq '[.environments[] | select(.name == "podman") | .latency[] | select(.ok) | .memory.rss_bytes] | add / length / 1048576' "$A")
judge memory "$(jq -n "$crss <= $rrss * 1.05")" \
	"target crun + cyclictest no more RSS than runc + cyclictest (paper: 18 MB against over 100 MB; hand: 6.4 and 13.7 MB): measured crun $(printf %.1f "$crss") MiB, runc $(printf %.1f "$rrss") MiB, podman (with conmon) $(printf %.1f "$prss") MiB RSS"
np=$(lat "$A" native loaded p99_us)
for e in netns crun runc podman; do
	p=$(lat "$A" "$e" loaded p99_us)
	judge "loaded p99 $e" "$(jq -n "$p <= 1.2 * $np")" \
		"target $e's p99 under load within 1.2x native's: measured $(printf %.0f "$p") us ($(spread "$A" "$e" loaded p99_us)) against $(printf %.0f "$np") us ($(spread "$A" native loaded p99_us)): $(jq -n "$p / $np * 100 | round / 100")x; p99.9 $(spread "$A" "$e" loaded p99_9_us) us against native's $(spread "$A" native loaded p99_9_us) us"
done
# toward idle's beyond the run-to-run spread: the reserved mean below every
# loaded repeat's p99
lmin() { jq --arg e "$2" '[.environments[] | select(.name == $e) | .latency[] |
	select(.load == "loaded" and .ok) | .p99_us] | min' "$1"; }
for e in native crun; do
	i=$(lat "$A" "$e" idle p99_us) l=$(lat "$A" "$e" loaded p99_us) r=$(lat "$A" "$e" reserved p99_us)
	judge "reservation $e" "$(jq -n "$r < $(lmin "$A" "$e")")" \
		"target with SCHED_DEADLINE $RESERVE us the loaded p99 toward idle's, below every loaded repeat's: measured $(printf %.0f "$r") us reserved ($(spread "$A" "$e" reserved p99_us)), $(printf %.0f "$l") us without ($(spread "$A" "$e" loaded p99_us)), idle $(printf %.0f "$i") us"
done
bad=$(jq '[.environments[].latency[]? | select(.ok and (.crosscheck.ok | not))] | length' "$A")
all=$(jq '[.environments[].latency[]? | select(.ok)] | length' "$A")
judge parsing "$(jq -n "$bad == 0 and $all > 0")" \
	"target rtvnet's reading of every cyclictest run equal to cyclictest's own summary lines: measured $((all - bad)) of $all runs"
for e in native crun runc podman; do
	r=$(jq --arg e "$e" '.environments[] | select(.name == $e) | .startup.rtvnet.mean_ms' "$A")
	h=$(jq --arg e "$e" '.environments[] | select(.name == $e) | .startup.hyperfine.mean_ms' "$A")
	judge "hyperfine $e" "$(jq -n "$r != null and $h != null and ($r / $h - 1 | fabs) <= 0.10")" \
		"target rtvnet's mean of the one command within 10% of hyperfine's: measured $(printf %.2f "$r") ms against $(printf %.2f "$h") ms ($(jq -n "$r / $h * 1000 | round / 1000")x)"
done
exit "$missed"
