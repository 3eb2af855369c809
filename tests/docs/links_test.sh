#!/usr/bin/env bash
# Every relative Markdown link of README.md and of the files under docs/ names a file or folder
# that exists in the repository, an anchor into a Markdown file (`file.md#section`, or `#section`
# within the same file) names one of that file's headings, and README.md stays under 220 lines,
# so that the reference lives in docs/.
#
#   links_test.sh <README.md> <docs/**/*.md>...
# Link targets are looked up in the source tree these files come from (any file of the
# repository may be linked), found by following the first argument's symlink.
set -euo pipefail

readme="$1"
max_readme_lines=220
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

root="$(dirname "$(realpath "$readme")")"
[[ -f "$root/README.md" && -d "$root/docs" ]] || {
  echo "FAIL: cannot find the source tree from $readme (resolved to $root)" >&2
  exit 1
}

lines=$(wc -l <"$readme")
((lines < max_readme_lines)) ||
  fail "README.md has $lines lines; keep it under $max_readme_lines and move reference text to docs/"

# slugs FILE: the anchors of FILE's headings, as GitHub makes them (lower case, punctuation but
# '-' and '_' dropped, spaces as '-'; a repeated heading gets -1, -2, ...), one a line.
slugs() {
  local in_fence=0 line slug
  declare -A seen=()
  while IFS= read -r line; do
    [[ "$line" =~ ^\ {0,3}(\`\`\`|~~~) ]] && { in_fence=$((1 - in_fence)); continue; }
    ((in_fence)) && continue
    [[ "$line" =~ ^#{1,6}\ +(.*)$ ]] || continue
    slug="$(tr '[:upper:]' '[:lower:]' <<<"${BASH_REMATCH[1]}" | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g')"
    if [[ -v "seen[$slug]" ]]; then
      seen[$slug]=$((seen[$slug] + 1))
      echo "$slug-${seen[$slug]}"
    else
      seen[$slug]=0
      echo "$slug"
    fi
  done <"$1"
}

checked=0 files=0
for file in "$@"; do
  real="$(realpath "$file")"
  rel="${real#"$root"/}"
  dir="$(dirname "$real")"
  files=$((files + 1))
  in_fence=0 n=0
  while IFS= read -r line; do
    n=$((n + 1))
    [[ "$line" =~ ^\ {0,3}(\`\`\`|~~~) ]] && { in_fence=$((1 - in_fence)); continue; }
    ((in_fence)) && continue
    # [text](target) and ![alt](target); the text may hold `code` but no ']'.
    rest="$line"
    while [[ "$rest" =~ \]\(([^\)[:space:]]+)(\ +\"[^\"]*\")?\)(.*)$ ]]; do
      target="${BASH_REMATCH[1]}" rest="${BASH_REMATCH[3]}"
      case "$target" in
        http://* | https://* | mailto:*) continue ;;
      esac
      checked=$((checked + 1))
      path="${target%%#*}" anchor=""
      [[ "$target" == *"#"* ]] && anchor="${target#*#}"
      if [[ -z "$path" ]]; then
        dest="$real"
      else
        [[ "$path" == /* ]] && { fail "$rel:$n: $target is absolute; links must be relative"; continue; }
        dest="$(realpath -m "$dir/$path")"
        if [[ "$dest" != "$root" && "$dest" != "$root"/* ]]; then
          fail "$rel:$n: $target leads out of the repository"
          continue
        fi
        [[ -e "$dest" ]] || { fail "$rel:$n: $target: no such file (${dest#"$root"/})"; continue; }
      fi
      if [[ -n "$anchor" && "$dest" == *.md ]]; then
        grep -qxF -- "$anchor" <(slugs "$dest") ||
          fail "$rel:$n: $target: ${dest#"$root"/} has no heading with the anchor #$anchor"
      fi
    done
  done <"$file"
done

((files > 1)) || fail "no files of docs/ given"
echo "$checked relative links checked in $files files; README.md has $lines lines"
((failures == 0)) || { echo "$failures problem(s)" >&2; exit 1; }
