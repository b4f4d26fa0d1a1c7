#!/usr/bin/env bash
# An emulated cluster on one Linux machine: N "nodes", each a network
# namespace with one veth link to a bridge, rate-shaped with tc tbf in both
# directions, and Open MPI jobs launched across them.
#
#   scripts/netcluster.sh up N RATE [QUEUE_MS]   e.g. up 8 1gbit 50
#   scripts/netcluster.sh run [--nodes K] MPIRUN_ARGS...
#                                   e.g. run -np 8 --map-by node build/signvote train ...
#                                   (--nodes K: only nodes 1..K take ranks;
#                                    --slots A,B,..: node i takes the i-th count,
#                                    filled in rank order with --map-by slot)
#   scripts/netcluster.sh down
#   scripts/netcluster.sh status
#   scripts/netcluster.sh mca      the Open MPI parameters of a job across the nodes
#
# Topology: namespace sv-switch holds bridge br0 (outside the root
# namespace's bridge-netfilter); node i is namespace sv-node$i with eth0 =
# 10.213.77.i/24, its peer on br0. The root namespace gets one unshaped
# veth (10.213.77.254) on the bridge, for mpirun alone. /etc/hosts gains one
# line per node (tagged "signvote-netcluster"), removed by `down`.
#
# Shaping: tbf at RATE on each node's eth0 (its uplink) and on its bridge
# port (its downlink), with a queue of QUEUE_MS milliseconds (default 50:
# a 5 ms queue made a 7-into-1 incast drop segments and run 2.5-3.5x slower
# than the link model). The kernel here has no netem, so no delay is
# emulated. On 2 cores, 10 Gbit/s is CPU-bound: claims use 1 Gbit/s and below.
#
# Launching: Open MPI's rsh agent is a script that enters the node's
# namespace with its own UTS namespace and hostname (one shared hostname
# made the orteds share one Open MPI temporary directory and hang); the BTL and OOB
# use TCP on 10.213.77.0/24 only; idle ranks yield (mpi_yield_when_idle).
# Traffic only ever goes to these namespaces' addresses. Needs root.
set -euo pipefail
subnet=10.213.77
state=/run/signvote-netcluster
tag="signvote-netcluster"

die() { echo "netcluster: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (ip netns, tc)"

down() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^sv-(node[0-9]+|switch)$' || true); do
    ip netns del "$ns"
  done
  ip link del sv-root 2>/dev/null || true  # gone with its peer's namespace already
  if grep -q "$tag" /etc/hosts; then
    grep -v "$tag" /etc/hosts > /etc/hosts.sv-tmp && cat /etc/hosts.sv-tmp > /etc/hosts && rm -f /etc/hosts.sv-tmp
  fi
  rm -rf "$state"
}

shape() {  # shape NS DEV RATE QUEUE_MS
  # burst: at least one 64 KiB TSO/GRO segment, and 1 ms of traffic at RATE.
  ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "$3" burst 256kb latency "${4}ms"
}

up() {
  local n=$1 rate=$2 queue=${3:-50} i
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 200 ] || die "N must be 1..200, got '$n'"
  [[ "$queue" =~ ^[0-9]+$ ]] && [ "$queue" -ge 1 ] || die "QUEUE_MS must be a positive integer, got '$queue'"
  down
  trap 'echo "netcluster: setup failed, tearing down" >&2; down' ERR
  ip netns add sv-switch
  ip netns exec sv-switch ip link add br0 type bridge
  ip netns exec sv-switch ip link set br0 up
  ip netns exec sv-switch ip link set lo up
  for i in $(seq 1 "$n"); do
    ip netns add "sv-node$i"
    ip link add eth0 netns "sv-node$i" type veth peer name "p$i" netns sv-switch
    ip netns exec "sv-node$i" ip addr add "$subnet.$i/24" dev eth0
    ip netns exec "sv-node$i" ip link set eth0 up
    ip netns exec "sv-node$i" ip link set lo up
    ip netns exec sv-switch ip link set "p$i" master br0 up
    shape "sv-node$i" eth0 "$rate" "$queue"
    shape sv-switch "p$i" "$rate" "$queue"
    echo "$subnet.$i sv-node$i # $tag" >> /etc/hosts
  done
  ip link add sv-root type veth peer name proot netns sv-switch
  ip addr add "$subnet.254/24" dev sv-root
  ip link set sv-root up
  ip netns exec sv-switch ip link set proot master br0 up
  mkdir -p "$state"
  echo "$n $rate $queue" > "$state/config"
  cat > "$state/agent" <<'AGENT'
#!/bin/sh
# Open MPI rsh agent: "agent HOST COMMAND..." runs COMMAND (a shell command
# line, as ssh would) inside HOST's namespace under HOST's own hostname.
host=$1
shift
exec ip netns exec "$host" unshare --uts sh -c 'hostname "$1" && shift && eval "exec $*"' sh "$host" "$@"
AGENT
  chmod +x "$state/agent"
  for i in $(seq 1 "$n"); do echo "sv-node$i slots=64"; done > "$state/hostfile"
  trap - ERR
  echo "netcluster: $n nodes at $rate each way, ${queue} ms queue, on $subnet.0/24"
}

run() {
  [ -f "$state/config" ] || die "no cluster: run 'netcluster.sh up N RATE' first"
  local hostfile=$state/hostfile
  if [ "${1:-}" = --nodes ]; then
    [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le "$(wc -l < "$state/hostfile")" ] ||
      die "--nodes needs 1..$(wc -l < "$state/hostfile"), got '${2:-}'"
    head -n "$2" "$state/hostfile" > "$state/hostfile.$2"
    hostfile=$state/hostfile.$2
    shift 2
  elif [ "${1:-}" = --slots ]; then
    [[ "${2:-}" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--slots needs counts like 1,3,3, got '${2:-}'"
    local i=0 c
    : > "$state/hostfile.slots"
    for c in ${2//,/ }; do
      i=$((i + 1))
      [ "$i" -le "$(wc -l < "$state/hostfile")" ] || die "--slots names more nodes than the cluster has"
      echo "sv-node$i slots=$c" >> "$state/hostfile.slots"
    done
    hostfile=$state/hostfile.slots
    shift 2
  fi
  local args=(--hostfile "$hostfile") name value
  while read -r name value; do args+=(--mca "$name" "$value"); done < <(mca)
  args+=(--bind-to none --oversubscribe --allow-run-as-root)
  exec mpirun "${args[@]}" "$@"
}

# The Open MPI parameters of a job across the nodes, "NAME VALUE" per line
# (`run` passes them as --mca; scripts/slurmcluster.sh exports them as
# OMPI_MCA_NAME for jobs that run mpirun themselves).
mca() {
  [ -f "$state/config" ] || die "no cluster: run 'netcluster.sh up N RATE' first"
  printf '%s %s\n' plm rsh plm_rsh_agent "$state/agent" btl self,vader,tcp btl_tcp_if_include "$subnet.0/24" \
    oob_tcp_if_include "$subnet.0/24" mpi_yield_when_idle 1 pml ob1
}

case "${1:-}" in
  up) shift; [ $# -ge 2 ] || die "usage: up N RATE [QUEUE_MS]"; up "$@" ;;
  run) shift; run "$@" ;;
  mca) mca ;;
  down) down; echo "netcluster: down" ;;
  status) if [ -f "$state/config" ]; then read -r n r q < "$state/config"; echo "netcluster: $n nodes at $r, ${q} ms queue"; else echo "netcluster: down"; fi ;;
  *) die "usage: up N RATE [QUEUE_MS] | run MPIRUN_ARGS... | mca | down | status" ;;
esac
