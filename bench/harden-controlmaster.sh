#!/bin/bash
# bench/harden-per-command.sh with one OpenSSH ControlMaster per node: the masters are opened side by
# side first (one TCP connection + key exchange + auth per node), every ssh/scp of the per-command
# script then runs as a channel on its node's master, and the masters are closed at the end.
# usage and env: as harden-per-command.sh (BENCH_CONTROL_DIR is set here).
set -euo pipefail
work=$1
: "${BENCH_NODES:?}" "${BENCH_IDENTITY:?}" "${BENCH_KNOWN_HOSTS:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$work"
BENCH_CONTROL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgh-cm.XXXXXX")
export BENCH_CONTROL_DIR
opts=(-o BatchMode=yes -o "UserKnownHostsFile=$BENCH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes
  -i "$BENCH_IDENTITY" -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR
  -o "ControlPath=$BENCH_CONTROL_DIR/%C")
if [ -n "${BENCH_BIND:-}" ]; then opts+=(-o "BindAddress=$BENCH_BIND"); fi
logins=()
while IFS=$'\t' read -r _ user host _; do logins+=("$user@$host"); done <"$BENCH_NODES"

close() {
  for l in "${logins[@]}"; do ssh "${opts[@]}" -O exit "$l" 2>/dev/null || true; done
  rm -rf "$BENCH_CONTROL_DIR"
}
trap close EXIT

echo "all start $EPOCHREALTIME" >>"$work/times"
pids=()
for l in "${logins[@]}"; do
  ssh "${opts[@]}" -o ControlMaster=yes -o ControlPersist=60 -f -N "$l" </dev/null &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
echo "all masters $EPOCHREALTIME" >>"$work/times"
"$here/harden-per-command.sh" "$work"
