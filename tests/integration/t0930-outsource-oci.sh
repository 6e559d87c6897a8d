#!/usr/bin/env bash
# rtvnet outsource serve/profile with a real OCI runtime (Debian's crun): bad
# input exits 2 and changes nothing; the profile is valid JSON; a container
# run by crun from a root filesystem made of one static program, with its own
# network namespace and the profile as its seccomp policy, hands its listener
# to `serve --netns T`: its UDP echo server's socket is made in T (it answers
# on T's address from a peer across T's veth, `ss -N T` lists it), its
# AF_UNIX sockets stay its own, serve prints what it served per container,
# --once exits when the container's processes are gone, a --policy binds
# its sockets, and the listener
# socket is gone after exit and after kill -9 + the next rtvnet start; a
# container still running when serve stops gets ENOSYS from then on. With
# runc installed (optional), the same through runc, which gives the
# container a v2 cgroup of its own that the helper joins. The host is left
# as found.
#
# crun on a hybrid cgroup host (v1 controllers, a v2 tree at
# /sys/fs/cgroup/unified with a controller in it: hugetlb here) refuses to
# run anything, even with --cgroup-manager=disabled ("cgroups in hybrid mode
# not supported"). The least invasive way round: run crun in a private mount
# namespace where /sys/fs/cgroup/unified is unmounted, so crun sees a v1
# (legacy) host; with --cgroup-manager=disabled it makes no cgroup, and the
# container stays in the test's cgroups. Nothing on the host is changed;
# crun's state lives under $TMP (--root).
. "$(dirname "$0")/lib.sh"

TOOL=$(dirname "$RTVNET")/../tests/unit/outsource_tool
NS_T=rtv-oci-t
NS_P=rtv-oci-p
PORT=7830
spid=
ids=()

command -v crun >/dev/null || skip "needs crun: the OCI runtime (Debian package crun)"
command -v jq >/dev/null || skip "needs jq: to edit config.json"

CRUN_ROOT=$TMP/crun-state
crun_() {
	if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
		[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers)" ]; then
		unshare -m --propagation private sh -c \
			'umount -l /sys/fs/cgroup/unified && exec crun "$@"' crun \
			--root "$CRUN_ROOT" --cgroup-manager=disabled "$@"
	else
		crun --root "$CRUN_ROOT" --cgroup-manager=disabled "$@"
	fi
}

cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	for id in "${ids[@]}"; do
		crun_ kill "$id" KILL >/dev/null 2>&1
		crun_ delete -f "$id" >/dev/null 2>&1
	done
	command -v runc >/dev/null && runc --root "$TMP/runc-state" delete -f t0930-runc >/dev/null 2>&1
	"$RTVNET" -q revert >/dev/null 2>&1
	for ns in "${created[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -x "$TOOL" ] || die "'$TOOL' missing: build the unit tests"
remember_host

# -- bad input: exit 2, a message naming it, no change --
expect 2 "$RTVNET" outsource serve
out_has "'--listener' is required"
echo keep >"$TMP/file"
expect 2 "$RTVNET" outsource serve --listener "$TMP/file"
out_has "'$TMP/file' exists and is not a socket"
[ "$(cat "$TMP/file")" = keep ] || die "the regular file at --listener was changed"
expect 2 "$RTVNET" outsource serve --listener "$TMP/l.sock" --policy "$TMP/nosuch"
out_has "cannot read '$TMP/nosuch'"
expect 2 "$RTVNET" outsource serve --listener "$TMP/l.sock" --netns rtv-oci-none
out_has "no network namespace 'rtv-oci-none'"
[ -e "$TMP/l.sock" ] && die "bad input left '$TMP/l.sock'"
expect 2 "$RTVNET" outsource profile extra
same_as_before "after bad input"

# -- the profile: valid JSON with what the runtime needs --
expect 0 "$RTVNET" outsource profile --listener "$TMP/l.sock" --metadata t0930
jq -e --arg p "$TMP/l.sock" '.defaultAction == "SCMP_ACT_ALLOW" and .listenerPath == $p and
	.listenerMetadata == "t0930" and .architectures == ["SCMP_ARCH_X86_64"] and
	([.syscalls[] | select(.names == ["socket"] and .action == "SCMP_ACT_NOTIFY") |
	  .args[0] | select(.index == 0 and .op == "SCMP_CMP_EQ") | .value] == [2, 10]) and
	([.syscalls[] | select(.names == ["io_uring_setup"])][0] |
	  .action == "SCMP_ACT_ERRNO" and .errnoRet == 1)' "$TMP/out" >/dev/null ||
	{ cat "$TMP/out" >&2; die "profile lacks what a runtime needs"; }
