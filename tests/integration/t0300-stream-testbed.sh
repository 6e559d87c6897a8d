#!/usr/bin/env bash
# The stream generator moves bulk TCP over a testbed link and reports it.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
cleanup() { kill %1 2>/dev/null; wait 2>/dev/null; "$RTVNET" testbed down >/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
expect 0 "$RTVNET" testbed up --streams 1
ip netns exec rtv-s1s "$RTVNET" stream sink --json "$TMP/sink.json" --duration 4s >/dev/null &
sleep 0.3
expect 0 ip netns exec rtv-s1c "$RTVNET" stream source --target 198.19.0.3 --duration 2s
out_has "Gbit/s"
wait %1
jq -e '.total.gbit_s > 0.1' "$TMP/sink.json" >/dev/null || { cat "$TMP/sink.json"; die "sink saw no stream"; }
echo ok
