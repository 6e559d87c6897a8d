#!/usr/bin/env bash
# Bad input to `rtvnet stream` and `rtvnet netrt server`: every bad argument
# exits 2 with a message naming the input and what is wrong, and changes
# nothing: run in a namespace of this test's own, where no socket may be
# left listening, and nothing else of the host may change.
. "$(dirname "$0")/lib.sh"

NS=rtv-badin
created=()
snapshot() {
	ip netns list | awk '{print $1}' | grep '^rtv-' | sort
	cat /run/rtvnet/journal 2>/dev/null
	ls /run/rtvnet/apply 2>/dev/null
	ip netns exec "$NS" ss -Hantu
	ip -n "$NS" -o addr
}
cleanup() {
	[ ${#created[@]} -eq 0 ] || ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns list | grep -qw "^$NS" && die "namespace '$NS' exists already: remove it first"
ip netns add "$NS" || die "cannot add namespace '$NS'"
created+=("$NS")
ip -n "$NS" link set lo up || die "lo up"
remember_host

# bad MESSAGE-REGEX ARGS...: rtvnet ARGS in the namespace exits 2 saying so
bad() {
	local msg=$1; shift
	expect 2 ip netns exec "$NS" timeout 10 "$RTVNET" "$@"
	out_has "$msg"
}

for mode in "stream sink" "netrt server"; do
	set -- $mode
	# addresses
	bad "option '--bind': 'foo' is not a numeric IPv4 or IPv6 address" "$@" --bind foo
	bad "option '--bind': '127.1' is not a numeric IPv4 or IPv6 address" "$@" --bind 127.1
	bad "option '--bind': '198.18.0.256' is not a numeric" "$@" --bind 198.18.0.256
	bad "option '--bind': '\[::1\]' is not a numeric" "$@" --bind '[::1]'
	bad "option '--bind': 'fe80::1' is link-local: add its interface" "$@" --bind fe80::1
	bad "option '--bind': 'fe80::1%rtvnope0': no network interface 'rtvnope0' here" \
		"$@" --bind 'fe80::1%rtvnope0'
	bad "option '--bind': '198.51.100.1' is not an address of this host" "$@" --bind 198.51.100.1
	bad "option '--bind': 'fd00::9' is not an address of this host" "$@" --bind fd00::9
	bad "option '--bind' needs a value" "$@" --bind
	# ports
	bad "option '--port': 0 is out of range 1-65535" "$@" --port 0
	bad "option '--port': 65536 is out of range 1-65535" "$@" --port 65536
	bad "option '--port': -1 is out of range 1-65535" "$@" -p -1
	bad "option '--port': 'http' is not a whole number" "$@" --port http
	bad "option '--port' needs a value" "$@" --port
	# unknown options, stray arguments
	bad "unknown option '--frob'" "$@" --frob
	bad "unknown option '-z'" "$@" -z
	bad "unknown option '--target'" "$@" --target 127.0.0.1
	bad "takes no arguments, got 'extra'" "$@" extra
	bad "takes no arguments, got '127.0.0.1'" "$@" --port 7000 127.0.0.1
done

# stream sink and source: sizes, durations, protocols, rates
for mode in sink source; do
	t=()
	[ $mode = source ] && t=(--target 127.0.0.1)
	bad "option '--size': -1 is out of range 0-16777216" stream $mode "${t[@]}" --size -1
	bad "option '--size': '1k' is not a whole number" stream $mode "${t[@]}" --size 1k
	bad "option '--size': 16777217 is out of range 0-16777216" stream $mode "${t[@]}" --size 16777217
	bad "option '--size': 7 is out of range 8-65507 for UDP" stream $mode "${t[@]}" --proto udp --size 7
	bad "option '--size': 65508 is out of range 8-65507 for UDP" stream $mode "${t[@]}" --proto udp --size 65508
	bad "option '--duration': must be greater than zero" stream $mode "${t[@]}" --duration 0
	bad "option '--duration': must be greater than zero, not '-1s'" stream $mode "${t[@]}" --duration -1s
	bad "option '--duration': '2 s' is not a duration" stream $mode "${t[@]}" --duration '2 s'
	bad "option '--duration': '10x' is not a duration" stream $mode "${t[@]}" -d 10x
	bad "option '--interval': must be greater than zero" stream $mode "${t[@]}" --interval 0
	bad "option '--proto': 'sctp' is not one of tcp, udp" stream $mode "${t[@]}" --proto sctp
	bad "option '--json' needs a value" stream $mode "${t[@]}" --json
done
bad "unknown option '--rate'" stream sink --rate 5M
bad "option '--target' is required" stream source
bad "option '--target': 'sink.example' is not a numeric IPv4 or IPv6 address" \
	stream source --target sink.example
bad "option '--target': 'fe80::1' is link-local: add its interface" stream source --target fe80::1
bad "option '--target' needs a value" stream source --target
bad "unknown option '--bind'" stream source --target 127.0.0.1 --bind 127.0.0.1
bad "takes no arguments, got 'extra'" stream source --target 127.0.0.1 extra
bad "option '--rate': needs --proto udp" stream source --target 127.0.0.1 --rate 5M
bad "option '--rate': '5Q' is not a rate in bits/s" stream source --target 127.0.0.1 --proto udp --rate 5Q
bad "option '--rate': '-5M' is not a rate" stream source --target 127.0.0.1 --proto udp --rate -5M
bad "'sideways' is not one of sink, source" stream sideways
bad "usage: rtvnet stream" stream

# netrt server: scheduling
bad "option '--prio': needs --policy fifo or rr" netrt server --prio 50
bad "option '--prio': '0' is not a priority from 1 to 99" netrt server --policy fifo --prio 0
bad "option '--prio': '100' is not a priority from 1 to 99" netrt server --policy rr --prio 100
bad "option '--policy': 'batch' is not one of other, fifo, rr" netrt server --policy batch
bad "option '--cpu': CPU 4096 does not exist|option '--cpu': '4096' names a CPU that does not exist" \
	netrt server --cpu 4096
bad "option '--cpu': 'x' is not a CPU list" netrt server --cpu x
# an address that is not here is refused before the policy is applied
bad "option '--bind': '198.51.100.1' is not an address of this host" \
	netrt server --bind 198.51.100.1 --policy fifo --prio 10
bad "'sideways' is not one of server, client" netrt sideways

same_as_before "after bad input"
echo ok