cp "$TMP/out" "$TMP/profile.json"

# -- a root filesystem and a bundle per container --
mkdir -p "$TMP/rootfs" || die "mkdir"
cp "$TOOL" "$TMP/rootfs/outsource_tool" || die "cp"
mkdir -p "$TMP/spec" && (cd "$TMP/spec" && crun spec) || die "crun spec failed"
# bundle NAME ARGS...: $TMP/NAME/config.json running ARGS in a new network
# namespace. CAP_NET_ADMIN only lets the test program read its sockets'
# namespace (SIOCGSKNS); the outsourcing needs nothing of the container.
bundle() {
	local name=$1; shift
	mkdir -p "$TMP/$name"
	jq --arg root "$TMP/rootfs" --slurpfile sc "$TMP/profile.json" \
		--args '.process.terminal = false | .process.args = $ARGS.positional |
		.root = {path: $root, readonly: true} | .linux.seccomp = $sc[0] |
		.mounts |= map(select(.destination != "/sys/fs/cgroup")) |
		.process.capabilities |= with_entries(.value += ["CAP_NET_ADMIN"])' \
		"$@" <"$TMP/spec/config.json" >"$TMP/$name/config.json" || die "jq on config.json"
}

# can crun run a container here at all (no filter)?
mkdir -p "$TMP/probe"
jq --arg root "$TMP/rootfs" '.process.terminal = false | .process.args = ["/outsource_tool", "ns"] |
	.root = {path: $root, readonly: true} | .mounts |= map(select(.destination != "/sys/fs/cgroup"))' \
	<"$TMP/spec/config.json" >"$TMP/probe/config.json"
ids+=(t0930-probe)
(cd "$TMP/probe" && crun_ run t0930-probe) >"$TMP/probe.out" 2>&1 ||
	skip "needs crun able to run a container: $(tr '\n' ' ' <"$TMP/probe.out")"
grep -Eq '^[0-9]+$' "$TMP/probe.out" || die "probe container printed: $(cat "$TMP/probe.out")"

netns_add "$NS_T" "$NS_P"
for ns in "$NS_T" "$NS_P"; do ip -n "$ns" link set lo up; done
ip -n "$NS_T" link add rtvoci0 type veth peer name rtvoci1 netns "$NS_P" || die "veth"
ip -n "$NS_T" addr add 198.19.93.1/24 dev rtvoci0
ip -n "$NS_P" addr add 198.19.93.2/24 dev rtvoci1
ip -n "$NS_T" link set rtvoci0 up && ip -n "$NS_P" link set rtvoci1 up || die "link up"
t_ino=$(stat -L -c %i "/run/netns/$NS_T")
host_ino=$(stat -L -c %i /proc/self/ns/net)
remember_host

# start_serve ARGS...: serve in the background, wait for its socket
start_serve() {
	"$RTVNET" -v outsource serve --listener "$TMP/l.sock" --netns "$NS_T" "$@" >"$TMP/serve.log" 2>&1 &
	spid=$!
	for _ in $(seq 50); do [ -S "$TMP/l.sock" ] && break; sleep 0.1; done
	[ -S "$TMP/l.sock" ] || { cat "$TMP/serve.log" >&2; die "serve made no socket"; }
}

# -- an echo server in a container: its socket in T --
start_serve
bundle echo /outsource_tool echo "$PORT"
ids+=(t0930-echo)
(cd "$TMP/echo" && crun_ run -d t0930-echo) >"$TMP/echo.out" 2>&1 || { cat "$TMP/echo.out" >&2; die "crun run -d failed"; }
for _ in $(seq 50); do grep -q listening "$TMP/echo.out" && break; sleep 0.1; done
grep -q "^listening ns=$t_ino$" "$TMP/echo.out" ||
	{ cat "$TMP/echo.out" "$TMP/serve.log" >&2; die "the container's socket is not in $NS_T"; }
