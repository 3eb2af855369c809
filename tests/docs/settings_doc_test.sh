#!/usr/bin/env bash
# Every setting a binary reads is documented, with its real default, in the tables of
# docs/configuration.md and in .env.example; and nothing is documented that no binary reads,
# but the DEV_ settings that ./deploy/dev reads, which docs/configuration.md names.
# The truth is each binary's own `--help`, which comes from the same table that parses the
# settings.
#
#   settings_doc_test.sh <mds-api> <mds-consumer> <docs/configuration.md> <.env.example>
# The gateway (built with the go tool, outside Bazel) is named by MDS_GATEWAY_BIN.
set -euo pipefail

api="$1" consumer="$2" doc="$3" env_example="$4"
gateway="${MDS_GATEWAY_BIN:-}"
[[ -n "$gateway" && -x "$gateway" ]] ||
  { echo "MDS_GATEWAY_BIN must name the built gateway (./deploy/dev test sets it)" >&2; exit 1; }

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# settings BINARY NAME: "NAME<TAB>default" lines from `BINARY --help` ("(required)" for none).
declare -A defaults=()  # NAME -> "default|default|..." over the binaries that read it
read_help() {
  local bin="$1" label="$2" out line name rest value
  if ! out="$("$bin" --help 2>&1)"; then
    fail "$label --help exited non-zero: $out"
    return
  fi
  local rows=0
  while IFS= read -r line; do
    [[ "$line" =~ ^\ \ ([A-Z][A-Z0-9_]*)\ \ --([a-z0-9-]+)\ \ (.*)$ ]] || continue
    name="${BASH_REMATCH[1]}" rest="${BASH_REMATCH[3]}"
    local flag="${BASH_REMATCH[2]}" want
    want="$(tr 'A-Z_' 'a-z-' <<<"$name")"
    [[ "$flag" == "$want" ]] || fail "$label: flag --$flag of $name should be --$want"
    case "$rest" in
      "(required)") value="(required)" ;;
      'default: ""') value="" ;;
      "default: "*) value="${rest#default: }" ;;
      *) fail "$label: cannot read the default of $name from '$rest'"; continue ;;
    esac
    rows=$((rows + 1))
    if [[ -v "defaults[$name]" ]]; then
      [[ "|${defaults[$name]}|" == *"|$value|"* ]] || defaults[$name]+="|$value"
    else
      defaults[$name]="$value"
    fi
  done <<<"$out"
  ((rows > 0)) || fail "$label --help lists no settings"
}
read_help "$api" mds-api
read_help "$consumer" mds-consumer
read_help "$gateway" gateway

# docs/configuration.md: its title, then one row per setting, | `NAME` | default | meaning |, in
# the tables of its sections (every table row naming a setting counts).
declare -A doc_default=()
IFS= read -r title <"$doc" || true
[[ "$title" == "# Configuration" ]] || fail "docs/configuration.md must begin with '# Configuration', not '$title'"
while IFS= read -r line; do
  [[ "$line" =~ ^\|\ *\`([A-Z][A-Z0-9_]*)\`\ *\|([^|]*)\|([^|]*)\|\ *$ ]] || {
    [[ "$line" =~ ^\|\ *\` ]] && fail "docs/configuration.md: a row must name one setting: $line"
    continue
  }
  name="${BASH_REMATCH[1]}" cell="${BASH_REMATCH[2]}" meaning="${BASH_REMATCH[3]}"
  [[ -v "doc_default[$name]" ]] && fail "docs/configuration.md: $name has two rows"
  doc_default[$name]="$cell"
  [[ "$meaning" =~ [a-z] ]] || fail "docs/configuration.md: $name has no meaning"
done <"$doc"
((${#doc_default[@]} > 0)) || fail "docs/configuration.md has no setting rows"

for name in "${!doc_default[@]}"; do
  [[ -v "defaults[$name]" ]] || fail "docs/configuration.md documents $name, which no binary reads"
done

# .env.example: every setting as NAME=value or "# NAME=value" (commented: left at its default).
declare -A env_value=() env_active=()
while IFS= read -r line; do
  if [[ "$line" =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]]; then
    env_value[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}" env_active[${BASH_REMATCH[1]}]=1
  elif [[ "$line" =~ ^#\ ([A-Z][A-Z0-9_]*)=(.*)$ ]]; then
    env_value[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}" env_active[${BASH_REMATCH[1]}]=0
  fi
done <"$env_example"
for name in "${!env_value[@]}"; do
  if [[ "$name" == DEV_* ]]; then
    # ./deploy/dev's own (the dev stack's layout and ports): no binary reads it, the prose of
    # docs/configuration.md names it.
    [[ -v "defaults[$name]" ]] && fail ".env.example: $name is read by a binary; DEV_ names ./deploy/dev's settings"
    grep -qF "\`$name\`" "$doc" || fail ".env.example sets $name, which docs/configuration.md does not name"
    continue
  fi
  [[ -v "defaults[$name]" ]] || fail ".env.example sets $name, which no binary reads"
done

for name in $(printf '%s\n' "${!defaults[@]}" | sort); do
  IFS='|' read -r -a values <<<"${defaults[$name]}|"
  # docs/configuration.md: the row exists and its default cell names every default.
  if [[ ! -v "doc_default[$name]" ]]; then
    fail "docs/configuration.md has no row for $name"
  else
    cell="${doc_default[$name]}"
    for value in "${values[@]}"; do
      if [[ "$value" == "(required)" ]]; then
        [[ "$cell" == *"(required)"* ]] || fail "docs/configuration.md: $name is required, the table says '$cell'"
      elif [[ -z "$value" ]]; then
        [[ "$cell" =~ ^\ *$ || "$cell" == *'(empty)'* || ${#values[@]} -gt 1 ]] ||
          fail "docs/configuration.md: $name defaults to empty, the table says '$cell'"
      else
        [[ "$cell" == *"\`$value\`"* ]] || fail "docs/configuration.md: $name defaults to \`$value\`, the table says '$cell'"
      fi
    done
  fi
  # .env.example: present; an active line carries the one default (required ones: any value).
  if [[ ! -v "env_value[$name]" ]]; then
    fail ".env.example has no line for $name"
  elif [[ "${env_active[$name]}" == 1 ]]; then
    if ((${#values[@]} > 1)); then
      fail ".env.example sets $name, whose default differs per binary (${defaults[$name]}); comment it out"
    elif [[ "${values[0]}" != "(required)" && "${env_value[$name]}" != "${values[0]}" ]]; then
      fail ".env.example: $name=${env_value[$name]}, but its default is '${values[0]}'"
    fi
  fi
done

echo "${#defaults[@]} settings checked against docs/configuration.md and .env.example"
((failures == 0)) || { echo "$failures problem(s)" >&2; exit 1; }
