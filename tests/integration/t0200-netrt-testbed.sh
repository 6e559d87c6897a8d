#!/usr/bin/env bash
# NetRT over the testbed: replies come back, the JSON has the statistics, and
# killing the server mid-run makes the client count losses.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
cleanup() { kill %1 %2 2>/dev/null; wait 2>/dev/null; "$RTVNET" testbed down >/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
expect 0 "$RTVNET" testbed up --streams 1
ip netns exec rtv-rts "$RTVNET" netrt server --port 7301 &
sleep 0.3
expect 0 ip netns exec rtv-rtc "$RTVNET" netrt client --target 198.19.0.2 --port 7301 \
	--duration 3s --warmup 500ms --interval 1ms-2ms --json "$TMP/a.json"
out_has "rtt"
jq -e '.result.received > 1000 and .result.lost == 0 and .result.rtt_us.p50 > 0
       and .result.rtt_us.p99 >= .result.rtt_us.p50 and .result.rtt_us.max >= .result.rtt_us.p99
       and .meta.kernel != null and .config.interval_min_us == 1000' "$TMP/a.json" >/dev/null \
	|| { cat "$TMP/a.json"; die "netrt JSON"; }
# losses: the server dies 1.5 s into a 3 s run
ip netns exec rtv-rtc "$RTVNET" netrt client --target 198.19.0.2 --port 7301 \
	--duration 3s --warmup 200ms --interval 1ms-2ms --timeout 200ms --json "$TMP/b.json" >/dev/null 2>&1 &
sleep 1.5
kill %1
wait %2
jq -e '.result.lost > 300 and .result.received > 300 and .result.rtt_us.lost == .result.lost' \
	"$TMP/b.json" >/dev/null || { cat "$TMP/b.json"; die "losses not counted"; }
echo ok
