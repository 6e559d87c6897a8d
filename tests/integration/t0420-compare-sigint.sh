#!/usr/bin/env bash
# Ctrl-C (SIGINT) in the middle of compare: the current run stops, the host is
# restored by the process itself (no recovery needed at the next start), and
# the exit status says it did not finish.
. "$(dirname "$0")/lib.sh"
"$RTVNET" compare --quick --duration 5s --json "$TMP/i.json" >"$TMP/out" 2>&1 &
pid=$!
for _ in $(seq 50); do ip netns list | grep -q rtv-rts && break; sleep 0.1; done
sleep 2
ip netns list | grep -q rtv-rts || die "compare did not bring up the testbed"
kill -INT $pid
wait $pid
st=$?
[ "$st" -eq 1 ] || { cat "$TMP/out"; die "exit status $st after SIGINT, expected 1"; }
out_has "interrupted: stopped after .* the host is restored"
ip netns list | grep -q rtv- && die "namespaces left after SIGINT"
[ -s /run/rtvnet/journal ] && die "journal entries left after SIGINT"
expect 0 "$RTVNET" revert
grep -q "recovered" "$TMP/out" && die "the interrupted run left something to recover"
echo ok
