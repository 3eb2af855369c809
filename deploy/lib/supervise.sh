#!/usr/bin/env bash
# supervise.sh BINARY [ARGS...]: runs a service of the dev stack and starts it again when it dies
# (a crash, an OOM kill, a SIGKILL), waiting 1 s, then twice as long after each quick death, up to
# 30 s. SIGTERM or SIGINT goes to the service, and the supervisor ends with it.
set -u
child=0
stopping=0
forward() {
  stopping=1
  ((child)) && kill -TERM "$child" 2>/dev/null
}
trap forward TERM INT
delay=1
while :; do
  started=$SECONDS
  "$@" &
  child=$!
  # wait returns early when a signal arrives; wait again until the service has really exited.
  while :; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break
  done
  child=0
  ((stopping)) && exit "$rc"
  if ((SECONDS - started > 60)); then delay=1; fi
  printf '=== %s %s exited with status %d; starting it again in %ds\n' \
    "$(date -Is)" "$(basename "$1")" "$rc" "$delay"
  sleep "$delay" &
  wait $! || true
  ((stopping)) && exit "$rc"
  delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
