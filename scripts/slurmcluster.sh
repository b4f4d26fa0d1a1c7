#!/usr/bin/env bash
# A real Slurm cluster on this machine, over the emulated nodes of
# scripts/netcluster.sh: one slurmd per node (in the node's network namespace,
# under its own hostname, with its own spool directory), slurmctld and munged
# beside them in the root namespace (10.213.77.254). Traffic stays on the
# emulated subnet. Needs root and Debian's slurmctld, slurmd, munge and
# slurm-client.
#
#   scripts/slurmcluster.sh up N [RATE=1gbit]   nodes sv-node1..N, partition "main"
#   scripts/slurmcluster.sh down
#   scripts/slurmcluster.sh env                 the variables sbatch and the jobs' mpirun need
#   scripts/slurmcluster.sh selftest            up 4, the CPU example to completion (toy and a
#                                               CIFAR smoke run), one node killed mid-job,
#                                               down; the last line starts PASS or FAIL
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
nc=$repo/scripts/netcluster.sh
state=/run/signvote-slurm
die() { echo "slurmcluster: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, daemons)"

down() {
  local f
  for f in "$state"/*.pid; do
    [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  for f in "$state"/*.pid; do
    [ -e "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  "$nc" down >/dev/null
  [ -d "$state" ] && rm -rf --one-file-system "$state"
  return 0
}

conf() {  # conf N: slurm.conf for nodes sv-node1..N
  local n=$1 addrs i
  addrs=$(for i in $(seq 1 "$n"); do printf '10.213.77.%s,' "$i"; done)
  cat <<CONF
ClusterName=signvote
SlurmctldHost=$(hostname -s)(10.213.77.254)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$state/munge.socket
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool/%n
SlurmctldPidFile=$state/ctld/slurmctld.pid
SlurmdPidFile=$state/spool/%n/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
KillWait=5
NodeName=sv-node[1-$n] NodeAddr=${addrs%,} CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

up() {
  local n=$1 rate=${2:-1gbit} i
  for t in slurmctld slurmd munged sbatch scontrol; do command -v "$t" >/dev/null || die "needs $t (apt install slurmctld slurmd munge slurm-client)"; done
  down
  trap 'echo "slurmcluster: setup failed, tearing down" >&2; down' ERR
  "$nc" up "$n" "$rate" 50
  mkdir -p "$state"/{ctld,log,spool}
  chmod 700 "$state"
  head -c 1024 /dev/urandom > "$state/munge.key"
  chmod 400 "$state/munge.key"
  munged --force --key-file="$state/munge.key" --socket="$state/munge.socket" --pid-file="$state/munged.pid" \
    --log-file="$state/log/munged.log" --seed-file="$state/munge.seed"
  conf "$n" > "$state/slurm.conf"
  printf 'CgroupPlugin=cgroup/v1\n' > "$state/cgroup.conf"
  for i in $(seq 1 "$n"); do
    mkdir -p "$state/spool/sv-node$i"
    # `ip netns exec` gives the node a fresh /sys without /sys/fs/cgroup, which
    # slurmd needs: the cgroup v1 hierarchies are mounted again there, in the
    # node's own mount namespace (the host's mounts are untouched).
    ip netns exec "sv-node$i" unshare --uts --mount --propagation private sh -c \
      'hostname "$1" && mount -t tmpfs cgroup_root /sys/fs/cgroup &&
       for c in cpuset memory devices freezer cpu cpuacct pids; do
         mkdir -p "/sys/fs/cgroup/$c" && mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" || exit 1
       done && exec slurmd -D -N "$1" -f "$2"' sh "sv-node$i" \
      "$state/slurm.conf" > "$state/log/slurmd-sv-node$i.out" 2>&1 &
    echo $! > "$state/slurmd-sv-node$i.pid"
  done
  slurmctld -D -f "$state/slurm.conf" > "$state/log/slurmctld.out" 2>&1 &
  echo $! > "$state/slurmctld.pid"
  for _ in $(seq 60); do
    [ "$(SLURM_CONF=$state/slurm.conf sinfo -h -o '%T' -t idle 2>/dev/null | grep -c idle || true)" -ge 1 ] &&
      [ "$(SLURM_CONF=$state/slurm.conf sinfo -h -N -t idle 2>/dev/null | wc -l)" -eq "$n" ] && break
    sleep 1
  done
  [ "$(SLURM_CONF=$state/slurm.conf sinfo -h -N -t idle | wc -l)" -eq "$n" ] ||
    { SLURM_CONF=$state/slurm.conf sinfo -N >&2 || true; tail -n 20 "$state/log/slurmctld.log" >&2 || true; die "not all $n slurmd registered"; }
  trap - ERR
  echo "slurmcluster: $n nodes up (SLURM_CONF=$state/slurm.conf)"
}

env_lines() {  # what sbatch and the jobs' mpirun need
  [ -f "$state/slurm.conf" ] || die "no cluster: run 'slurmcluster.sh up N' first"
  echo "export SLURM_CONF=$state/slurm.conf"
  local name value
  while read -r name value; do echo "export OMPI_MCA_$name=$value"; done < <("$nc" mca)
  echo "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
  echo "export PATH=$repo/build:\$PATH"
}

case "${1:-}" in
  up) shift; [ $# -ge 1 ] || die "usage: up N [RATE]"; up "$@" ;;
  down) down; echo "slurmcluster: down" ;;
  env) env_lines ;;
  selftest) exec "$repo/scripts/slurm_selftest.sh" ;;
  *) die "usage: up N [RATE] | down | env | selftest" ;;
esac
