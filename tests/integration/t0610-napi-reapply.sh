#!/usr/bin/env bash
# Journaled NAPI settings (rtv_napi_dev_apply) and their re-application after
# the kernel recreates the NAPIs (net/linkwatch.h, rtv_napi_dev_reapply), on
# a two-queue veth (two NAPIs) in throwaway namespaces, through
# tests/unit/napi_tool:
#   - apply then undo: the same NAPIs get back exactly their values, and
#     restoring threaded 1 -> 0 stops the kthreads;
#   - a watcher re-applies on the new NAPI ids after link down/up and a GRO
#     toggle; events that change nothing relevant (txqueuelen) are filtered;
#     a flood that overflows its socket (ENOBUFS) is still reported;
#   - undoing the whole journal puts every value back as before the first
#     apply, kthreads gone;
#   - kill -9 while the changes are in place, then recovery restores them;
#   - a failed apply leaves nothing changed and nothing recorded;
#   - undo counts a NAPI, device or namespace that is gone as done.
# Leaves no namespace behind.
. "$(dirname "$0")/lib.sh"

TOOL=$(dirname "$RTVNET")/../tests/unit/napi_tool
NS_A=rtv-lw-a
NS_B=rtv-lw-b
DEV_A=rtvlwa0
DEV_B=rtvlwb0
SET=(threaded=1 defer=2 gro-flush=50000)
created=()
bg_pids=()

