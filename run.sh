#!/usr/bin/env bash
# The two commands of the README, for a fresh Debian 12 machine, as root:
#   ./run.sh compare [OPTIONS]   install what is missing, build, run rtvnet compare
#   ./run.sh test                install what is missing, build, run every test
# Also: ./run.sh build (install + build only), ./run.sh bench (benchmarks).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(gcc rt-app pkg-config meson ninja-build libmnl-dev libjansson-dev libcmocka-dev
          iproute2 ethtool iputils-ping iperf3 sockperf jq locales procps util-linux scdoc nftables
          clang libbpf-dev bpftool crun runc podman rt-tests stress-ng hyperfine
          memcached kamailio sip-tester libmemcached-tools)
BUILD=${BUILD:-build}

install_missing() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "run.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 2
	fi
	echo "run.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

build() {
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" >/dev/null
	fi
	ninja -C "$BUILD" >/dev/null
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
compare)
	install_missing; build
	exec "$BUILD/cli/rtvnet" compare "$@" ;;
test|check)
	install_missing; build
	exec tests/run.sh "$BUILD" ;;
build)
	install_missing; build ;;
bench)
	install_missing; build
	exec bench/run.sh "$BUILD" ;;
*)
	echo "usage: ./run.sh compare [OPTIONS] | test | build | bench" >&2
	exit 2 ;;
esac
