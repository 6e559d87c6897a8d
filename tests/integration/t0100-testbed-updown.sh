#!/usr/bin/env bash
# testbed up creates the hosts and links, they reach each other, a second up is
# refused, status shows it, down removes it all and is idempotent.
. "$(dirname "$0")/lib.sh"
expect 0 "$RTVNET" testbed up --streams 2
out_has "testbed up"
for ns in rtv-rtc rtv-rts rtv-s1c rtv-s1s rtv-s2c rtv-s2s; do
	ip netns list | grep -qw "$ns" || die "namespace $ns missing"
done
ip netns exec rtv-rtc ping -c 1 -W 2 198.18.0.2 >/dev/null || die "RT client cannot reach RT server"
ip netns exec rtv-s2c ping -c 1 -W 2 198.18.2.2 >/dev/null || die "stream 2 client cannot reach its server"
ip netns exec rtv-rtc ping -c 1 -W 1 198.18.1.2 >/dev/null 2>&1 && die "RT client reaches a stream link"
ip -n rtv-rts -br addr show rtvs0 | grep -q 198.18.0.2/24 || die "rtvs0 address"
ip link show | grep -q rtv && die "a testbed device is in the host's namespace"
expect 1 "$RTVNET" testbed up
out_has "already up"
expect 1 "$RTVNET" compare --quick
out_has "compare brings up its own"
expect 0 "$RTVNET" testbed status
out_has "rts +rtv-rts +rtvs0 +198.18.0.2"
expect 0 "$RTVNET" testbed down
out_has "testbed down"
ip netns list | grep -q '^rtv-' && die "namespaces left after down"
expect 0 "$RTVNET" testbed down
out_has "no testbed is up"
expect 0 "$RTVNET" testbed status
out_has "no testbed is up"
echo ok
