#!/usr/bin/env bash
# kill -9 in the middle of compare: the next rtvnet start finds what the dead
# run left (namespaces, cgroups, processes), removes it, and says so.
. "$(dirname "$0")/lib.sh"
"$RTVNET" compare --quick --duration 5s --json "$TMP/k.json" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do ip netns list | grep -q rtv-rts && break; sleep 0.1; done
sleep 3
ip netns list | grep -q rtv-rts || die "compare did not bring up the testbed"
kill -9 $pid
wait $pid 2>/dev/null
sleep 0.5
ip netns list | grep -q rtv- || die "nothing was left to recover (test is not testing)"
expect 0 "$RTVNET" revert
out_has "recovered from an earlier run that did not finish"
ip netns list | grep -q rtv- && die "namespaces left after recovery"
[ -d /sys/fs/cgroup/cpuset/rtvnet ] || [ -d /sys/fs/cgroup/rtvnet ] && die "cgroups left after recovery"
pgrep -f "rtvnet compare" >/dev/null && die "rtvnet children survived"
echo ok
