#!/usr/bin/env bash
# A real two-node SLURM cluster on this one machine, for the end-to-end tests and for
# trying `flowtrain submit`: munged, slurmctld, and two slurmd as nodes n1 and n2
# (`slurmd -N n1|n2`, each with its own port, spool directory and CPUs = nproc, or
# FLOWTRAIN_SLURM_CPUS: the tests place 4 tasks on one node of a 2-core machine).
#
#   cluster/local-slurm.sh start|stop|status
#
# Everything it writes lives in one state directory, FLOWTRAIN_SLURM_DIR (default
# /var/tmp/flowtrain-slurm): slurm.conf, the munge key and socket, the controller's
# state, each node's spool, logs and pid files. Clients find the cluster through
# SLURM_CONF=<state dir>/slurm.conf (`status` prints the line to export).
# Ports: FLOWTRAIN_SLURM_PORT (controller; n1 and n2 take the next two); by default
# derived from the state directory, so clusters of different build trees never collide.
#
# Run as root (slurmd starts jobs as their submitter). Idempotent: `start` starts what
# is not running and waits until both nodes are idle; `stop` ends only the processes
# whose pids it recorded; `status` exits 0 only when both nodes are up.
#
# Inside a two-node allocation on one host, launch the ranks with mpirun (it starts
# one orted per node through srun); `srun --mpi=pmix` of several tasks per node on
# both "nodes" at once collides on PMIx's per-host temporary directory.
set -euo pipefail

STATE=${FLOWTRAIN_SLURM_DIR:-/var/tmp/flowtrain-slurm}
STATE=$(mkdir -p "$STATE" && cd "$STATE" && pwd)
if [ -n "${FLOWTRAIN_SLURM_PORT:-}" ]; then
  PORT=$FLOWTRAIN_SLURM_PORT
else
  PORT=$((17000 + ($(printf '%s' "$STATE" | cksum | cut -d' ' -f1) % 1000) * 3))
fi
CONF=$STATE/slurm.conf
MUNGE_SOCKET=$STATE/munge/munge.socket
NODES=(n1 n2)
HOST=$(hostname -s)

die() { echo "local-slurm: $*" >&2; exit 1; }

# A recorded pid counts only while it still runs the program we started.
running() {  # running PIDFILE PROGRAM
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$2"
}

write_config() {
  mkdir -p "$STATE/munge" "$STATE/ctld" "$STATE/tmp"
  for n in "${NODES[@]}"; do mkdir -p "$STATE/$n/spool" "$STATE/$n/tmp"; done
  chmod 700 "$STATE/munge"
  if [ ! -s "$STATE/munge/munge.key" ]; then
    dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$STATE/munge/munge.key"
  fi
  # Both nodes are this one host. Separate machines would each have their own /tmp
  # and /dev/shm; Open MPI names its shared-memory segments by host name and local
  # rank, so ranks 0-1 on n1 and 2-3 on n2 would share segments. Each task gets its
  # node's directories instead; not the batch step, whose Open MPI variables mpirun
  # would pass on to the ranks of every node.
  cat >"$STATE/task-prolog.sh" <<EOF
#!/bin/sh
echo "export TMPDIR=$STATE/\$SLURMD_NODENAME/tmp"
case "\${SLURM_STEP_ID:-batch}" in
  batch|4294967294|4294967291) ;;
  *) echo "export OMPI_MCA_btl_vader_backing_directory=$STATE/\$SLURMD_NODENAME/tmp" ;;
esac
EOF
  chmod 755 "$STATE/task-prolog.sh"
  local cpus
  cpus=${FLOWTRAIN_SLURM_CPUS:-$(nproc)}
  cat >"$CONF.tmp" <<EOF
# Written by cluster/local-slurm.sh: two nodes on one host, state under $STATE.
ClusterName=flowtrain
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire also delays a requeued job's restart (120 s by default).
AuthInfo=socket=$MUNGE_SOCKET,cred_expire=10
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmctldPidFile=$STATE/ctld/slurmctld.pid
SlurmctldLogFile=$STATE/ctld/slurmctld.log
SlurmdSpoolDir=$STATE/%n/spool
SlurmdPidFile=$STATE/%n/slurmd.pid
SlurmdLogFile=$STATE/%n/slurmd.log
TmpFS=$STATE/tmp
TaskProlog=$STATE/task-prolog.sh
# Both nodes are this host: do not drain them when the hardware is shared.
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Batch jobs may be requeued (preemption, time limit, scontrol requeue); SIGTERM to
# SIGKILL after KillWait seconds (short here: the test models checkpoint in well under 1 s).
JobRequeue=1
KillWait=10
MinJobAge=600
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
NodeName=n1 NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$((PORT + 1)) CPUs=$cpus State=UNKNOWN
NodeName=n2 NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$((PORT + 2)) CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
  mv "$CONF.tmp" "$CONF"
}

