#!/usr/bin/env bash
# The stores talk to PostgreSQL one way: Database::Lease::Run and Exec with SqlParams (see
# database.h, sql_params.h). Only database.cc, which implements that on SOCI's sessions and
# their libpq connections, may touch either.
set -euo pipefail
status=0
for f in "$@"; do
  case "$f" in
    */database.cc | */database.h | */one_dialect_test.sh) continue ;;
  esac
  if hits=$(grep -nE 'soci::|soci/|PGconn|PGresult|libpq-fe|\bPQ[a-z]+\(|\.pg\(\)|->pg\(\)|\.session\(\)|->session\(\)|\*lease\s*<<|lease->(prepare|once)' "$f"); then
    echo "FAIL: $f talks to PostgreSQL around the statement API:"
    echo "$hits"
    status=1
  fi
done
[[ $status == 0 ]] && echo "$# files speak through Database::Lease::Run and Exec only"
exit $status
