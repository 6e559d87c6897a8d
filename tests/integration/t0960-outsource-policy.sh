#!/usr/bin/env bash
# lib/outsource/policy.c on a real cgroup v2 cgroup, through
# tests/unit/policy_tool: the policy's BPF programs attached to a test
# cgroup refuse (EPERM) exactly the binds, connects and sends the policy
# does not allow, for sockets made by a process of that cgroup, IPv4, IPv6
# and IPv4-mapped alike, and wherever the socket is used from later (the
# cgroup it was made in decides); the same operations from outside, and
# from inside it after detaching, are all allowed; the refusal counters
# count what was refused; a journal undo detaches links still open; a
# holder killed -9 leaves nothing attached and its journal entry is
# dropped on recovery; the host is left as found.
# The sockets live in a throwaway namespace with a veth pair and default
# routes (a UDP connect needs a route, no peer); nothing leaves it.
. "$(dirname "$0")/lib.sh"

BIN=$(dirname "$RTVNET")/../tests/unit
TOOL=${POLICY_TOOL:-$BIN/policy_tool}
NS=rtv-pol
JDIR=$TMP/journal
holder=

[ -x "$TOOL" ] || die "'$TOOL' missing: build the unit tests"
command -v bpftool >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v bpftool >/dev/null || die "bpftool missing: it is a build dependency"
command -v nsenter >/dev/null || die "nsenter missing"
V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$V2" ] || skip "needs cgroup-v2: no cgroup2 hierarchy mounted"
CG=$V2/rtv-policy-test

