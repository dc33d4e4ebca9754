#!/usr/bin/env bash
# Brings this machine to where xdpswitch runs and its tests pass: checks the kernel,
# installs missing Debian packages, runs `npm ci` when node_modules is stale, then
# builds vmlinux.h, the BPF objects, the native addon and dist/ (make, incremental).
# Idempotent, and silent when there is nothing to do.
#   scripts/setup.sh             everything (what `npm test` and `npm run demo` call)
#   scripts/setup.sh --from-npm  from npm's prepare step: no `npm ci` (npm is running it)
#   scripts/setup.sh --build     only the build step
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
say() { echo "xdpswitch setup: $*" >&2; }
die() { say "$*"; exit 1; }

# Debian packages: building (clang, libbpf, libmnl), running (iproute2, ethtool, bpftool),
# the stock OVS clients and reference daemons, and the test tools.
PACKAGES=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev libmnl-dev pkg-config make g++ bpftool
  iproute2 ethtool iputils-ping tcpdump iperf3 netsniff-ng
  openvswitch-common openvswitch-switch python3 python3-scapy python3-os-ken
  mininet conntrack
)

check_kernel() {
  [ "$(id -u)" = 0 ] || die "must run as root (BPF programs, network namespaces and apt need it)"
  local rel major minor
  rel=$(uname -r); major=${rel%%.*}; minor=${rel#*.}; minor=${minor%%.*}
  if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 1 ]; }; then
    die "kernel $rel is too old: XDP live frames, ring buffers and the XDP load/store helpers need Linux 6.1 or later"
  fi
  [ -r /sys/kernel/btf/vmlinux ] || die "kernel $rel has no BTF (/sys/kernel/btf/vmlinux): CO-RE BPF objects need CONFIG_DEBUG_INFO_BTF=y"
  if ! mountpoint -q /sys/fs/bpf; then
    mount -t bpf bpf /sys/fs/bpf 2>/dev/null || die "no bpffs at /sys/fs/bpf and mounting one failed: pinned maps and programs need it"
  fi
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}); run this as root to install them"
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local log=/tmp/xdpswitch-apt.log
  { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 \
    || { tail -20 "$log" >&2; die "apt-get install failed (full log: $log)"; }
}

check_bpf() {
  # bpftool talks to the bpf() syscall: if this fails, BPF is disabled or forbidden here.
  bpftool prog list >/dev/null 2>&1 || die "the bpf() syscall is unavailable (kernel without CONFIG_BPF_SYSCALL, or blocked by a sandbox)"
}

npm_ci() {
  local stamp=node_modules/.xdpswitch-lock
  if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then return 0; fi
  say "installing npm dependencies (npm ci)"
  XDPSWITCH_IN_SETUP=1 npm ci --no-audit --no-fund --loglevel=error --ignore-scripts >/dev/null
  cp package-lock.json "$stamp"
}

build() {
  make -s all
}

case "$mode" in
  all)
    check_kernel; install_packages; check_bpf; npm_ci; build ;;
  --from-npm)
    # Run by npm ci/install in this package: no `npm ci` here.
    [ -n "${XDPSWITCH_IN_SETUP:-}" ] && exit 0
    if [ "$(id -u)" = 0 ]; then check_kernel; install_packages; fi
    build ;;
  --build)
    build ;;
  *)
    die "unknown mode $mode (use --from-npm or --build)" ;;
esac
