#!/usr/bin/env bash
# rtvnet outsource run: bad input exits 2 and starts nothing; CMD's exit
# status comes back; a UDP echo server started in namespace C under
# `--netns T` has its socket in T: it answers from T (IPv4 and IPv6) and from
# a peer across T's veth, not from C, and `ss -N T` lists it, `ss -N C` not;
# SOCK_NONBLOCK/SOCK_CLOEXEC are kept; a dynamically linked program (rtvnet
# netrt server) works as the static test program does; SIGTERM to rtvnet
# ends CMD, and the host is left as found.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/outsource.sh"
PORT=7790
file -L "$TOOL" 2>/dev/null | grep -q 'statically linked' || [ ! -x /usr/bin/file ] ||
	die "'$TOOL' should be linked statically"
remember_host

# -- bad input: exit 2, a message naming it, nothing started --
expect 2 "$RTVNET" outsource run
out_has "no command given"
expect 2 "$RTVNET" outsource run --netns rtv-os-none -- true
out_has "no network namespace 'rtv-os-none'"
expect 2 "$RTVNET" outsource run --user nobody -- true
out_has "'--user': 'nobody' is not UID"
expect 2 "$RTVNET" outsource run --policy "$TMP/nosuch" -- true
out_has "cannot read '$TMP/nosuch'"
expect 2 "$RTVNET" outsource nosuch
same_as_before "after bad input"

# -- CMD's exit status, 127 when it cannot start --
expect 7 "$RTVNET" outsource run -- sh -c 'exit 7'
expect 127 "$RTVNET" outsource run -- "$TMP/nosuch-program"
out_has "cannot run"

outsource_netns_up
remember_host

# -- flags pass through, the socket is T's --
expect 0 nsenter --net="/run/netns/$NS_C" "$RTVNET" outsource run --netns "$NS_T" -- \
	"$TOOL" socket inet dgram nonblock cloexec
out_has "^ok ns=$t_ino nonblock=1 cloexec=1$"
expect 0 nsenter --net="/run/netns/$NS_C" "$RTVNET" outsource run --netns "$NS_T" -- "$TOOL" socket inet6 stream
out_has "^ok ns=$t_ino nonblock=0 cloexec=0$"
# without --netns: rtvnet's own namespace (C)
expect 0 nsenter --net="/run/netns/$NS_C" "$RTVNET" outsource run -- "$TOOL" socket inet dgram
out_has "^ok ns=$c_ino "
# an AF_UNIX socket is never outsourced
expect 0 nsenter --net="/run/netns/$NS_C" "$RTVNET" outsource run --netns "$NS_T" -- "$TOOL" socket unix dgram
out_has "^ok ns=$c_ino "

# -- a UDP echo server started in C, its socket in T --
nsenter --net="/run/netns/$NS_C" "$RTVNET" -v outsource run --netns "$NS_T" -- "$TOOL" echo "$PORT" \
	>"$TMP/echo.log" 2>&1 &
spid=$!
for _ in $(seq 50); do grep -q listening "$TMP/echo.log" && break; sleep 0.1; done
grep -q "^listening ns=$t_ino$" "$TMP/echo.log" || { cat "$TMP/echo.log" >&2; die "echo server not in T"; }
grep -q "warning" "$TMP/echo.log" && { cat "$TMP/echo.log" >&2; die "warnings"; }
grep -q "features: wait-killable" "$TMP/echo.log" || die "WAIT_KILLABLE_RECV not in force on $(uname -r)"
ss -N "$NS_T" -uln | grep -q ":$PORT\b" || die "ss -N $NS_T does not list port $PORT"
ss -N "$NS_C" -uln | grep -q ":$PORT\b" && die "ss -N $NS_C lists port $PORT"
expect 0 ip netns exec "$NS_T" "$TOOL" ping 127.0.0.1 "$PORT"
expect 0 ip netns exec "$NS_T" "$TOOL" ping ::1 "$PORT"
expect 0 ip netns exec "$NS_P" "$TOOL" ping 198.19.90.1 "$PORT"
expect 1 ip netns exec "$NS_C" "$TOOL" ping 127.0.0.1 "$PORT"
out_has timeout
# SIGTERM reaches CMD, which exits 0; so does rtvnet
kill -TERM "$spid"
wait "$spid"
rc=$?
spid=
[ "$rc" -eq 0 ] || { cat "$TMP/echo.log" >&2; die "rtvnet outsource run exited $rc after SIGTERM"; }
grep -Eq "1 notifications: 1 sockets made, 0 refused" "$TMP/echo.log" ||
	{ cat "$TMP/echo.log" >&2; die "statistics wrong"; }
same_as_before "after the echo server"

# -- a dynamically linked program: rtvnet's own netrt server --
nsenter --net="/run/netns/$NS_C" "$RTVNET" outsource run --netns "$NS_T" -- "$RTVNET" netrt server \
	--port $((PORT + 1)) >"$TMP/netrt.log" 2>&1 &
spid=$!
for _ in $(seq 50); do grep -q listening "$TMP/netrt.log" && break; sleep 0.1; done
expect 0 ip netns exec "$NS_P" "$TOOL" ping 198.19.90.1 $((PORT + 1))
ss -N "$NS_T" -uln | grep -q ":$((PORT + 1))\b" || die "netrt server not in $NS_T"
kill -INT "$spid"
wait "$spid"
rc=$?
spid=
[ "$rc" -eq 0 ] || { cat "$TMP/netrt.log" >&2; die "netrt server under outsource exited $rc"; }
grep -q "1 request echoed" "$TMP/netrt.log" || { cat "$TMP/netrt.log" >&2; die "netrt did not echo"; }
same_as_before "after netrt"
echo ok
