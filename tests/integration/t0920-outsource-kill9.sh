#!/usr/bin/env bash
# The supervisor killed (kill -9) while CMD runs: rtvnet fails closed. CMD's
# AF_INET socket() calls returned sockets in T until then and ENOSYS after,
# never a socket in another namespace; its AF_UNIX sockets still work; the
# helper died with the supervisor; CMD, journaled, is ended by the next
# rtvnet start (`rtvnet revert`), which removes the cgroup too. The host is
# left as found.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/outsource.sh"
netns_add "$NS_C" "$NS_T"
t_ino=$(stat -L -c %i "/run/netns/$NS_T")
remember_host
# alive PID: running and not a zombie (CMD's new parent may reap it late)
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ sub(/.*\) /, ""); exit $1 != "Z" }' "/proc/$1/stat"; }

nsenter --net="/run/netns/$NS_C" "$RTVNET" outsource run --netns "$NS_T" -- \
	"$TOOL" loop 60 100 >"$TMP/loop" 2>&1 &
spid=$!
for _ in $(seq 50); do grep -q "^loop 3 " "$TMP/loop" && break; sleep 0.1; done
grep -q "^loop 3 ok ns=$t_ino$" "$TMP/loop" || { cat "$TMP/loop" >&2; die "no outsourced socket before the kill"; }
helper=$(pgrep -P "$spid" -x rtv-osock)
[ -n "$helper" ] || die "no helper process"
cmdpid=$(pgrep -P "$spid" -x outsource_tool)
[ -n "$cmdpid" ] || die "no CMD process"
extra_pids=("$cmdpid")
cg=$(ls -d /sys/fs/cgroup/unified/rtvnet/outsource-"$spid" 2>/dev/null)
[ -n "$cg" ] || die "no cgroup v2 cgroup rtvnet/outsource-$spid"
kill -9 "$spid"
wait "$spid" 2>/dev/null
spid=
for _ in $(seq 30); do grep -q "err ENOSYS" "$TMP/loop" && break; sleep 0.1; done
sleep 0.3
cat "$TMP/loop"
grep -q "^loop [0-9]* err ENOSYS$" "$TMP/loop" || die "no ENOSYS after the supervisor died"
# every line is a socket in T or ENOSYS: never a socket elsewhere
grep -Ev "^loop [0-9]+ (ok ns=$t_ino|err ENOSYS)$" "$TMP/loop" && die "a socket() result other than T's or ENOSYS"
# once ENOSYS, always ENOSYS
awk '/ENOSYS/ { e = 1 } e && /ok/ { exit 1 }' "$TMP/loop" || die "a socket after ENOSYS"
for _ in $(seq 20); do alive "$helper" || break; sleep 0.1; done
alive "$helper" && die "the helper outlived the supervisor"
alive "$cmdpid" || die "CMD ended with the supervisor (the test cannot see the recovery)"
# the next start ends CMD and removes the cgroup
expect 0 "$RTVNET" revert
out_has "recovered from an earlier run that did not finish"
sleep 0.2
alive "$cmdpid" && die "CMD survived the recovery"
[ -d "$cg" ] && die "cgroup '$cg' left"
same_as_before "after kill -9 and recovery"
echo ok
