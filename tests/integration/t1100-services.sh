#!/usr/bin/env bash
# Real services as the RT service (issue 14): bad input exits 2 and changes
# nothing; memcached (TCP ASCII, UDP meta) and the SIP proxy (Kamailio with
# rtvnet's UAS, SIPp beside rtvnet's client) run through `compare --service`
# on the testbed with answers matched and counted; a memcached and a UAS killed
# mid-run gives counted losses and a client that ends by itself; the host is
# left as found at every step.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
for p in memcached kamailio sipp; do
	command -v $p >/dev/null || skip "needs $p (Debian packages memcached, kamailio, sip-tester)"
done
cleanup() {
	[ -n "${MC:-}" ] && kill "$MC" 2>/dev/null
	wait 2>/dev/null
	"$RTVNET" testbed down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
remember_host

# -- bad input: exit 2, a message naming the input, nothing changed
expect 2 "$RTVNET" compare --service frob --quick
out_has "option '--service': 'frob' is not one of netrt, memcached, sip"
expect 2 "$RTVNET" compare --service memcached --stages --quick
out_has "stages traces NetRT's datagrams only"
expect 2 "$RTVNET" compare --service memcached --udp --value-size 2000 --quick
out_has "value size must be 1-1200 bytes over UDP"
expect 2 "$RTVNET" compare --service memcached --get-ratio 1.5 --quick
out_has "option '--get-ratio'"
expect 2 "$RTVNET" memcached client --port 11211
out_has "option '--target' is required"
expect 2 "$RTVNET" memcached client --target 127.0.0.1 --udp --value-size 1500
out_has "option '--value-size': the value size must be 1-1200 bytes over UDP"
expect 2 "$RTVNET" memcached client --target 127.0.0.1 --protocol binary
out_has "option '--protocol': 'binary' is not one of ascii, meta"
expect 2 "$RTVNET" memcached client --target 127.0.0.1 --conns 65
out_has "option '--conns': 65 is out of range 1-64"
expect 2 "$RTVNET" sip client --target 127.0.0.1 --uas-port 0
out_has "option '--uas-port': 0 is out of range"
expect 2 "$RTVNET" sip client --target nohost
out_has "option '--target': 'nohost' is not a numeric"
same_as_before || die "bad input changed the host"

# check JSON RUN-FILTER: jq -e on the compare results
check() {
	jq -e "$2" "$1" >/dev/null || { jq '.config, .runs' "$1" >&2; die "$1: $2"; }
}

# -- memcached, TCP ASCII: every key set before the run, so no miss; every
# request answered
expect 0 "$RTVNET" compare --service memcached --quick --duration 3 --methods vanilla \
	--interval 1-2 --json "$TMP/mc.json"
out_has "memcached round-trip time in us"
check "$TMP/mc.json" '.config.service == "memcached" and .config.memcached_transport == "tcp"'
check "$TMP/mc.json" '.runs | length == 2'
check "$TMP/mc.json" '[.runs[].rtt_us | .count > 1000 and .lost == 0 and .misses == 0
	and .errors == 0 and .p99 >= .p50] | all'
same_as_before || die "compare --service memcached left the host changed"

# -- memcached, UDP with meta commands over 4 sockets, Zipf keys
expect 0 "$RTVNET" compare --service memcached --udp --protocol meta --conns 4 --zipf 0.99 \
	--quick --duration 3 --methods prio --interval 1-2 --json "$TMP/mcu.json"
check "$TMP/mcu.json" '.config.memcached_transport == "udp" and .config.memcached_protocol == "meta"'
check "$TMP/mcu.json" '.runs | length == 2'
check "$TMP/mcu.json" '[.runs[].rtt_us | .count > 1000 and .misses == 0 and .errors == 0] | all'
same_as_before || die "compare --service memcached --udp left the host changed"

# -- the SIP proxy, SIPp beside: rtvnet's transactions all answered, and
# SIPp's response times (whole ms of a coarse clock) near rtvnet's mean
expect 0 "$RTVNET" compare --service sip --sipp --quick --duration 4 --methods vanilla \
	--interval 2-4 --json "$TMP/sip.json"