grep -q "container 't0930-echo' (pid [0-9]*, bundle '$TMP/echo', metadata 't0930'): supervised" "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "serve -v did not say it accepted the container"; }
grep -q "has no cgroup v2 cgroup of its own" "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "serve did not say the container has no cgroup of its own"; }
ss -N "$NS_T" -uln | grep -q ":$PORT\b" || die "ss -N $NS_T does not list port $PORT"
expect 0 ip netns exec "$NS_P" "$TOOL" ping 198.19.93.1 "$PORT"
expect 0 ip netns exec "$NS_T" "$TOOL" ping 127.0.0.1 "$PORT"
ss -uln | grep -q ":$PORT\b" && die "the host's namespace lists port $PORT"

# -- AF_UNIX in a container: its own --
bundle unix /outsource_tool socket unix dgram
ids+=(t0930-unix)
(cd "$TMP/unix" && crun_ run t0930-unix) >"$TMP/unix.out" 2>&1 || { cat "$TMP/unix.out" >&2; die "unix container failed"; }
u_ino=$(sed -n 's/^ok ns=\([0-9]*\) .*/\1/p' "$TMP/unix.out")
[ -n "$u_ino" ] && [ "$u_ino" != "$t_ino" ] && [ "$u_ino" != "$host_ino" ] ||
	{ cat "$TMP/unix.out" >&2; die "an AF_UNIX socket was not the container's own"; }

# -- a container still running when serve stops: it fails closed --
bundle loop /outsource_tool loop 100 100
ids+=(t0930-loop)
(cd "$TMP/loop" && crun_ run -d t0930-loop) >"$TMP/loop.out" 2>&1 || { cat "$TMP/loop.out" >&2; die "crun run -d loop failed"; }
for _ in $(seq 50); do grep -q "^loop 3 " "$TMP/loop.out" && break; sleep 0.1; done
grep -q "^loop 3 ok ns=$t_ino$" "$TMP/loop.out" || { cat "$TMP/loop.out" >&2; die "loop container: no socket in $NS_T"; }

# -- stop serve: per container statistics --
crun_ kill t0930-echo KILL >/dev/null 2>&1
for _ in $(seq 50); do crun_ state t0930-echo 2>/dev/null | grep -q '"stopped"' && break; sleep 0.1; done
crun_ delete -f t0930-echo >/dev/null 2>&1
kill -TERM "$spid"
wait "$spid"
rc=$?
spid=
[ "$rc" -eq 0 ] || { cat "$TMP/serve.log" >&2; die "serve exited $rc after SIGTERM"; }
grep -q "^container t0930-echo: 1 notifications, 1 sockets made, 0 refused" "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "echo container's statistics wrong"; }
grep -q "^container t0930-unix: 0 notifications, 0 sockets made" "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "unix container's statistics wrong"; }
grep -Eq "^container t0930-loop: [0-9]+ notifications, [0-9]+ sockets made, 0 refused.*; still running: its IPv4/IPv6 socket\(\) calls now fail with ENOSYS$" "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "loop container not reported as still running"; }
n0=$(wc -l <"$TMP/loop.out")
for _ in $(seq 30); do [ "$(wc -l <"$TMP/loop.out")" -ge $((n0 + 3)) ] && break; sleep 0.1; done
tail -n 2 "$TMP/loop.out" | grep -q "err ENOSYS" || { cat "$TMP/loop.out" >&2; die "no ENOSYS after serve stopped"; }
grep "ok ns=" "$TMP/loop.out" | grep -vq "ok ns=$t_ino$" && { cat "$TMP/loop.out" >&2; die "a socket outside $NS_T"; }
crun_ kill t0930-loop KILL >/dev/null 2>&1
for _ in $(seq 50); do crun_ state t0930-loop 2>/dev/null | grep -q '"stopped"' && break; sleep 0.1; done
crun_ delete -f t0930-loop >/dev/null 2>&1
[ -e "$TMP/l.sock" ] && die "serve left its socket"
same_as_before "after serve"

# -- --once: exits when the container's processes are gone --
start_serve --once
bundle inet /outsource_tool socket inet dgram
# as an unprivileged user: the helper takes its credentials
jq '.process.user = {uid: 65534, gid: 65534}' "$TMP/inet/config.json" >"$TMP/inet/c.json" &&
	mv "$TMP/inet/c.json" "$TMP/inet/config.json" || die "jq user"
