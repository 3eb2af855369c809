#!/usr/bin/env bash
# supervise.sh PIDFILE BINARY [ARGS...]: runs a service of the dev stack and starts it again when
# it dies (a crash, an OOM kill, a SIGKILL), waiting 1 s, then twice as long after each quick
# death, up to 30 s. The service's own pid goes to PIDFILE at every start. SIGTERM or SIGINT goes
# to the service, and the supervisor ends with it. Should the supervisor itself die (even by
# SIGKILL), the kernel sends the service SIGTERM: no service outlives its supervisor.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pidfile="$1"
shift
child=0
stopping=0
forward() {
  stopping=1
  ((child)) && kill -TERM "$child" 2>/dev/null
}
trap forward TERM INT
# setpriv sets the parent-death signal, then the shell it runs checks that its parent is still
# this supervisor (which may have died just before), then becomes the service.
orphan_guard=()
if command -v setpriv >/dev/null 2>&1; then
  # shellcheck disable=SC2016
  orphan_guard=(setpriv --pdeathsig TERM -- bash -c '[[ $PPID == "$1" ]] || exit 1; shift; exec "$@"' guard "$$")
fi
delay=1
while :; do
  started=$SECONDS
  "${orphan_guard[@]}" "$@" &
  child=$!
  write_pidfile "$pidfile" "$child"
  # wait returns early when a signal arrives; wait again until the service has really exited.
  while :; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break
  done
  child=0
  rm -f "$pidfile"
  ((stopping)) && exit "$rc"
  if ((SECONDS - started > 60)); then delay=1; fi
  printf '=== %s %s exited with status %d; starting it again in %ds\n' \
    "$(date -Is)" "$(basename "$1")" "$rc" "$delay"
  sleep "$delay" &
  wait $! || true
  ((stopping)) && exit "$rc"
  delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
