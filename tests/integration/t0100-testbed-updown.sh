#!/usr/bin/env bash
# testbed up creates the container host: peers reach the containers through
# rtv-host's NICs and bridge (routed, forwarding on in rtv-host only); a
# second up is refused, status draws the path, down removes it all and is
# idempotent. --nat publishes the containers by DNAT on their NIC's address;
# --topology direct makes the earlier shape (a veth pair per link, isolated).
. "$(dirname "$0")/lib.sh"
cleanup() { kill %1 2>/dev/null; wait 2>/dev/null; "$RTVNET" testbed down >/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
command -v jq >/dev/null || skip "needs jq: ip -j output"
fwd=$(cat /proc/sys/net/ipv4/ip_forward)
expect 0 "$RTVNET" testbed up --streams 2 --peer-cpus 0
out_has "testbed up .*host topology, 2 stream pairs, peers on CPU 0"
for ns in rtv-rtc rtv-rts rtv-s1c rtv-s1s rtv-s2c rtv-s2s rtv-host; do
	ip netns list | grep -qw "$ns" || die "namespace $ns missing"
done
ip netns exec rtv-rtc ping -c 1 -W 2 198.19.0.2 >/dev/null || die "RT client cannot reach RT server"
ip netns exec rtv-s2c ping -c 1 -W 2 198.19.0.4 >/dev/null || die "stream 2 source cannot reach its sink"
# the request went through the host: its NIC and the container's bridge port counted it
[ "$(ip -n rtv-host -s -j link show rtvh0 | jq '.[0].stats64.rx.packets')" -gt 0 ] || die "rtvh0 saw nothing"
ip -n rtv-host -d link show rtvb0 | grep -q "master rtv-br0" || die "rtvb0 is not a port of rtv-br0"
ip -n rtv-rts -br addr show rtvs0 | grep -q 198.19.0.2/24 || die "rtvs0 address"
[ "$(ip netns exec rtv-host cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || die "no forwarding in rtv-host"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ] || die "the host's own ip_forward changed"
ip link show | grep -q rtv && die "a testbed device is in the host's namespace"
[ "$(cat /sys/fs/cgroup/cpuset/rtvnet/s1c/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/rtvnet/s1c/cpuset.cpus)" = 0 ] ||
	die "stream source not on the peer CPUs"
expect 1 "$RTVNET" testbed up
out_has "already up"
expect 1 "$RTVNET" compare --quick
out_has "compare brings up its own"
expect 0 "$RTVNET" testbed status
out_has "rts +rtv-rts +rtvs0 +198.19.0.2"
out_has "rtv-rtc rtvc0 198.18.0.1 --- rtvh0 198.18.0.254 \[rtv-host\]  rtvb0 --- rtvs0 198.19.0.2 rtv-rts"
out_has "rtvh0 +rtv-host +host NIC"
expect 0 "$RTVNET" testbed down
out_has "testbed down"
ip netns list | grep -q '^rtv-' && die "namespaces left after down"
expect 0 "$RTVNET" testbed down
out_has "no testbed is up"
expect 0 "$RTVNET" testbed status
out_has "no testbed is up"

# --nat: the RT server, bound to its own address only, answers on the NIC's
if command -v nft >/dev/null; then
	expect 0 "$RTVNET" testbed up --streams 1 --nat
	out_has "nat"
	ip netns exec rtv-rts "$RTVNET" netrt server --bind 198.19.0.2 --port 7311 >/dev/null 2>&1 &
	sleep 0.3
	expect 0 ip netns exec rtv-rtc "$RTVNET" netrt client --target 198.18.0.254 --port 7311 \
		--duration 1s --warmup 100ms --interval 1ms-2ms
	out_has "rtt"
	ip netns exec rtv-host nft list table ip rtvnet | grep -q "dnat to 198.19.0.2" || die "no DNAT rule"
	kill %1; wait %1 2>/dev/null
	expect 0 "$RTVNET" testbed down
else
	echo "no nft here: --nat untested"
fi
expect 2 "$RTVNET" testbed up --topology direct --nat
out_has "option '--nat': needs the host topology"
expect 2 "$RTVNET" testbed up --peer-cpus 0-x
out_has "option '--peer-cpus': '0-x' is not a CPU list"

# the direct shape: each link its own veth pair, links isolated
expect 0 "$RTVNET" testbed up --streams 2 --topology direct
ip netns exec rtv-rtc ping -c 1 -W 2 198.18.0.2 >/dev/null || die "direct: RT client cannot reach RT server"
ip netns exec rtv-rtc ping -c 1 -W 1 198.18.1.2 >/dev/null 2>&1 && die "direct: RT client reaches a stream link"
ip netns list | grep -qw rtv-host && die "direct: rtv-host exists"
expect 0 "$RTVNET" testbed status
out_has "testbed up: direct topology"
expect 0 "$RTVNET" testbed down
echo ok
