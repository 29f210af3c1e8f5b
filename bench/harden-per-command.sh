#!/bin/bash
# What `pgharden apply --auth scram` does to a 3-node streaming cluster, by hand: one `ssh` or `scp`
# per command. The work, in the order apply does it (SPEC §7.2):
#   certs:    CA + one server certificate per node (ECDSA P-256, IP SAN), openssl CLI, locally
#   phase 1:  primary: mkdir <dirname(dataDir)>/pgharden-tls (0700), scp root.crt server.crt server.key
#             (0600), ALTER SYSTEM ssl/ssl_*_file/ssl_min_protocol_version/password_encryption, reload
#   phase 2:  standbys side by side: the same plus primary_conninfo (sslmode=verify-full, sslrootcert),
#             reload, wait until the WAL receiver streams with the new conninfo
#   phase 3:  every node side by side: (primary) ALTER ROLE app/replicator PASSWORD with SCRAM;
#             pg_hba.conf host → hostssl scram-sha-256 plus hostnossl … reject on top (sed -i); reload
# Not done (pgharden does): backups, config validation before reload, post-checks, rollback journal.
#
# usage: harden-per-command.sh WORKDIR
# env:   BENCH_NODES          file, one node per line, tab-separated:
#                             role user host dataDir socketDir port binDir home (role: primary|standby)
#        BENCH_IDENTITY BENCH_KNOWN_HOSTS   ssh key and known_hosts
#        BENCH_BIND           optional ssh BindAddress (tells our connections apart in sshd logs)
#        BENCH_CONTROL_DIR    optional: use the ControlMaster sockets there (harden-controlmaster.sh)
#        APP_PASSWORD REPLICATOR_PASSWORD   new role passwords (never on a command line: psql stdin)
# Writes WORKDIR/times: "<node|all> <step> <epoch seconds>" after each step.
set -euo pipefail
work=$1
: "${BENCH_NODES:?}" "${BENCH_IDENTITY:?}" "${BENCH_KNOWN_HOSTS:?}"
: "${APP_PASSWORD:?}" "${REPLICATOR_PASSWORD:?}"
mkdir -p "$work"
opts=(-o BatchMode=yes -o "UserKnownHostsFile=$BENCH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes
  -i "$BENCH_IDENTITY" -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR)
if [ -n "${BENCH_BIND:-}" ]; then opts+=(-o "BindAddress=$BENCH_BIND"); fi
if [ -n "${BENCH_CONTROL_DIR:-}" ]; then
  opts+=(-o ControlMaster=auto -o "ControlPath=$BENCH_CONTROL_DIR/%C" -o ControlPersist=60)
fi

