#!/usr/bin/env bash
# RFC 2544 on the RT path (issue 15): bad input exits 2 and changes nothing;
# a short run with two methods searches each frame size's zero-loss rate,
# measures every packet's round trip at fixed rates, counts every trial's
# packets (sent = received + lost) and where drops happened, marks a rate
# above the generator's limit unreachable, runs sockperf beside, judges the
# papers' claims and writes the JSON and pictures; --target measures a
# reflector elsewhere (here, on loopback) without the testbed; the host is
# left as found at every step.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
command -v sockperf >/dev/null || skip "needs sockperf (Debian package sockperf)"
cleanup() {
	[ -n "${REFL:-}" ] && kill "$REFL" 2>/dev/null
	wait 2>/dev/null
	"$RTVNET" testbed down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
remember_host

# -- bad input: exit 2, a message naming the input, nothing changed
expect 2 "$RTVNET" rfc2544 run --sizes 63
out_has "frame size '63': expected bytes from 64 to 1518"
expect 2 "$RTVNET" rfc2544 run --sizes 64,64
out_has "frame size 64 is listed twice"
expect 2 "$RTVNET" rfc2544 run --rates 0%
out_has "rate '0%': expected a share"
expect 2 "$RTVNET" rfc2544 run --rates 50%,fast
out_has "rate 'fast'"
expect 2 "$RTVNET" rfc2544 run --sizes 64 --latency-sizes 512 --rates 50%
out_has "512-byte frames' throughput needs that size among the searched ones"
expect 2 "$RTVNET" rfc2544 run --sockperf --rates 10%,90%
out_has "sockperf runs at the first latency size and 50%"
expect 2 "$RTVNET" rfc2544 run --target 192.0.2.7
out_has "option '--target': '192.0.2.7' is not a numeric ADDR:PORT"
expect 2 "$RTVNET" rfc2544 run --target 192.0.2.7:7202 --methods busypoll
out_has "--target measures a reflector elsewhere"
expect 2 "$RTVNET" rfc2544 run --methods frob
out_has "frob"
expect 2 "$RTVNET" rfc2544 run --min-rate 5000 --max-rate 4000
out_has "the search's bounds"
expect 2 "$RTVNET" rfc2544 run --resolution 0
out_has "resolution must be in"
expect 2 "$RTVNET" rfc2544 reflect --bind 192.0.2.99
out_has "'192.0.2.99' is not an address of this host"
expect 2 "$RTVNET" rfc2544 frob
same_as_before || die "bad input changed the host"

check() {
	jq -e "$2" "$1" >/dev/null || { jq -c '.config, (.runs[] | del(.trials))' "$1" >&2; die "$1: $2"; }
}

# -- two methods, two sizes, latency at two shares and one rate the generator
# cannot reach, sockperf beside
expect 0 "$RTVNET" rfc2544 run --methods vanilla,busypoll --sizes 64,512 --latency-sizes 64 \
	--rates 50%,100%,20k,90M --trial 0.5 --residual-wait 0.3 --settle-wait 0.2 --resolution 20 \
	--max-rate 200k --min-rate 1000 --sockperf --idle-phase 0 --json "$TMP/r.json"
out_has "^Zero-loss throughput \(RFC 2544 26.1\)"
out_has "^Latency at fixed rates"
out_has "trials of 0.5 s \(the RFC's are 60 s: a deviation\)"
out_has "The papers' claims on this machine"
out_has "KBP (max|p99.9) RTT +64B@20kpps"
out_has "sockperf p50 +64B@50%"
J="$TMP/r.json"
[ -s "$TMP/r.svg" ] && [ -s "$TMP/r-max.svg" ] || die "the pictures are missing"
grep -q "<svg" "$TMP/r.svg" || die "r.svg is no SVG"
# every arm measured every point: 2 searches and 4 latency points
check "$J" '[.runs[] | .series] | length == 12'
check "$J" '[.runs[] | .method] | unique == ["busypoll", "vanilla"]'
# each trial's packets add up, and drop counters are there
check "$J" '[.runs[].trials[] | .sent == .received + .lost and .offered_pps > 0
	and (.drops | has("rts_udp_rcvbuf_errors") and has("softnet_dropped"))] | all'
# a search: the limit trial first, at most 1 + 2 + max-trials trials, a
# throughput that is a rate some trial passed at with nothing lost
check "$J" '[.runs[] | select(.series == "64B" or .series == "512B") |
	.trials[0].rate_pps == 200000 and (.trials | length) <= 19
	and .throughput_pps > 0 and .throughput_pps <= .generator_limit_pps * 1.001
	and (.throughput_pps as $t | [.trials[] | select(.lost == 0 and .duplicated == 0
		and (.offered_pps - $t | fabs) < 1)] | length >= 1)] | all'
# the latency points: every received packet timed, at the share asked for
check "$J" '[.runs[] | select(.series == "64B@50%") | .offered_pps > 0 and .p50_us > 0
	and .p999_us >= .p99_us and .max_us >= .p999_us
	and .trials[0].received > 0 and .dut_cpu_pct >= 0] | all'
# the 50% point asked for half the throughput its run found for 64 bytes
check "$J" '[.runs | group_by(.method)[] | (map(select(.series == "64B"))[0].throughput_pps) as $t
	| map(select(.series == "64B@50%"))[0] | (.rate_pps - $t / 2 | fabs) < 1] | all'
# 90 Mpps is above any generator's limit here: reported, not run
check "$J" '[.runs[] | select(.series == "64B@90Mpps") | (.point_note | test("not reachable"))
	and (.trials | length) == 0] | all'
# sockperf ran at the 50% point and its p50 was read
check "$J" '[.runs[] | select(.series == "64B@50%") | .sockperf_p50_us > 0 and .p50_vs_sockperf > 0] | all'
check "$J" '.claims | length >= 3'
check "$J" '.config.trial_s == 0.5 and .config.residual_wait_s == 0.3 and .config.frame_sizes == [64, 512]'
same_as_before || die "rfc2544 run left the host changed"

# -- a reflector elsewhere: loopback here, no testbed, no root needed for it
"$RTVNET" rfc2544 reflect --bind 127.0.0.1 --port 7299 >"$TMP/refl.out" 2>&1 &
REFL=$!
sleep 0.5
expect 0 "$RTVNET" rfc2544 run --target 127.0.0.1:7299 --sizes 64 --latency-sizes 64 \
	--rates 10k --trial 0.3 --residual-wait 0.2 --settle-wait 0.1 --resolution 25 \
	--max-rate 50k --json "$TMP/t.json"
check "$TMP/t.json" '[.runs[] | .method] | unique == ["target"]'
check "$TMP/t.json" '[.runs[] | select(.series == "64B") | .throughput_pps > 0] | all'
check "$TMP/t.json" '[.runs[] | select(.series == "64B@10kpps") | .trials[0].received > 1000] | all'
kill "$REFL"
wait "$REFL"
REFL=
grep -q "datagrams\? reflected" "$TMP/refl.out" || die "the reflector did not say what it reflected"
same_as_before || die "rfc2544 --target left the host changed"
echo ok
