// Package dashboard is the live page served at /: prices, moving averages and OHLCV bars of the
// symbols a person picks, fed by the gateway's Server-Sent Events, next to the polling jobs (start,
// stop, run statistics), the providers' state and the service's readiness. It is plain HTML, CSS
// and JavaScript calling the public REST API; the charts are lightweight-charts, vendored from
// the npm package (lightweight-charts/, see update.sh and lightweight-charts/VERSION). Every file
// is embedded in the binary and served under /dashboard/, so the page works without internet
// access; its Content-Security-Policy lets the browser fetch nothing from anywhere else.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"time"
)

//go:embed index.html app.js app.css lightweight-charts/lightweight-charts.standalone.production.js lightweight-charts/LICENSE lightweight-charts/VERSION
var files embed.FS

// ContentSecurityPolicy of the page: scripts, styles and calls to the gateway only.
// lightweight-charts sizes its canvases with inline styles.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets are the files under /dashboard/<name>; index is the page at /.
var (
	index  = load("index.html", "text/html; charset=utf-8")
	assets = map[string]asset{
		"app.js":                     load("app.js", "text/javascript; charset=utf-8"),
		"app.css":                    load("app.css", "text/css; charset=utf-8"),
		"lightweight-charts.js":      load("lightweight-charts/lightweight-charts.standalone.production.js", "text/javascript; charset=utf-8"),
		"lightweight-charts.LICENSE": load("lightweight-charts/LICENSE", "text/plain; charset=utf-8"),
		"lightweight-charts.VERSION": load("lightweight-charts/VERSION", "text/plain; charset=utf-8"),
	}
)

func load(name, contentType string) asset {
	body, err := files.ReadFile(name)
	if err != nil {
		panic("dashboard: " + err.Error()) // the go:embed list and this table disagree
	}
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// ServeIndex writes the page (/).
func ServeIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
	serve(w, r, "index.html", index)
}

// ServeAsset writes the file /dashboard/<name> and reports true, or writes nothing and reports
// false when there is no such file.
func ServeAsset(w http.ResponseWriter, r *http.Request, name string) bool {
	a, ok := assets[name]
	if !ok {
		return false
	}
	serve(w, r, name, a)
	return true
}

// serve answers conditional requests (ETag); browsers revalidate (no-cache), so a new gateway
// build never leaves them with an old page.
func serve(w http.ResponseWriter, r *http.Request, name string, a asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(a.body))
}