ROLE=() USR=() HOST=() DATA=() SOCK=() PORT=() BIN=() HOMEDIR=()
primary=
while IFS=$'\t' read -r role user host data sock port bin home; do
  i=${#HOST[@]}
  ROLE[i]=$role USR[i]=$user HOST[i]=$host DATA[i]=$data SOCK[i]=$sock PORT[i]=$port BIN[i]=$bin
  HOMEDIR[i]=$home
  if [ "$role" = primary ]; then primary=$i; fi
done <"$BENCH_NODES"
[ -n "$primary" ] || { echo "no primary in $BENCH_NODES" >&2; exit 2; }

mark() { echo "$1 $2 $EPOCHREALTIME" >>"$work/times"; }
on() { local n=$1; shift; ssh "${opts[@]}" "${USR[n]}@${HOST[n]}" "$@"; }
tlsdir() { echo "${DATA[$1]%/*}/pgharden-tls"; }
# psql as the postgres superuser over the node's socket; the SQL comes on stdin.
psql_cmd() { echo "${BIN[$1]}/psql -X -q -A -t -v ON_ERROR_STOP=1 -h ${SOCK[$1]} -p ${PORT[$1]} -U postgres -d postgres -f -"; }
sql() { on "$1" "$(psql_cmd "$1")"; }
lit() { printf "'%s'" "${1//\'/\'\'}"; }

certs() {
  local d=$work/pki ca
  mkdir -p "$d" && ca=$d/root
  (
    umask 077
    openssl ecparam -name prime256v1 -genkey -noout -out "$ca.key"
    openssl req -x509 -new -key "$ca.key" -sha256 -days 3650 -subj "/CN=bench CA" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$ca.crt"
    for n in "${!HOST[@]}"; do
      mkdir -p "$d/$n"
      printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s\n' \
        "${HOST[n]}" >"$d/$n.ext"
      openssl ecparam -name prime256v1 -genkey -noout -out "$d/$n/server.key"
      openssl req -new -key "$d/$n/server.key" -subj "/CN=${HOST[n]}" -out "$d/$n.csr"
      openssl x509 -req -in "$d/$n.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -sha256 -days 365 \
        -extfile "$d/$n.ext" -out "$d/$n/server.crt" 2>/dev/null
      cp "$ca.crt" "$d/$n/root.crt"
      chmod 0644 "$d/$n/server.crt" "$d/$n/root.crt"
    done
  )
}

tls() {
  local n=$1 t
  t=$(tlsdir "$n")
  on "$n" "mkdir -p -m 0700 $t && chmod 0700 $t"
  mark "$n" mkdir
  scp "${opts[@]}" -q -p "$work/pki/$n/root.crt" "$work/pki/$n/server.crt" "$work/pki/$n/server.key" \
    "${USR[n]}@${HOST[n]}:$t/"
  mark "$n" scp
  {
    echo "ALTER SYSTEM SET ssl = on;"
    echo "ALTER SYSTEM SET ssl_cert_file = '$t/server.crt';"
    echo "ALTER SYSTEM SET ssl_key_file = '$t/server.key';"
    echo "ALTER SYSTEM SET ssl_ca_file = '$t/root.crt';"
    echo "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2';"
    echo "ALTER SYSTEM SET password_encryption = 'scram-sha-256';"
    if [ "${ROLE[n]}" = standby ]; then
      echo "ALTER SYSTEM SET primary_conninfo = 'user=replicator passfile=${HOMEDIR[n]}/.pgpass host=${HOST[primary]} port=${PORT[primary]} sslmode=verify-full sslrootcert=$t/root.crt';"
    fi
    echo "SELECT pg_reload_conf();"
  } | sql "$n" >/dev/null
  mark "$n" alter-reload
}

# One ssh: poll the WAL receiver until it streams with the new (verify-full) conninfo, up to 15 s.
wait_streaming() {
  local n=$1
  on "$n" "sh -s -- $(psql_cmd "$n" | sed 's/ -f -$//')" <<'SH'
q="SELECT status = 'streaming' AND conninfo LIKE '%sslmode=verify-full%' FROM pg_stat_wal_receiver"
i=0
while [ $i -lt 300 ]; do
  [ "$("$@" -c "$q")" = t ] && exit 0
  i=$((i + 1)); sleep 0.05
done
echo "not streaming after 15 s" >&2; exit 1
SH
  mark "$n" wait-streaming
}

auth() {
  local n=$1 hba=${DATA[$1]}/pg_hba.conf
  if [ "$n" = "$primary" ]; then
    {
      echo "SET password_encryption = 'scram-sha-256';"
      echo "ALTER ROLE app PASSWORD $(lit "$APP_PASSWORD");"
      echo "ALTER ROLE replicator PASSWORD $(lit "$REPLICATOR_PASSWORD");"
    } | sql "$n" >/dev/null
    mark "$n" alter-role
  fi
  on "$n" "sed -i -E -e 's/^host([[:space:]].*[[:space:]])(md5|password|scram-sha-256)[[:space:]]*\$/hostssl\\1scram-sha-256/' \
    -e '1i hostnossl all all 0.0.0.0/0 reject' -e '1i hostnossl all all ::/0 reject' $hba"
  mark "$n" sed-hba
  echo "SELECT pg_reload_conf();" | sql "$n" >/dev/null
  mark "$n" reload
}

standby() {
  tls "$1"
  wait_streaming "$1"
}

# Run "$1 node" for each listed node in the background; fail if any failed.
each() {
  local f=$1 p rc=0 pids=()
  shift
  for n in "$@"; do
    "$f" "$n" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

standbys=()
for n in "${!HOST[@]}"; do if [ "${ROLE[n]}" = standby ]; then standbys+=("$n"); fi; done

if [ -z "${BENCH_CONTROL_DIR:-}" ]; then mark all start; fi
certs
mark all certs
tls "$primary"
mark all primary-tls
each standby "${standbys[@]}"
mark all standby-tls
each auth "${!HOST[@]}"
mark all auth-hba
