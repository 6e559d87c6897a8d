#!/usr/bin/env bash
# lib/net/napi.c against a real veth NAPI, through tests/unit/napi_tool: list
# by ifindex, per-NAPI threaded on and off (kthread pid appears and goes),
# a new NAPI id after link down/up, threaded=2 refused before 6.19, and the
# sysfs fallback /sys/class/net/DEV/threaded. Leaves no namespace behind.
. "$(dirname "$0")/lib.sh"

TOOL=$(dirname "$RTVNET")/../tests/unit/napi_tool
NS_A=rtv-napi-a
NS_B=rtv-napi-b
DEV_A=rtvna0
DEV_B=rtvnb0
created=()

cleanup() {
	local ns i
	# Deleting the veth is synchronous: its NAPIs and their kthreads are
	# gone when it returns (a namespace is freed later, asynchronously).
	ip -n "$NS_A" link del "$DEV_A" 2>/dev/null
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for i in $(seq 50); do
		ps -eo comm= | grep -q "^napi/$DEV_A-" || break
		sleep 0.1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

[ -x "$TOOL" ] || die "'$TOOL' missing: build the unit tests"
kver=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
# per-NAPI threaded (NETDEV_A_NAPI_THREADED) is in napi-set since 6.17
[ "$kver" -ge 6017 ] || skip "needs kernel-6.17: per-NAPI threaded"
"$TOOL" family >"$TMP/out" 2>&1
st=$?
if [ "$st" -ne 0 ]; then
	grep -q EOPNOTSUPP "$TMP/out" && skip "needs netdev-genl: no generic netlink family 'netdev' (kernel too old)"
	cat "$TMP/out" >&2
	die "napi_tool family exited $st"
fi

netns_add "$NS_A" "$NS_B"
ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B" || die "cannot add veth"
ip -n "$NS_A" link set "$DEV_A" up || die "link up"
ip -n "$NS_B" link set "$DEV_B" up || die "link up"
# veth has a NAPI only with GRO on (or native XDP)
ip netns exec "$NS_A" ethtool -K "$DEV_A" gro on >/dev/null || die "cannot turn GRO on"
ifindex=$(ip -n "$NS_A" -o link show "$DEV_A" | cut -d: -f1)
[ -n "$ifindex" ] || die "no ifindex for $DEV_A"

# tool ARGS...: napi_tool inside NS_A
tool() { ip netns exec "$NS_A" "$TOOL" "$@"; }
# fld NAME: the value of NAME=... on the first NAPI line of the last output
fld() { grep -m 1 '^id=' "$TMP/out" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
napi_count() { grep -c '^id=' "$TMP/out"; }

# -- list: one NAPI per rx queue (veth has one), threaded off --
expect 0 tool list "$ifindex"
[ "$(napi_count)" -eq 1 ] || { cat "$TMP/out" >&2; die "expected 1 NAPI on $DEV_A"; }
out_has "^id=[0-9]+ ifindex=$ifindex pid=-1 threaded=0 "
id=$(fld id)
# the peer has GRO off: no NAPI; an unknown ifindex is ENODEV
expect 0 ip netns exec "$NS_B" "$TOOL" list "$(ip -n "$NS_B" -o link show "$DEV_B" | cut -d: -f1)"
[ "$(napi_count)" -eq 0 ] || die "$DEV_B has a NAPI with GRO off"
expect 1 tool list 99999
out_has "ENODEV"
expect 1 tool get 4000000000
out_has "ENOENT"

# -- threaded on: a kthread of its own, named after the NAPI --
expect 0 tool set "$id" threaded 1
expect 0 tool get "$id"
out_has "^id=$id ifindex=$ifindex pid=[0-9]+ threaded=1 "
pid=$(fld pid)
[ "$pid" -gt 0 ] || die "threaded NAPI $id has no kthread pid"
comm=$(cat "/proc/$pid/comm" 2>/dev/null)
[[ $comm == napi/* ]] || die "pid $pid is '$comm', not a napi kthread"
# per-NAPI threaded leaves the device-level switch alone
[ "$(ip netns exec "$NS_A" cat "/sys/class/net/$DEV_A/threaded")" = 0 ] || die "device threaded changed"

# -- threaded off: the pid is gone from napi-get; on 6.18 the kthread is
# stopped too (seen here) --
expect 0 tool set "$id" threaded 0
expect 0 tool get "$id"
out_has "^id=$id ifindex=$ifindex pid=-1 threaded=0 "
for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
[ -d "/proc/$pid" ] && die "kthread $pid still runs after threaded=0"

# -- threaded=2 (busy-poll): 6.19 and later; 6.18 answers ERANGE (the
# policy's maximum is 1) --
if [ "$kver" -lt 6019 ]; then
	expect 1 tool set "$id" threaded 2
	out_has "ERANGE"
	expect 0 tool get "$id"
	out_has " threaded=0 "
else
	expect 0 tool set "$id" threaded 2
	expect 0 tool get "$id"
	out_has " threaded=2 "
	expect 0 tool set "$id" threaded 0
fi

# -- link down/up: the NAPI is destroyed and recreated with a new id, and the
# per-NAPI threaded is lost (documented; seen on 6.18: 258 -> 259) --
expect 0 tool set "$id" threaded 1
ip -n "$NS_A" link set "$DEV_A" down || die "link down"
expect 0 tool list "$ifindex"
[ "$(napi_count)" -eq 0 ] || { cat "$TMP/out" >&2; die "a NAPI remains while $DEV_A is down"; }
ip -n "$NS_A" link set "$DEV_A" up || die "link up"
expect 0 tool list "$ifindex"
[ "$(napi_count)" -eq 1 ] || { cat "$TMP/out" >&2; die "expected 1 NAPI after link up"; }
new_id=$(fld id)
[ "$new_id" != "$id" ] || die "NAPI kept id $id across link down/up"
out_has "^id=$new_id ifindex=$ifindex pid=-1 threaded=0 "
expect 1 tool get "$id"
out_has "ENOENT"
id=$new_id

# -- the sysfs fallback on the real kernel: device-level threaded reaches
# the NAPI and, unlike the per-NAPI value, survives link down/up --
expect 0 tool dev-threaded "$DEV_A" 1
[ "$(ip netns exec "$NS_A" cat "/sys/class/net/$DEV_A/threaded")" = 1 ] || die "sysfs threaded not 1"
expect 0 tool dev-threaded "$DEV_A"
out_has "^1$"
expect 0 tool get "$id"
out_has "^id=$id ifindex=$ifindex pid=[1-9][0-9]* threaded=1 "
ip -n "$NS_A" link set "$DEV_A" down && ip -n "$NS_A" link set "$DEV_A" up || die "link down/up"
expect 0 tool list "$ifindex"
out_has "^id=[0-9]+ ifindex=$ifindex pid=[1-9][0-9]* threaded=1 "
[ "$(fld id)" != "$id" ] || die "NAPI kept id $id across link down/up"
if [ "$kver" -lt 6019 ]; then
	expect 1 tool dev-threaded "$DEV_A" 2
	out_has "EOPNOTSUPP"
fi
expect 0 tool dev-threaded "$DEV_A" 0
expect 0 tool list "$ifindex"
out_has "^id=[0-9]+ ifindex=$ifindex pid=-1 threaded=0 "
# a device without NAPI refuses the sysfs switch
expect 1 ip netns exec "$NS_B" "$TOOL" dev-threaded "$DEV_B" 1
out_has "EOPNOTSUPP"
echo ok
