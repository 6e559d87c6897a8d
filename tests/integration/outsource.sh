# What the `rtvnet outsource run` tests share (sourced after lib.sh): the
# static test program, the namespaces (C where CMD runs, T where its
# sockets are made, P a peer across T's veth), the cleanup of the
# supervisor (spid) and of any pid in extra_pids, and the T-P link.
TOOL=$(dirname "$RTVNET")/../tests/unit/outsource_tool
NS_C=rtv-os-c
NS_T=rtv-os-t
NS_P=rtv-os-p
spid=
extra_pids=()

cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	for p in "${extra_pids[@]}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	"$RTVNET" -q revert >/dev/null 2>&1
	for ns in "${created[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -x "$TOOL" ] || die "'$TOOL' missing: build the unit tests"

# C, T and P with loopback up, T's rtvos0 198.19.90.1 to P's rtvos1
# 198.19.90.2; t_ino and c_ino the namespaces' inode numbers.
outsource_netns_up() {
	netns_add "$NS_C" "$NS_T" "$NS_P"
	for ns in "$NS_C" "$NS_T" "$NS_P"; do ip -n "$ns" link set lo up; done
	ip -n "$NS_T" link add rtvos0 type veth peer name rtvos1 netns "$NS_P" || die "veth"
	ip -n "$NS_T" addr add 198.19.90.1/24 dev rtvos0
	ip -n "$NS_P" addr add 198.19.90.2/24 dev rtvos1
	ip -n "$NS_T" link set rtvos0 up && ip -n "$NS_P" link set rtvos1 up || die "link up"
	t_ino=$(stat -L -c %i "/run/netns/$NS_T")
	c_ino=$(stat -L -c %i "/run/netns/$NS_C")
}