ids+=(t0930-inet)
(cd "$TMP/inet" && crun_ run t0930-inet) >"$TMP/inet.out" 2>&1 || { cat "$TMP/inet.out" >&2; die "inet container failed"; }
grep -q "^ok ns=$t_ino " "$TMP/inet.out" || { cat "$TMP/inet.out" >&2; die "inet socket not in $NS_T"; }
for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$spid" 2>/dev/null && die "serve --once still runs after its container ended"
wait "$spid"
rc=$?
spid=
[ "$rc" -eq 0 ] || { cat "$TMP/serve.log" >&2; die "serve --once exited $rc"; }
grep -q "container 't0930-inet' .* as 65534:65534," "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "the helper did not take the container's uid and gid"; }
grep -q "^container t0930-inet: 1 notifications, 1 sockets made" "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "inet container's statistics wrong"; }
same_as_before "after serve --once"

# -- --policy: the container's sockets obey it (bind only PORT+1) --
echo "{\"bind\": [\"udp:$((PORT + 1))\"]}" >"$TMP/policy.json"
start_serve --once --policy "$TMP/policy.json"
bundle pol /outsource_tool echo "$PORT"
ids+=(t0930-pol)
(cd "$TMP/pol" && crun_ run t0930-pol) >"$TMP/pol.out" 2>&1
grep -q "^err bind EPERM$" "$TMP/pol.out" || { cat "$TMP/pol.out" "$TMP/serve.log" >&2; die "a bind the policy forbids was allowed"; }
for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
wait "$spid"
rc=$?
spid=
[ "$rc" -eq 0 ] || { cat "$TMP/serve.log" >&2; die "serve --policy exited $rc"; }
grep -q "^container t0930-pol: 1 notifications, 1 sockets made" "$TMP/serve.log" ||
	{ cat "$TMP/serve.log" >&2; die "policy container's statistics wrong"; }
same_as_before "after serve --policy"

# -- runc (optional): it makes the container a cgroup v2 cgroup of its own,
# even on this hybrid host; the helper joins it, and runc still removes it --
if command -v runc >/dev/null; then
	start_serve --once
	bundle runc /outsource_tool socket inet dgram
	ids+=(t0930-runc)
	(cd "$TMP/runc" && runc --root "$TMP/runc-state" run t0930-runc) >"$TMP/runc.out" 2>&1 ||
		{ cat "$TMP/runc.out" >&2; die "runc run failed"; }
	grep -q "^ok ns=$t_ino " "$TMP/runc.out" || { cat "$TMP/runc.out" >&2; die "runc: socket not in $NS_T"; }
	for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
	wait "$spid"
	rc=$?
	spid=
	[ "$rc" -eq 0 ] || { cat "$TMP/serve.log" >&2; die "serve --once (runc) exited $rc"; }
	grep -q "has no cgroup v2 cgroup of its own" "$TMP/serve.log" &&
		{ cat "$TMP/serve.log" >&2; die "runc's container cgroup not found"; }
	grep -q "container 't0930-runc' .* helper pid [0-9]* in '/sys/fs/cgroup/[a-z/]*t0930-runc'" "$TMP/serve.log" ||
		{ cat "$TMP/serve.log" >&2; die "runc: the helper is not in the container's cgroup"; }
	grep -q "^container t0930-runc: 1 notifications, 1 sockets made" "$TMP/serve.log" ||
		{ cat "$TMP/serve.log" >&2; die "runc container's statistics wrong"; }
	for _ in $(seq 20); do ls -d /sys/fs/cgroup/*/t0930-runc >/dev/null 2>&1 || break; sleep 0.1; done
	ls -d /sys/fs/cgroup/*/t0930-runc 2>/dev/null && die "runc's cgroups left behind"
	same_as_before "after runc"
else
	skip_section "needs runc: the second OCI runtime (Debian package runc)"
fi

# -- kill -9: the socket file is removed by the next rtvnet start --
start_serve
kill -9 "$spid"
wait "$spid" 2>/dev/null
spid=
[ -S "$TMP/l.sock" ] || die "no socket left to recover after kill -9 (test proves nothing)"
expect 0 "$RTVNET" revert
[ -e "$TMP/l.sock" ] && die "the next rtvnet start left serve's socket"
same_as_before "after kill -9 and revert"
echo ok