cleanup() {
	local ns i pid
	for pid in "${bg_pids[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# deleting the veth is synchronous: its NAPIs and kthreads go with it
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
command -v ethtool >/dev/null || skip "needs ethtool: to turn GRO on"

netns_add "$NS_A" "$NS_B"
ip -n "$NS_A" link add "$DEV_A" numtxqueues 2 numrxqueues 2 type veth \
	peer name "$DEV_B" netns "$NS_B" || die "cannot add veth"
ip -n "$NS_A" link set "$DEV_A" up || die "link up"
ip -n "$NS_B" link set "$DEV_B" up || die "link up"
# veth has a NAPI per rx queue only with GRO on (or native XDP)
ip netns exec "$NS_A" ethtool -K "$DEV_A" gro on >/dev/null || die "cannot turn GRO on"
# device-level defaults that every new NAPI inherits, not zero, so that
# "restored" cannot pass by accident
ip netns exec "$NS_A" sh -c "echo 1 >/sys/class/net/$DEV_A/napi_defer_hard_irqs &&
	echo 1000 >/sys/class/net/$DEV_A/gro_flush_timeout" || die "cannot set device defaults"

# tool ARGS...: napi_tool, acting in namespaces by name itself
tool() { "$TOOL" "$@"; }
# snap FILE: the NAPIs of DEV_A, sorted, into FILE
snap() { tool dev-list "$NS_A" "$DEV_A" >"$TMP/snap.raw" || die "cannot list NAPIs"; sort "$TMP/snap.raw" >"$1"; }
# values FILE: the NAPI lines of FILE without their ids, sorted
values() { grep '^id=' "$1" | sed 's/^id=[0-9]* //' | sort; }
ids() { grep -o '^id=[0-9]*' "$1" | cut -d= -f2 | sort -n | tr '\n' ' '; }
pids() { grep -o ' pid=[0-9-]*' "$1" | cut -d= -f2 | grep -v '^-1$'; }
# settings_on FILE: every NAPI line of FILE threaded with SET's values and a
# napi kthread
settings_on() {
	local pid n=0
	while read -r line; do
		[[ $line =~ ^id=[0-9]+\ ifindex=$ifindex\ pid=([0-9]+)\ threaded=1\ irq=-1\ defer=2\ gro_flush_ns=50000\  ]] ||
			{ cat "$1" >&2; die "NAPI not as applied: '$line'"; }
		pid=${BASH_REMATCH[1]}
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == napi/* ]] || die "pid $pid is no napi kthread"
		n=$((n + 1))
	done < <(grep '^id=' "$1")
	[ "$n" -eq 2 ] || { cat "$1" >&2; die "expected 2 NAPIs, found $n"; }
}
# gone PID...: every one of these kthreads exits within 5 s
gone() {
	local pid i
	for pid in "$@"; do
		for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		[ -d "/proc/$pid" ] && die "kthread $pid still runs"
	done
	return 0
}
# wait_for FILE REGEX [COUNT]: FILE has COUNT (1) lines matching within 10 s
wait_for() {
	local i
	for i in $(seq 100); do
		[ "$(grep -Ec -- "$2" "$1")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	cat "$1" >&2
	die "no ${3:-1} lines /$2/ in $(basename "$1")"
}
# napi_entries DIR: how many "napi" entries the journal in DIR holds (an
# empty journal is removed on close)
napi_entries() {
	[ -f "$1/journal" ] || { echo 0; return; }
	grep -c ' napi ' "$1/journal"
}

ifindex=$(ip -n "$NS_A" -o link show "$DEV_A" | cut -d: -f1)
[ -n "$ifindex" ] || die "no ifindex for $DEV_A"
snap "$TMP/before"
[ "$(grep -c '^id=' "$TMP/before")" -eq 2 ] || { cat "$TMP/before" >&2; die "expected 2 NAPIs on $DEV_A"; }
[ "$(values "$TMP/before" | sort -u)" = "ifindex=$ifindex pid=-1 threaded=0 irq=-1 defer=1 gro_flush_ns=1000 irq_suspend_ns=0" ] ||
	{ cat "$TMP/before" >&2; die "unexpected starting values"; }

# -- apply, then undo: the same NAPIs, exactly their old values --
J0=$TMP/j0
expect 0 tool apply "$J0" "$NS_A" "$DEV_A" "${SET[@]}"
out_has "^applied 2$"
settings_on "$TMP/out"
snap "$TMP/applied"
settings_on "$TMP/applied"
[ "$(ids "$TMP/applied")" = "$(ids "$TMP/before")" ] || die "apply changed the NAPI ids"
# one kept entry per NAPI with the old values of the fields set
[ "$(napi_entries "$J0")" -eq 2 ] || { cat "$J0/journal" >&2; die "expected 2 napi entries"; }
for id in $(ids "$TMP/before"); do
	grep -qE "^napi_tool [0-9]+ 0 0 napi $NS_A $DEV_A $ifindex $id threaded=0,defer=1,gro-flush=1000$" "$J0/journal" ||
		{ cat "$J0/journal" >&2; die "no entry for NAPI $id"; }
done
# applying what is there already records nothing
expect 0 tool apply "$J0" "$NS_A" "$DEV_A" "${SET[@]}"
[ "$(napi_entries "$J0")" -eq 2 ] || { cat "$J0/journal" >&2; die "a no-op apply was recorded"; }
expect 0 tool undo "$J0"
out_has "^undone 2$"
snap "$TMP/after"
diff "$TMP/before" "$TMP/after" >&2 || die "undo did not restore the NAPIs exactly"
gone $(pids "$TMP/applied")

# -- apply, then a watcher re-applies after link down/up and GRO off/on --
J1=$TMP/j1
expect 0 tool apply "$J1" "$NS_A" "$DEV_A" "${SET[@]}"
cp "$TMP/out" "$TMP/first"
# "$TOOL" itself, not the function: $! must be the tool's pid for the signals
"$TOOL" watch "$J1" "$NS_A" "$DEV_A" 60 "${SET[@]}" >"$TMP/watch" 2>&1 &
watcher=$!
bg_pids+=("$watcher")
wait_for "$TMP/watch" "^ready 2$"

# what changes no NAPI is filtered out: no event at all
ip -n "$NS_A" link set "$DEV_A" txqueuelen 999 || die "txqueuelen"
ip -n "$NS_A" link set "$DEV_A" txqueuelen 1000 || die "txqueuelen"
sleep 1
grep -q '^event' "$TMP/watch" && { cat "$TMP/watch" >&2; die "txqueuelen reported as a link change"; }

ip -n "$NS_A" link set "$DEV_A" down || die "link down"
ip -n "$NS_A" link set "$DEV_A" up || die "link up"
wait_for "$TMP/watch" "^reapplied 2$"
grep -q "^event $NS_A $DEV_A " "$TMP/watch" || die "no event line"
grep -A2 '^reapplied 2$' "$TMP/watch" | tail -n 2 >"$TMP/re1"
settings_on "$TMP/re1"
for id in $(ids "$TMP/re1"); do
	[[ " $(ids "$TMP/first") " == *" $id "* ]] && die "NAPI $id survived link down/up"
done
snap "$TMP/now"
[ "$(ids "$TMP/now")" = "$(ids "$TMP/re1")" ] || die "the watcher's NAPIs are not the device's"
settings_on "$TMP/now"
gone $(pids "$TMP/first")

# GRO off drops the NAPIs, GRO on makes new ones
ip netns exec "$NS_A" ethtool -K "$DEV_A" gro off >/dev/null || die "gro off"
ip netns exec "$NS_A" ethtool -K "$DEV_A" gro on >/dev/null || die "gro on"
wait_for "$TMP/watch" "^reapplied 2$" 2
grep -A2 '^reapplied 2$' "$TMP/watch" | tail -n 2 >"$TMP/re2"
[ "$(ids "$TMP/re2")" != "$(ids "$TMP/re1")" ] || die "GRO off/on kept the NAPI ids"
snap "$TMP/now"
[ "$(ids "$TMP/now")" = "$(ids "$TMP/re2")" ] || die "the watcher's NAPIs are not the device's"
settings_on "$TMP/now"

# events lost to a full socket queue (ENOBUFS) still count: with the watcher
# stopped, thousands of txqueuelen changes (each filtered on its own)
# overflow its queue, and the device is reported when it reads again
nev=$(grep -c "^event $NS_A $DEV_A up$" "$TMP/watch")
for i in $(seq 10000); do echo "link set $DEV_A txqueuelen $((1000 + i % 2))"; done >"$TMP/batch"
kill -STOP "$watcher"
ip -n "$NS_A" -batch "$TMP/batch" || die "ip -batch"
kill -CONT "$watcher"
wait_for "$TMP/watch" "^event $NS_A $DEV_A up$" $((nev + 1))

kill -TERM "$watcher"
wait "$watcher"
st=$?
bg_pids=()
[ "$st" -eq 0 ] || { cat "$TMP/watch" >&2; die "the watcher exited $st"; }
grep -q "cannot" "$TMP/watch" && { cat "$TMP/watch" >&2; die "the watcher failed"; }

# -- undo the whole journal: every value as before, kthreads gone --
expect 0 tool undo "$J1"
out_has "^undone [0-9]+$"
[ -s "$TMP/out" ] && grep -v '^undone' "$TMP/out" >&2 && die "undo warned"
snap "$TMP/after"
diff <(values "$TMP/before") <(values "$TMP/after") >&2 || die "undo did not restore the values"
gone $(pids "$TMP/re1") $(pids "$TMP/re2")
ps -eo comm= | grep -q "^napi/$DEV_A-" && die "a napi kthread of $DEV_A remains"

# -- kill -9 with the changes in place, then recovery --
J2=$TMP/j2
snap "$TMP/before2"
NAPI_TOOL_HOLD=1 "$TOOL" apply "$J2" "$NS_A" "$DEV_A" threaded=1 defer=3 irq-suspend=2000000 \
	>"$TMP/hold" 2>&1 &
holder=$!
bg_pids+=("$holder")
wait_for "$TMP/hold" "^holding$"
snap "$TMP/held"
grep -q ' threaded=1 irq=-1 defer=3 .* irq_suspend_ns=2000000$' "$TMP/held" || die "not applied"
# (braces: bash reports the killed job on the shell's own stderr)
{ kill -9 "$holder"; wait "$holder"; } 2>/dev/null
bg_pids=()
[ "$(grep -cE '^- [0-9]+ 0 0 napi ' "$J2/journal")" -eq 2 ] || { cat "$J2/journal" >&2; die "expected 2 run entries"; }
expect 0 tool recover "$J2"
out_has "^recovered 2$"
snap "$TMP/after2"
diff "$TMP/before2" "$TMP/after2" >&2 || die "recovery did not restore the NAPIs"
gone $(pids "$TMP/held")
[ "$(napi_entries "$J2")" -eq 0 ] || die "entries remain after recovery"

# -- a failed apply: nothing changed, nothing recorded --
J3=$TMP/j3
if [ "$kver" -lt 6019 ]; then
	# threaded=2 (busy-poll) is refused before 6.19 (ERANGE): whatever the
	# kernel did, the rollback must leave no change and no entry
	expect 1 tool apply "$J3" "$NS_A" "$DEV_A" defer=5 threaded=2
	out_has "ERANGE"
	snap "$TMP/after3"
	diff "$TMP/before2" "$TMP/after3" >&2 || die "a failed apply left changes"
	[ "$(napi_entries "$J3")" -eq 0 ] || die "a failed apply left entries"
fi
expect 1 tool apply "$J3" "$NS_A" nodev0 defer=5
out_has "ENODEV"
expect 1 tool apply "$J3" rtv-lw-none "$DEV_A" defer=5
out_has "ENOENT"
# the peer has GRO off: no NAPI, nothing to do
expect 0 tool apply "$J3" "$NS_B" "$DEV_B" defer=5
out_has "^applied 0$"
[ "$(napi_entries "$J3")" -eq 0 ] || die "entries for a device without NAPI"

# -- an entry whose NAPI, device or namespace is gone is dropped: not undone,
# not counted, no warning, nothing left --
J4=$TMP/j4
J5=$TMP/j5
expect 0 tool apply "$J4" "$NS_A" "$DEV_A" threaded=1
expect 0 tool apply "$J5" "$NS_A" "$DEV_A" defer=4
ip netns exec "$NS_A" ethtool -K "$DEV_A" gro off >/dev/null || die "gro off"
expect 0 tool undo "$J5"
out_has "^undone 0$"
[ "$(napi_entries "$J5")" -eq 0 ] || die "entries of vanished NAPIs kept"
grep -q warning "$TMP/out" && die "undo of vanished NAPIs warned"
ip -n "$NS_A" link del "$DEV_A" || die "cannot delete $DEV_A"
ip netns del "$NS_A" || die "cannot delete $NS_A"
expect 0 tool undo "$J4"
out_has "^undone 0$"
[ "$(napi_entries "$J4")" -eq 0 ] || die "entries of a vanished namespace kept"
grep -q warning "$TMP/out" && die "undo in a vanished namespace warned"
echo ok
