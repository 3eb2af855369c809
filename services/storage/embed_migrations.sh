#!/bin/sh
# Writes a C++ source that embeds every migration file: embed_migrations.sh OUT FILE...
# File names are NNNN_name.sql; NNNN is the version.
set -eu
out=$1
shift
{
  echo '// Generated from services/storage/migrations/*.sql by embed_migrations.sh.'
  echo '#include "services/storage/migrations.h"'
  echo 'namespace marketdata {'
  echo 'const std::vector<Migration>& EmbeddedMigrations() {'
  echo '  static const auto* migrations = new std::vector<Migration>{'
  for f in "$@"; do
    base=$(basename "$f" .sql)
    version=$(echo "$base" | sed 's/_.*//' | sed 's/^0*//')
    printf '      {%s, "%s", R"MIGRATION_SQL(' "$version" "$base"
    cat "$f"
    echo ')MIGRATION_SQL"},'
  done
  echo '  };'
  echo '  return *migrations;'
  echo '}'
  echo '}  // namespace marketdata'
} >"$out"
