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

source "$repo/scripts/chroot_lib.sh"
need_debootstrap
mirror=$(debian_mirror)
step() { echo "check_fresh_debian: [$(($(date +%s) - start)) s] $*"; }

fresh_dir "$work"
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
