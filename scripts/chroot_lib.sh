# Sourced by scripts that run signvote in a fresh Debian 12 root
# (check_fresh_debian.sh, gpu_dry_run.sh): the apt mirror, mounts torn down
# by trap, and a work folder never deleted through a mount.
# Needs root (debootstrap, chroot, mount).

# The machine's configured Debian mirror (deb822 or one-line sources).
debian_mirror() {
  local m
  m=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

need_debootstrap() {
  [ "$(id -u)" -eq 0 ] || { echo "$(basename "$0"): needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
}

mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  mounted=()
}
trap unmount_all EXIT

# bind_ro SRC DST: a read-only bind mount, torn down at exit.
bind_ro() {
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounted+=("$2")
  mount -o remount,bind,ro "$2"
}

# enter ROOT: mounts what MPI and apt need inside a chroot.
enter() {
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

# fresh_dir DIR: an empty DIR; a previous run's mounts under it are undone
# first, and nothing is deleted through a mount.
fresh_dir() {
  local w=$1
  if [ -d "$w" ]; then
    awk -v w="$w/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
    if awk -v w="$w/" 'index($2, w) == 1 {found=1} END {exit !found}' /proc/mounts; then
      echo "$(basename "$0"): something is still mounted under $w; refusing to delete it" >&2
      exit 1
    fi
    rm -rf --one-file-system "$w"
  fi
  mkdir -p "$w"
}
