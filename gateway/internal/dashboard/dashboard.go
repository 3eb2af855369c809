// Package dashboard is the live page served at /: prices, moving averages and OHLCV bars of the
// symbols a person picks, fed by the gateway's Server-Sent Events, next to the polling jobs (start,
// stop, run statistics), the providers' state and the service's readiness. It is plain HTML, CSS
// and JavaScript calling the public REST API; the charts are lightweight-charts, vendored from
// the npm package (lightweight-charts/, see update.sh and lightweight-charts/VERSION). Every file
// is embedded in the binary and served under /dashboard/, so the page works without internet
// access; its Content-Security-Policy lets the browser fetch nothing from anywhere else.
package dashboard

import (
	"embed"
	"net/http"

	"marketdata/gateway/internal/embeddedpage"
)

//go:embed index.html app.js app.css lightweight-charts/lightweight-charts.standalone.production.js lightweight-charts/LICENSE lightweight-charts/VERSION
var files embed.FS

// ContentSecurityPolicy of the page: scripts, styles and calls to the gateway only.
// lightweight-charts sizes its canvases with inline styles.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// page is the page at / and its files under /dashboard/<name>.
var page = embeddedpage.New(files, ContentSecurityPolicy, map[string]embeddedpage.File{
	"app.js":                     {Path: "app.js", ContentType: "text/javascript; charset=utf-8"},
	"app.css":                    {Path: "app.css", ContentType: "text/css; charset=utf-8"},
	"lightweight-charts.js":      {Path: "lightweight-charts/lightweight-charts.standalone.production.js", ContentType: "text/javascript; charset=utf-8"},
	"lightweight-charts.LICENSE": {Path: "lightweight-charts/LICENSE", ContentType: "text/plain; charset=utf-8"},
	"lightweight-charts.VERSION": {Path: "lightweight-charts/VERSION", ContentType: "text/plain; charset=utf-8"},
})

// ServeIndex writes the page (/).
func ServeIndex(w http.ResponseWriter, r *http.Request) { page.ServeIndex(w, r) }

// ServeAsset writes the file /dashboard/<name> and reports true, or writes nothing and reports false
// when there is no such file.
func ServeAsset(w http.ResponseWriter, r *http.Request, name string) bool {
	return page.ServeAsset(w, r, name)
}
