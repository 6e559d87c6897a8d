#!/bin/bash
# Captures sockperf 3.7's client output (stdout and stderr, verbatim) on
# loopback for tests/unit/test_sockperf.c. Run from this folder, under
# flock /tmp/rtv-tests.lock (a bench: it busy-waits a CPU). Each NAME.txt is
# one client run; NAME.cmd its command line and exit status.
P=${P:-17711}
A="-i 127.0.0.1 -p $P"
sockperf server $A > server.txt 2>&1 &
S=$!
sleep 0.5
run() {
	local name=$1; shift
	echo "sockperf $*" > $name.cmd
	sockperf "$@" > $name.txt 2>&1
	echo "exit $?" >> $name.cmd
}
C="--full-rtt --reply-every 1"
run ul-1000-m18 under-load $A --mps 1000 -m 18 -t 2 $C
run ul-1000-m1472 under-load $A --mps 1000 -m 1472 -t 2 $C
run ul-20000-m18 under-load $A --mps 20000 -m 18 -t 2 $C
run ul-20000-m1472 under-load $A --mps 20000 -m 1472 -t 2 $C
# without --full-rtt: the same figures halved (avg-latency)
run ul-1000-m18-half under-load $A --mps 1000 -m 18 -t 2 --reply-every 1
# --no-rdtsc (CLOCK_MONOTONIC instead of the TSC): 3.7 then sends at about
# half the rate asked (955 messages in 2 s at --mps 1000)
run ul-1000-m18-nordtsc under-load $A --mps 1000 -m 18 -t 2 $C --no-rdtsc
# a rate it cannot reach: it sends as fast as it can, drops, says so
run ul-2000000-m18 under-load $A --mps 2000000 -m 18 -t 2 $C
# below the 14-byte header
run ul-m13 under-load $A --mps 1000 -m 13 -t 1 $C
kill $S
wait $S
# no server: nothing answers
run ul-noserver under-load $A --mps 1000 -m 18 -t 1 $C
