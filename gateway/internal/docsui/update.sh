#!/usr/bin/env bash
# Replaces the vendored Swagger UI (swagger-ui/) with a release of the swagger-ui-dist package
# from the npm registry. The files are committed: the gateway builds offline and embeds them.
#
#   gateway/internal/docsui/update.sh 5.35.0
#
# Needs npm (Debian package `npm`). `npm pack` fetches the tarball only, checking it against
# the registry's integrity hash, and runs no install scripts. Afterwards update the version in
# gateway/README.md and run the gateway's tests and //tests/docs_page:docs_page_test.
set -euo pipefail

version="${1:-}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 <exact swagger-ui-dist version, e.g. 5.35.0>" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm is needed (apt-get install npm)" >&2; exit 1; }

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/swagger-ui"
# What the page needs (the bundle and its stylesheet) and the licence texts that go with it.
files=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tarball="$(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version")"
tar -xzf "$tmp/$tarball" -C "$tmp"
for f in "${files[@]}"; do
  [[ -f "$tmp/package/$f" ]] || { echo "swagger-ui-dist $version has no $f" >&2; exit 1; }
done
rm -rf "$dir"
mkdir -p "$dir"
for f in "${files[@]}"; do
  cp "$tmp/package/$f" "$dir/$f"
done
{
  echo "swagger-ui-dist $version (https://www.npmjs.com/package/swagger-ui-dist), Apache-2.0"
  echo "tarball sha256 $(sha256sum "$tmp/$tarball" | cut -d' ' -f1)"
} >"$dir/VERSION"

# The page must load nothing from outside the gateway: list the bundle's absolute URLs that the
# page could fetch, so a new one (a CDN, web fonts) is noticed. Most are only names in code
# (JSON Schema ids, RFC links); the validator badge is turned off by init.js (validatorUrl: null).
echo "absolute URLs in the stylesheet (want none but the SVG namespace):"
grep -o 'https\?://[^")'"'"' ]*' "$dir/swagger-ui.css" | sort -u | grep -v '^http://www.w3.org/' || true
echo "validator URLs in the bundle (disabled by init.js):"
grep -o 'https://validator[^"'"'"']*' "$dir/swagger-ui-bundle.js" | sort -u || true
echo "vendored swagger-ui-dist $version into ${dir}"