cleanup() {
	[ -n "$holder" ] && kill -9 "$holder" 2>/dev/null
	wait 2>/dev/null
	[ -d "$CG" ] && rmdir "$CG"
	for ns in "${created[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

info() { echo "info: $*"; }
# wait_for FILE REGEX: up to 10 s
wait_for() {
	local _
	for _ in $(seq 100); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1" >&2
	die "no /$2/ in '$1'"
}
# links: programs bpftool shows attached to the test cgroup
links() { bpftool cgroup show "$CG" 2>/dev/null | grep -c 'rtv_'; }
# try WHERE: run every operation of $TMP/table in the namespace, from
# inside the test cgroup (WHERE=$CG) or outside it (-)
try() {
	local args=()
	while read -r op proto addr port _; do
		args+=("$op" "$proto" "$addr" "$port")
	done <"$TMP/table"
	nsenter --net="/run/netns/$NS" "$TOOL" try "$1" "${args[@]}" >"$TMP/res" 2>&1 ||
		{ cat "$TMP/res" >&2; die "policy_tool try $1"; }
	[ "$(wc -l <"$TMP/res")" -eq "$(wc -l <"$TMP/table")" ] || { cat "$TMP/res" >&2; die "results missing"; }
}
# check_all_allowed LABEL: no operation refused
check_all_allowed() {
	! grep ' EPERM$' "$TMP/res" >&2 || die "refused $1"
	! grep -Ev ' (ok|EINPROGRESS)$' "$TMP/res" >&2 || die "failed $1"
}

remember_host
[ -e "$CG" ] && die "cgroup '$CG' exists already: remove it first"
mkdir "$CG" || die "cannot make cgroup '$CG'"
netns_add "$NS"
ip -n "$NS" link set lo up || die "lo up"
# a veth pair inside the namespace (no dummy module here)
ip -n "$NS" link add rtvpol0 type veth peer name rtvpol1 || die "cannot add a veth pair"
ip -n "$NS" link set rtvpol0 up || die "link up"
ip -n "$NS" link set rtvpol1 up || die "link up"
ip -n "$NS" addr add 10.77.0.1/24 dev rtvpol0 || die "addr"
ip -n "$NS" -6 addr add 2001:db8:77::1/64 dev rtvpol0 nodad || die "addr6"
ip -n "$NS" route add default dev rtvpol0 || die "route"
ip -n "$NS" -6 route add default dev rtvpol0 || die "route6"

cat >"$TMP/policy.json" <<'EOF'
{
  "bind": ["udp:7000", "tcp:8080-8081", "udp:[::]:7001", "udp:0"],
  "connect": ["198.18.0.0/15", "udp:[2001:db8::]/32:53", "tcp:[2001:db8::]/32"],
  "sendmsg": ["198.18.0.0/15:9000", "[2001:db8::]/32:9000"]
}
EOF
# OP PROTO ADDR PORT EXPECTED PROGRAM: EXPECTED is the result inside the
# cgroup with the policy attached (EINPROGRESS: a TCP connect let through),
# PROGRAM the one that decides: an IPv6 socket's datagram to an IPv4-mapped
# address takes the IPv4 path (udpv6_sendmsg hands it to udp_sendmsg before
# the sendmsg6 hook), so sendmsg4 decides it with the IPv4 address
cat >"$TMP/table" <<'EOF'
bind udp 0.0.0.0 7000 ok bind4
bind udp 0.0.0.0 7002 EPERM bind4
bind tcp 0.0.0.0 8081 ok bind4
bind tcp 0.0.0.0 8082 EPERM bind4
bind udp 0.0.0.0 0 ok bind4
bind tcp 0.0.0.0 0 EPERM bind4
bind udp 10.77.0.1 7000 ok bind4
bind udp :: 7001 ok bind6
bind udp :: 7000 ok bind6
bind udp :: 7003 EPERM bind6
bind udp ::ffff:10.77.0.1 7001 EPERM bind6
connect udp 198.18.1.1 1 ok connect4
connect udp 10.77.0.9 1 EPERM connect4
connect tcp 198.18.0.2 80 EINPROGRESS connect4
connect tcp 10.77.0.9 80 EPERM connect4
connect udp 2001:db8::5 53 ok connect6
connect udp 2001:db8::5 54 EPERM connect6
connect udp 2001:db9::5 53 EPERM connect6
connect tcp 2001:db8::7 443 EINPROGRESS connect6
connect udp ::ffff:10.77.0.9 1 EPERM connect6
connect udp ::ffff:198.18.0.5 1 ok connect6
sendto udp 198.18.0.7 9000 ok sendmsg4
sendto udp 198.18.0.7 9001 EPERM sendmsg4
sendto udp 10.77.0.9 9000 EPERM sendmsg4
sendto udp 2001:db8::9 9000 ok sendmsg6
sendto udp 2001:db9::9 9000 EPERM sendmsg6
sendto udp ::ffff:198.18.0.7 9000 ok sendmsg4
sendto udp ::ffff:10.77.0.9 9000 EPERM sendmsg4
EOF

# bad input: the message names the file, the entry and what is wrong
echo '{"bind": ["udp:70000"]}' >"$TMP/bad.json"
expect 1 "$TOOL" check "$TMP/bad.json"
out_has "^policy_tool: $TMP/bad.json: bind\[0\] \"udp:70000\": port 70000 out of range 0-65535$"
expect 0 "$TOOL" check "$TMP/policy.json"
out_has '^connect udp:\[2001:db8::\]/32:53$'

# control: outside the cgroup nothing is refused
try -
check_all_allowed "outside the cgroup, nothing attached"
try "$CG"
check_all_allowed "inside the cgroup, nothing attached"

"$TOOL" hold "$JDIR" "$CG" "$TMP/policy.json" >"$TMP/hold" 2>&1 &
holder=$!
wait_for "$TMP/hold" '^attached|cannot'
if grep -q 'cannot attach' "$TMP/hold"; then
	grep -Eq 'Operation not permitted|not supported' "$TMP/hold" &&
		skip "needs bpf-cgroup: $(cat "$TMP/hold")"
	cat "$TMP/hold" >&2
	die "attach failed"
fi
out=$(grep '^attached' "$TMP/hold")
[ "$out" = "attached links=6" ] || die "attach: '$out', expected 6 links"
[ "$(links)" -eq 6 ] || { bpftool cgroup show "$CG" >&2; die "bpftool shows $(links) programs on $CG, not 6"; }
"$RTVNET" status --snapshot >"$TMP/snap" || die "rtvnet status --snapshot failed"
grep -q "^bpf link $CG cgroup_inet4_connect prog=rtv_connect4$" "$TMP/snap" ||
	die "the snapshot does not show the attachment"

try "$CG"
paste -d ' ' "$TMP/table" <(awk '{ print $5 }' "$TMP/res") >"$TMP/cmp"
awk '$5 != $7 { bad = 1; print "expected " $5 ", got " $7 ": " $1, $2, $3, $4 } END { exit bad }' \
	"$TMP/cmp" >&2 || die "policy not enforced as written"
info "$(grep -c ' EPERM$' "$TMP/res") of $(wc -l <"$TMP/table") operations refused, as expected"
# outside the cgroup, still nothing refused
try -
check_all_allowed "outside the cgroup with the policy attached"
# the cgroup a socket was made in decides, not the user's (why rtvnet makes
# a container's sockets from a helper in the container's cgroup): made
# inside and used from the root cgroup, refused; made in the root cgroup
# and used from inside, allowed
nsenter --net="/run/netns/$NS" "$TOOL" try-moved "$CG" "$V2" connect udp 10.77.0.9 1 \
	sendto udp 2001:db9::9 9000 bind udp 0.0.0.0 7002 >"$TMP/res" 2>&1 ||
	{ cat "$TMP/res" >&2; die "policy_tool try-moved"; }
[ "$(grep -c ' EPERM$' "$TMP/res")" -eq 3 ] ||
	{ cat "$TMP/res" >&2; die "a socket made in the cgroup escaped its policy once moved out"; }
nsenter --net="/run/netns/$NS" "$TOOL" try-moved "$V2" "$CG" connect udp 10.77.0.9 1 \
	sendto udp 2001:db9::9 9000 bind udp 0.0.0.0 7002 >"$TMP/res" 2>&1 ||
	{ cat "$TMP/res" >&2; die "policy_tool try-moved"; }
check_all_allowed "for sockets made outside the cgroup, used inside"

kill -USR1 "$holder"
wait_for "$TMP/hold" '^counts'
counts=$(grep -m 1 '^counts' "$TMP/hold")
info "$counts"
for prog in bind4 bind6 connect4 connect6 sendmsg4 sendmsg6; do
	# the table's operations, and the three refusals of sockets made
	# inside and used outside (connect4, sendmsg6, bind4)
	calls=$(awk -v p="$prog" '$6 == p' "$TMP/table" | wc -l)
	refused=$(awk -v p="$prog" '$6 == p && $5 == "EPERM"' "$TMP/table" | wc -l)
	case $prog in
	connect4 | sendmsg6 | bind4) calls=$((calls + 1)) refused=$((refused + 1)) ;;
	esac
	got=$(tr ' ' '\n' <<<"$counts" | sed -n "s/^$prog=//p")
	[ "$got" = "$calls/$refused" ] || die "$prog counted $got (calls/refused), expected $calls/$refused"