out_has "SIP \(through Kamailio\) round-trip time in us"
check "$TMP/sip.json" '.config.service == "sip" and .config.sip_request == "OPTIONS"'
check "$TMP/sip.json" '.runs | length == 2'
check "$TMP/sip.json" '[.runs[].rtt_us | .count > 500 and .lost == 0 and .errors == 0] | all'
check "$TMP/sip.json" '[.runs[] | .sipp_calls > 500] | all'
# SIPp's mean within 5 ms of rtvnet's (its clock ticks every 4 ms here)
check "$TMP/sip.json" '[.summary[] | ((.sipp_mean_us - .mean_us) | fabs) < 5000] | all'
same_as_before || die "compare --service sip left the host changed"

# -- SIP calls through the proxy: each INVITE answered, its ACK and BYE sent
# in the dialog, the BYEs answered
expect 0 "$RTVNET" compare --service sip --calls --quick --duration 3 --methods prio \
	--interval 2-4 --json "$TMP/calls.json"
check "$TMP/calls.json" '.config.sip_request | startswith("INVITE")'
check "$TMP/calls.json" '[.runs[] | .rtt_us.count > 400 and .rtt_us.errors == 0
	and .followups >= 2 * .rtt_us.count and .ignored >= .rtt_us.count] | all'
same_as_before || die "compare --service sip --calls left the host changed"

# -- memcached killed mid-run: the client counts losses and ends by itself
expect 0 "$RTVNET" testbed up --streams 1
for transport in tcp udp; do
	flag=; [ $transport = udp ] && flag=--udp
	ip netns exec rtv-rts memcached -u root -l 198.19.0.2 -p 11311 -U 11311 -t 1 &
	MC=$!
	sleep 0.5
	start=$(date +%s%N)
	ip netns exec rtv-rtc timeout 20 "$RTVNET" memcached client --target 198.19.0.2 \
		--port 11311 $flag --prefill --duration 4s --warmup 200ms --interval 1ms-2ms \
		--timeout 300ms --json "$TMP/kill-$transport.json" >"$TMP/out" 2>&1 &
	client=$!
	sleep 2
	kill "$MC"
	wait "$MC" 2>/dev/null
	MC=
	wait "$client" || { cat "$TMP/out"; die "$transport: the client failed or hung"; }
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$took" -lt 8000 ] || die "$transport: the client took $took ms for a 4 s run"
	check "$TMP/kill-$transport.json" '.result.lost > 300 and .result.received > 300
		and .result.sent == .result.received + .result.lost'
	[ $transport = udp ] || check "$TMP/kill-tcp.json" '.result.broken_connections == 1'
done
# the same for SIP: rtvnet's UAS (tests/unit/sip_tool) killed mid-run
TOOL=$(dirname "$RTVNET")/../tests/unit/sip_tool
[ -x "$TOOL" ] || die "no $TOOL"
ip netns exec rtv-rts "$TOOL" uas 198.19.0.2 25070 >/dev/null 2>&1 &
MC=$!
sleep 0.3
start=$(date +%s%N)
ip netns exec rtv-rtc timeout 20 "$RTVNET" sip client --target 198.19.0.2 --port 25070 \
	--calls --duration 4s --warmup 200ms --interval 1ms-2ms --timeout 300ms \
	--json "$TMP/kill-sip.json" >"$TMP/out" 2>&1 &
client=$!
sleep 2
kill "$MC"
wait "$MC" 2>/dev/null
MC=
wait "$client" || { cat "$TMP/out"; die "sip: the client failed or hung"; }
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$took" -lt 8000 ] || die "sip: the client took $took ms for a 4 s run"
check "$TMP/kill-sip.json" '.result.lost > 300 and .result.received > 300
	and .result.sent == .result.received + .result.lost and .result.followups > 600'
expect 0 "$RTVNET" testbed down
same_as_before || die "the servers' kills left the host changed"
echo ok
