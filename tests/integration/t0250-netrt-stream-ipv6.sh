#!/usr/bin/env bash
# NetRT and the stream load over IPv6 only: two namespaces of this test's own
# joined by a veth pair with IPv6 addresses and no IPv4 at all, a ULA and a
# link-local address (%interface) each. Real figures: replies, bytes and
# datagrams counted at both ends and equal; the default UDP payload fits one
# IPv6 packet (no reassembly at the sink).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq missing"

NS_A=rtv-v6a
NS_B=rtv-v6b
DEV_A=rtv6a0
DEV_B=rtv6b0
A=fd00:7274::1
B=fd00:7274::2
created=()
pids=()

cleanup() {
	local p ns
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "${created[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
remember_host

[ -e /proc/net/if_inet6 ] || skip "needs IPv6: the kernel has it disabled"
netns_add "$NS_A" "$NS_B"
ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B" || die "cannot add veth"
for x in "$NS_A $DEV_A $A fe80::1" "$NS_B $DEV_B $B fe80::2"; do
	set -- $x
	ip -n "$1" link set lo up || die "lo up in $1"
	# nodad: usable at once, not after duplicate address detection
	ip -n "$1" addr add "$3/64" dev "$2" nodad || die "cannot add $3"
	ip -n "$1" addr add "$4/64" dev "$2" nodad || die "cannot add $4"
	ip -n "$1" link set "$2" up || die "$2 up"
done
# IPv6 only: whatever gets through below went over IPv6
[ -z "$(ip -n "$NS_A" -4 -o addr show dev "$DEV_A")" ] || die "IPv4 on $DEV_A"
[ -z "$(ip -n "$NS_B" -4 -o addr show dev "$DEV_B")" ] || die "IPv4 on $DEV_B"

# The first packets to a neighbour of a link just up wait about a second for
# neighbour discovery (ping's first reply too): resolve both addresses now,
# so that the runs below measure rtvnet, not that.
for b in "$B" "fe80::2%$DEV_A"; do
	ip netns exec "$NS_A" ping -c 1 -W 5 "$b" >/dev/null || die "no answer from $b"
done

# wait_port NS PROTO PORT: until something listens there (5 s at most)
wait_port() {
	local i flag=-lt
	[ "$2" = udp ] && flag=-lu
	for i in $(seq 100); do
		[ -n "$(ip netns exec "$1" ss -Hn "$flag" "sport = :$3")" ] && return 0
		sleep 0.05
	done
	die "nothing listens on $2 port $3 in $1"
}
# stat NS NAME: a counter of /proc/net/snmp6 in NS
stat6() { ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/snmp6; }

# -- netrt: server bound to the ULA, client to it --
ip netns exec "$NS_B" "$RTVNET" netrt server --bind "$B" --port 7401 >"$TMP/srv.out" 2>&1 &
pids+=($!)
wait_port "$NS_B" udp 7401
expect 0 ip netns exec "$NS_A" "$RTVNET" netrt client --target "$B" --port 7401 \
	--duration 2s --warmup 200ms --interval 1ms-2ms --json "$TMP/rt.json"
out_has "netrt client: $B port 7401"
# 1.8 s measured at a mean interval of 1.5 ms: about 1200 requests
jq -e --arg b "$B" '.config.target == $b and .result.sent >= 1000
       and .result.received == .result.sent and .result.lost == 0
       and .result.rtt_us.count == .result.received and .result.rtt_us.p50 > 0
       and .result.rtt_us.max >= .result.rtt_us.p50
       and .result.service_us.p50 > 0' "$TMP/rt.json" >/dev/null \
	|| { cat "$TMP/rt.json"; die "netrt over IPv6"; }
kill "${pids[-1]}"
wait "${pids[-1]}"
grep -q "listening on UDP $B port 7401" "$TMP/srv.out" || { cat "$TMP/srv.out"; die "server"; }
# the server echoed every request, warm-up ones too
echoed=$(sed -n 's/^netrt server: \([0-9]*\) requests\? echoed$/\1/p' "$TMP/srv.out")
want=$(jq '.result.sent + .result.warmup' "$TMP/rt.json")
[ "$echoed" = "$want" ] || { cat "$TMP/srv.out"; die "server echoed '$echoed', client sent $want"; }

# -- netrt: server on any address (dual stack), client to a link-local one --
ip netns exec "$NS_B" "$RTVNET" netrt server --port 7402 >"$TMP/srv.out" 2>&1 &
pids+=($!)
wait_port "$NS_B" udp 7402
expect 0 ip netns exec "$NS_A" "$RTVNET" netrt client --target "fe80::2%$DEV_A" --port 7402 \
	--duration 1s --warmup 100ms --interval 1ms --json "$TMP/ll.json"
jq -e '.result.sent >= 850 and .result.received == .result.sent and .result.rtt_us.p50 > 0' \
	"$TMP/ll.json" >/dev/null || { cat "$TMP/ll.json"; die "netrt over link-local IPv6"; }
kill "${pids[-1]}"
wait "${pids[-1]}"

# -- stream, TCP: every byte sent is received --
ip netns exec "$NS_B" "$RTVNET" stream sink --bind "$B" --duration 4s --json "$TMP/sink.json" \
	>/dev/null 2>&1 &
pids+=($!)
wait_port "$NS_B" tcp 5301
expect 0 ip netns exec "$NS_A" "$RTVNET" stream source --target "$B" --duration 2s \
	--json "$TMP/src.json"
out_has "TCP source to '\[$B\]:5301'"
wait "${pids[-1]}" || die "TCP sink failed"
jq -e '.total.gbit_s > 0.1 and .total.bytes > 0' "$TMP/sink.json" >/dev/null \
	|| { cat "$TMP/sink.json"; die "TCP sink saw no stream over IPv6"; }
[ "$(jq .total.bytes "$TMP/sink.json")" = "$(jq .total.bytes "$TMP/src.json")" ] \
	|| die "TCP over IPv6: sent $(jq .total.bytes "$TMP/src.json") B, received $(jq .total.bytes "$TMP/sink.json")"

# -- stream, UDP at 200 Mbit/s, default size: one IPv6 packet per datagram --
reasm=$(stat6 "$NS_B" Ip6ReasmReqds)
ip netns exec "$NS_B" "$RTVNET" stream sink --proto udp --bind "$B" --duration 3s \
	--json "$TMP/usink.json" >/dev/null 2>&1 &
pids+=($!)
wait_port "$NS_B" udp 5301
expect 0 ip netns exec "$NS_A" "$RTVNET" stream source --proto udp --target "$B" --rate 200M \
	--duration 1s --json "$TMP/usrc.json"
wait "${pids[-1]}" || die "UDP sink failed"
jq -e '.config.size == 1452 and .total.datagrams > 10000
       and .total.bytes == .total.datagrams * 1452' "$TMP/usrc.json" >/dev/null \
	|| { cat "$TMP/usrc.json"; die "UDP source over IPv6"; }
sent=$(jq .total.datagrams "$TMP/usrc.json")
# the sink's 8 MiB buffer holds a second of this: nothing may be lost
jq -e --argjson n "$sent" '.total.datagrams == $n and .total.lost == 0
       and .total.bytes == $n * 1452 and .total.gbit_s > 0.1' "$TMP/usink.json" >/dev/null \
	|| { cat "$TMP/usink.json"; die "UDP sink over IPv6 (source sent $sent)"; }
[ "$(stat6 "$NS_B" Ip6ReasmReqds)" = "$reasm" ] || die "the sink reassembled fragments"

for ns in "${created[@]}"; do ip netns del "$ns" || die "cannot delete $ns"; done
created=()
same_as_before "after the IPv6 runs"
jq -r '"netrt to \(.config.target): \(.result.received) of \(.result.sent) answered, rtt p50 \(.result.rtt_us.p50) us p99 \(.result.rtt_us.p99) us"' "$TMP/rt.json" "$TMP/ll.json"
jq -r '"stream tcp: \(.total.bytes) B, \(.total.gbit_s) Gbit/s at the sink"' "$TMP/sink.json"
jq -r '"stream udp: \(.total.datagrams) datagrams of 1452 B, \(.total.lost) lost, \(.total.gbit_s) Gbit/s at the sink"' "$TMP/usink.json"
echo ok
