#!/usr/bin/env bash
# Proves a clean install: builds a minimal Debian 12 root with debootstrap
# (variant minbase, this machine's apt mirror), clones the committed checkout
# into it and runs, as a new user would:
#   1. scripts/demo.sh, then scripts/test.sh (each installs what it needs);
#   2. cpack -G DEB there, then in a second fresh minbase root (no build
#      tools) apt install ./signvote_*.deb and train the toy problem with the
#      installed signvote, signvote-mpirun and share/signvote/configs;
# and prints one result line with the time taken. Needs root (chroot, mounts)
# and the network to the apt mirror; about 30-40 minutes on 2 cores.
#
#   scripts/check_fresh_debian.sh [WORK_DIR]      (default /var/tmp/signvote-fresh)
#
# Only committed work is tested: the checkout is cloned, not copied.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/var/tmp/signvote-fresh}
start=$(date +%s)

[ "$(id -u)" -eq 0 ] || { echo "check_fresh_debian: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# The machine's configured Debian mirror (deb822 or one-line sources).
mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
enter() {  # enter ROOT: mounts what MPI and apt need inside a chroot
  local r=$1 d
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  # An installed machine resolves its own name (the installer writes
  # /etc/hosts); minbase has none, and Open MPI then waits ~10 s per launch.
  cp /etc/hosts "$r/etc/hosts"
  for d in proc sys dev dev/pts; do
    mkdir -p "$r/$d"
    mount --bind "/$d" "$r/$d"
    mounted+=("$r/$d")
  done
  mkdir -p "$r/dev/shm"
  mount -t tmpfs -o size=2g tmpfs "$r/dev/shm"
  mounted+=("$r/dev/shm")
}
step() { echo "check_fresh_debian: [$(($(date +%s) - start)) s] $*"; }

# A previous run's work dir: unmount what it left, never delete through a mount.
if [ -d "$work" ]; then
  awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
  if awk -v w="$work/" 'index($2, w) == 1 {found=1} END {exit !found}' /proc/mounts; then
    echo "check_fresh_debian: something is still mounted under $work; refusing to delete it" >&2
    exit 1
  fi
  rm -rf --one-file-system "$work"
fi
mkdir -p "$work"
log="$work/log"
: >"$log"

step "debootstrap bookworm minbase from $mirror"
debootstrap --variant=minbase bookworm "$work/build-root" "$mirror" >>"$log" 2>&1
cp -a "$work/build-root" "$work/run-root"   # the second, pristine root for the .deb

step "clone $(git -C "$repo" rev-parse --short HEAD) and run scripts/demo.sh"
git clone -q "$repo" "$work/build-root/root/signvote"
enter "$work/build-root"
chroot "$work/build-root" /bin/bash -c 'cd /root/signvote && scripts/demo.sh' >>"$log" 2>&1 ||
  { tail -n 30 "$log"; echo "check_fresh_debian: FAIL: scripts/demo.sh (log $log)"; exit 1; }
[ -s "$work/build-root/root/signvote/out/demo/toy.png" ] ||
  { echo "check_fresh_debian: FAIL: demo wrote no out/demo/toy.png"; exit 1; }

step "scripts/test.sh"
chroot "$work/build-root" /bin/bash -c 'cd /root/signvote && scripts/test.sh' >>"$log" 2>&1 ||
  { tail -n 40 "$log"; echo "check_fresh_debian: FAIL: scripts/test.sh (log $log)"; exit 1; }
ctest_line=$(grep -E "tests passed" "$log" | tail -n 1 || true)

step "cpack -G DEB"
chroot "$work/build-root" /bin/bash -c 'cd /root/signvote/build && cpack -G DEB' >>"$log" 2>&1 ||
  { tail -n 20 "$log"; echo "check_fresh_debian: FAIL: cpack -G DEB (log $log)"; exit 1; }
deb=$(ls "$work/build-root/root/signvote/build/"signvote_*_amd64.deb)
cp "$deb" "$work/run-root/root/"

step "apt install ./$(basename "$deb") in a fresh root, train the toy problem"
enter "$work/run-root"
chroot "$work/run-root" /bin/bash -c "set -e; cd /root; apt-get update -qq;
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./$(basename "$deb");
  signvote-mpirun -np 4 signvote train /usr/share/signvote/configs/toy_quadratic.yaml \
    --set cluster.workers=3 --set run.steps=200 --metrics /root/toy.csv;
  signvote-bench kernels --dim 100000 --json;
  python3 -c 'import signvote; print(\"python module: kernels\", signvote.isa())'" >>"$log" 2>&1 ||
  { tail -n 30 "$log"; echo "check_fresh_debian: FAIL: installed package (log $log)"; exit 1; }
final=$(tail -n 1 "$work/run-root/root/toy.csv" | cut -d, -f2)

echo "check_fresh_debian: PASS in $(($(date +%s) - start)) s: demo ok; ctest: $ctest_line; $(basename "$deb") installed in a fresh root, toy objective $final after 200 steps (log $log)"