done

kill -TERM "$holder"
wait "$holder" || { cat "$TMP/hold" >&2; die "policy_tool hold exited $?"; }
holder=
grep -q '^detached links=0$' "$TMP/hold" || { cat "$TMP/hold" >&2; die "links left after detach"; }
[ "$(links)" -eq 0 ] || die "bpftool shows $(links) programs on $CG after detach"
try "$CG"
check_all_allowed "inside the cgroup after detach"

# a journal undo detaches links whose fds are still open
expect 0 "$TOOL" undo-live "$JDIR" "$CG" "$TMP/policy.json"
out_has '^attached links=6$'
out_has '^undone 1 links=0$'
[ "$(links)" -eq 0 ] || die "programs left after undo-live"

# a list allowing everything has its programs left unattached (nothing to
# refuse, no cost): the default policy's shape, bind only port 7000
echo '{"bind": ["udp:7000"]}' >"$TMP/open.json"
"$TOOL" hold "$JDIR" "$CG" "$TMP/open.json" >"$TMP/hold" 2>&1 &
holder=$!
wait_for "$TMP/hold" '^attached'
grep -q '^attached links=2$' "$TMP/hold" || { cat "$TMP/hold" >&2; die "not 2 links for a bind-only policy"; }
[ "$(bpftool cgroup show "$CG" | awk '/rtv_/ { print $NF }' | sort | tr '\n' ' ')" = "rtv_bind4 rtv_bind6 " ] ||
	{ bpftool cgroup show "$CG" >&2; die "programs other than bind4/bind6 attached for a bind-only policy"; }
try "$CG"
awk '{ print $1, $2, $3, $4, ($1 == "bind" && !($2 == "udp" && $4 == 7000)) ? "EPERM" : "-" }' "$TMP/table" |
	paste -d ' ' - <(awk '{ print $5 }' "$TMP/res") |
	awk '($5 == "EPERM") != ($6 == "EPERM") { bad = 1; print "expected " $5 ", got " $6 ": " $1, $2, $3, $4 }
	     END { exit bad }' >&2 || die "bind-only policy not enforced as written"
kill -TERM "$holder"
wait "$holder" || die "policy_tool hold exited $?"
holder=

# kill -9 while attached: the link fds close, nothing stays attached; the
# journal entry left is dropped on recovery (its target is gone)
"$TOOL" hold "$JDIR" "$CG" "$TMP/policy.json" >"$TMP/hold" 2>&1 &
holder=$!
wait_for "$TMP/hold" '^attached links=6$'
kill -9 "$holder"
wait "$holder" 2>/dev/null
holder=
for _ in $(seq 50); do
	[ "$(links)" -eq 0 ] && break
	sleep 0.1
done
[ "$(links)" -eq 0 ] || { bpftool cgroup show "$CG" >&2; die "programs left attached after kill -9"; }
try "$CG"
check_all_allowed "inside the cgroup after kill -9"
grep -Eq '^- [0-9]+ 0 0 bpf ' "$JDIR/journal" || die "no journal entry left by the killed holder"
expect 0 "$TOOL" recover "$JDIR"
out_has '^recovered 0 left 0$'

bpftool cgroup tree "$CG" >"$TMP/tree" 2>&1 || die "bpftool cgroup tree '$CG' failed"
! grep rtv_ "$TMP/tree" >&2 || die "bpftool cgroup tree shows programs on '$CG'"
rmdir "$CG" || die "cannot remove cgroup '$CG'"
for ns in "${created[@]}"; do
	ip netns del "$ns"
done
created=()
same_as_before "after the policy test"
echo ok
