#!/usr/bin/env bash
# Replaces the vendored charting library (lightweight-charts/) with a release of the
# lightweight-charts package from the npm registry. The files are committed: the gateway builds
# offline and embeds them, and the dashboard at / loads nothing from elsewhere.
#
#   gateway/internal/dashboard/update.sh 5.2.1
#
# Needs npm (Debian package `npm`). `npm pack` fetches the tarball only, checking it against
# the registry's integrity hash, and runs no install scripts. Afterwards run the gateway's tests
# and //tests/dashboard_page:dashboard_page_test (the dashboard uses the version 5 API).
set -euo pipefail

version="${1:-}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 <exact lightweight-charts version, e.g. 5.2.1>" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm is needed (apt-get install npm)" >&2; exit 1; }

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lightweight-charts"
# The self-contained build (it defines the LightweightCharts global) and its licence.
files=(dist/lightweight-charts.standalone.production.js LICENSE)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tarball="$(cd "$tmp" && npm pack --silent "lightweight-charts@$version")"
tar -xzf "$tmp/$tarball" -C "$tmp"
for f in "${files[@]}"; do
  [[ -f "$tmp/package/$f" ]] || { echo "lightweight-charts $version has no $f" >&2; exit 1; }
done
rm -rf "$dir"
mkdir -p "$dir"
for f in "${files[@]}"; do
  cp "$tmp/package/$f" "$dir/$(basename "$f")"
done
{
  echo "lightweight-charts $version (https://www.npmjs.com/package/lightweight-charts), Apache-2.0"
  echo "tarball sha256 $(sha256sum "$tmp/$tarball" | cut -d' ' -f1)"
} >"$dir/VERSION"

# The dashboard must load nothing from outside the gateway: list the library's absolute URLs so
# that a new one is noticed. Expected: the SVG namespace, the licence's URL and the attribution
# link of the TradingView logo (a link the user may follow, never fetched by the page).
echo "absolute URLs in the library:"
grep -o 'https\?://[^"'"'"' )`$]*' "$dir/lightweight-charts.standalone.production.js" | sort -u || true
echo "vendored lightweight-charts $version into ${dir}"