start_munge() {
  running "$STATE/munge/munged.pid" munged && return 0
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  munged --force --socket="$MUNGE_SOCKET" --key-file="$STATE/munge/munge.key" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
    --seed-file="$STATE/munge/munged.seed" \
    || die "munged did not start; see $STATE/munge/munged.log"
}

start_controller() {
  running "$STATE/ctld/slurmctld.pid" slurmctld && return 0
  slurmctld -f "$CONF" || die "slurmctld did not start; see $STATE/ctld/slurmctld.log"
}

start_node() {  # start_node NAME
  running "$STATE/$1/slurmd.pid" slurmd && return 0
  slurmd -f "$CONF" -N "$1" || die "slurmd -N $1 did not start; see $STATE/$1/slurmd.log"
}

# Waits until both nodes report idle (or mixed/allocated: a restart with running jobs).
wait_for_nodes() {
  local deadline=$((SECONDS + 60)) states
  while :; do
    states=$(SLURM_CONF=$CONF sinfo -h -N -o '%N %t' 2>/dev/null | sort -u || true)
    if [ "$(echo "$states" | grep -cE '^n[12] (idle|mix|alloc)')" -eq 2 ]; then return 0; fi
    # A node that came back after a stop may still be marked down: resume it.
    for n in "${NODES[@]}"; do
      if echo "$states" | grep -qE "^$n (down|drain|drng)"; then
        SLURM_CONF=$CONF scontrol update NodeName="$n" State=RESUME >/dev/null 2>&1 || true
      fi
    done
    [ $SECONDS -lt $deadline ] || die "nodes not up after 60 s: ${states:-no answer}; see $STATE/*/*.log"
    sleep 1
  done
}

stop_pid() {  # stop_pid PIDFILE PROGRAM
  running "$1" "$2" || { rm -f "$1"; return 0; }
  local pid
  pid=$(cat "$1")
  kill "$pid"
  for _ in $(seq 50); do
    [ -d "/proc/$pid" ] || break
    sleep 0.2
  done
  [ -d "/proc/$pid" ] && kill -KILL "$pid"
  rm -f "$1"
}

status() {
  local ok=0
  running "$STATE/munge/munged.pid" munged && echo "munged    running (pid $(cat "$STATE/munge/munged.pid"))" \
    || { echo "munged    stopped"; ok=1; }
  running "$STATE/ctld/slurmctld.pid" slurmctld && echo "slurmctld running (pid $(cat "$STATE/ctld/slurmctld.pid"), port $PORT)" \
    || { echo "slurmctld stopped"; ok=1; }
  for n in "${NODES[@]}"; do
    running "$STATE/$n/slurmd.pid" slurmd && echo "slurmd $n running (pid $(cat "$STATE/$n/slurmd.pid"))" \
      || { echo "slurmd $n stopped"; ok=1; }
  done
  if [ $ok -eq 0 ]; then
    SLURM_CONF=$CONF sinfo -N -o '%N %P %t %c' || ok=1
  fi
  echo "export SLURM_CONF=$CONF"
  return $ok
}

[ "$(id -u)" -eq 0 ] || die "run as root (slurmd must start jobs as their submitter)"
case "${1:-}" in
  start)
    for program in munged slurmctld slurmd sinfo; do
      command -v $program >/dev/null || die "$program not found: run cluster/install-deps.sh"
    done
    write_config
    start_munge
    start_controller
    for n in "${NODES[@]}"; do start_node "$n"; done
    wait_for_nodes
    status
    ;;
  stop)
    for n in "${NODES[@]}"; do stop_pid "$STATE/$n/slurmd.pid" slurmd; done
    stop_pid "$STATE/ctld/slurmctld.pid" slurmctld
    stop_pid "$STATE/munge/munged.pid" munged
    echo "local-slurm: stopped (state kept in $STATE)"
    ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
