# Shared by the integration tests: source it first.
set -uo pipefail
: "${RTVNET:?RTVNET must name the rtvnet binary}"
die() { echo "FAIL: $*" >&2; exit 1; }
# skip "needs CAPABILITY: detail": the whole test cannot run here (exit 77).
# skip_section "needs CAPABILITY: detail": one part of it cannot; it goes on.
# tests/run.sh counts both and fails a skip whose capability the README's
# "Capabilities" list does not name.
skip() { echo "skip: $*"; exit 77; }
skip_section() { echo "skip-section: $*"; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# expect STATUS CMD...: run, keep output in $TMP/out, check the exit status
expect() {
	local want=$1; shift
	"$@" >"$TMP/out" 2>&1
	local got=$?
	[ "$got" -eq "$want" ] || { cat "$TMP/out" >&2; die "'$*' exited $got, expected $want"; }
}
# out_has REGEX: the last command's output matches
out_has() { grep -Eq -- "$1" "$TMP/out" || { cat "$TMP/out" >&2; die "output lacks /$1/"; }; }
# snapshot: the host as rtvnet sees it (every journal kind's reader) and the
# journal; a test may define its own, narrower or with more. remember_host
# records it, same_as_before LABEL checks it is back.
snapshot() {
	"$RTVNET" status --snapshot
	cat /run/rtvnet/journal 2>/dev/null
}
remember_host() { snapshot >"$TMP/before"; }
same_as_before() {
	snapshot >"$TMP/after"
	diff -u "$TMP/before" "$TMP/after" >&2 || die "host not restored $1"
}
# netns_add NS...: make throwaway namespaces (refusing ones that exist),
# each added to the array `created` for the test's cleanup
created=()
netns_add() {
	local ns
	for ns in "$@"; do
		ip netns list | grep -qw "^$ns" && die "namespace '$ns' exists already: remove it first"
		ip netns add "$ns" || die "cannot add namespace '$ns'"
		created+=("$ns")
	done
}
