// Package docsui is the interactive API page served at /docs: Swagger UI, vendored from the
// swagger-ui-dist npm package (swagger-ui/, see update.sh and swagger-ui/VERSION), pointed at
// the gateway's /openapi.json with "Try it out" on. Every file the page loads is embedded in
// the binary and served under /docs/, so the page works without internet access; its
// Content-Security-Policy lets the browser fetch nothing from anywhere else.
package docsui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"time"
)

//go:embed index.html init.js swagger-ui/swagger-ui-bundle.js swagger-ui/swagger-ui.css swagger-ui/LICENSE swagger-ui/NOTICE swagger-ui/swagger-ui-bundle.js.LICENSE.txt
var files embed.FS

// ContentSecurityPolicy of the page: scripts, styles, the document and calls from the gateway
// only. Swagger UI sets inline styles and shows inline (data:) images.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets are the files under /docs/<name>; index is the page at /docs.
var (
	index  = load("index.html", "text/html; charset=utf-8")
	assets = map[string]asset{
		"init.js":                          load("init.js", "text/javascript; charset=utf-8"),
		"swagger-ui-bundle.js":             load("swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
		"swagger-ui.css":                   load("swagger-ui/swagger-ui.css", "text/css; charset=utf-8"),
		"LICENSE":                          load("swagger-ui/LICENSE", "text/plain; charset=utf-8"),
		"NOTICE":                           load("swagger-ui/NOTICE", "text/plain; charset=utf-8"),
		"swagger-ui-bundle.js.LICENSE.txt": load("swagger-ui/swagger-ui-bundle.js.LICENSE.txt", "text/plain; charset=utf-8"),
	}
)

func load(name, contentType string) asset {
	body, err := files.ReadFile(name)
	if err != nil {
		panic("docsui: " + err.Error()) // the go:embed list and this table disagree
	}
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// ServeIndex writes the page (/docs).
func ServeIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
	serve(w, r, "index.html", index)
}

// ServeAsset writes the file /docs/<name> and reports true, or writes nothing and reports false
// when there is no such file.
func ServeAsset(w http.ResponseWriter, r *http.Request, name string) bool {
	a, ok := assets[name]
	if !ok {
		return false
	}
	serve(w, r, name, a)
	return true
}

// serve answers conditional requests (ETag) and ranges; browsers revalidate (no-cache), so a
// new gateway build never leaves them with an old Swagger UI.
func serve(w http.ResponseWriter, r *http.Request, name string, a asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(a.body))
}
