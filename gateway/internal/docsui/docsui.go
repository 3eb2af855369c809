// Package docsui is the interactive API page served at /docs: Swagger UI, vendored from the
// swagger-ui-dist npm package (swagger-ui/, see update.sh and swagger-ui/VERSION), pointed at
// the gateway's /openapi.json with "Try it out" on. Every file the page loads is embedded in
// the binary and served under /docs/, so the page works without internet access; its
// Content-Security-Policy lets the browser fetch nothing from anywhere else.
package docsui

import (
	"embed"
	"net/http"

	"marketdata/gateway/internal/embeddedpage"
)

//go:embed index.html init.js swagger-ui/swagger-ui-bundle.js swagger-ui/swagger-ui.css swagger-ui/LICENSE swagger-ui/NOTICE swagger-ui/swagger-ui-bundle.js.LICENSE.txt
var files embed.FS

// ContentSecurityPolicy of the page: scripts, styles, the document and calls from the gateway
// only. Swagger UI sets inline styles and shows inline (data:) images.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

// page is the page at /docs and its files under /docs/<name>.
var page = embeddedpage.New(files, ContentSecurityPolicy, map[string]embeddedpage.File{
	"init.js":                          {Path: "init.js", ContentType: "text/javascript; charset=utf-8"},
	"swagger-ui-bundle.js":             {Path: "swagger-ui/swagger-ui-bundle.js", ContentType: "text/javascript; charset=utf-8"},
	"swagger-ui.css":                   {Path: "swagger-ui/swagger-ui.css", ContentType: "text/css; charset=utf-8"},
	"LICENSE":                          {Path: "swagger-ui/LICENSE", ContentType: "text/plain; charset=utf-8"},
	"NOTICE":                           {Path: "swagger-ui/NOTICE", ContentType: "text/plain; charset=utf-8"},
	"swagger-ui-bundle.js.LICENSE.txt": {Path: "swagger-ui/swagger-ui-bundle.js.LICENSE.txt", ContentType: "text/plain; charset=utf-8"},
})

// ServeIndex writes the page (/docs).
func ServeIndex(w http.ResponseWriter, r *http.Request) { page.ServeIndex(w, r) }

// ServeAsset writes the file /docs/<name> and reports true, or writes nothing and reports false
// when there is no such file.
func ServeAsset(w http.ResponseWriter, r *http.Request, name string) bool {
	return page.ServeAsset(w, r, name)
}
