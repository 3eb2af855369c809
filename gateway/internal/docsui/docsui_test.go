package docsui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The page as the tests read it: the index and the files by name.
var (
	index  = page.Index()
	assets = page.Files()
)

// The page loads only what the gateway serves: every src/href of index.html is a /docs/ file or
// a data: URL, and nothing in our files or the stylesheet names another host.
func TestPageLoadsNothingFromElsewhere(t *testing.T) {
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(index), -1) {
		ref := m[1]
		if ref == "data:," {
			continue
		}
		name, ok := strings.CutPrefix(ref, "/docs/")
		if _, served := assets[name]; !ok || !served {
			t.Errorf("index.html loads %q, which the gateway does not serve", ref)
		}
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, body := range map[string][]byte{"index.html": index, "init.js": assets["init.js"]} {
		for _, line := range strings.Split(string(body), "\n") {
			if code, _, _ := strings.Cut(line, "// "); external.MatchString(code) {
				t.Errorf("%s names another host: %s", name, line)
			}
		}
	}
	css := string(assets["swagger-ui.css"])
	if strings.Contains(css, "@import") || strings.Contains(css, "@font-face") ||
		regexp.MustCompile(`url\(["']?(https?:)?//`).MatchString(css) {
		t.Error("swagger-ui.css loads something from another host (an @import, a web font or a url())")
	}
}

func TestSwaggerUIConfiguration(t *testing.T) {
	cfg := string(assets["init.js"])
	for _, want := range []string{
		`url: "/openapi.json"`,
		"tryItOutEnabled: true",
		"validatorUrl: null", // else the page sends the document to validator.swagger.io
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("init.js lacks %q", want)
		}
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("Content-Security-Policy lacks %q", want)
		}
	}
}

func TestServe(t *testing.T) {
	w := httptest.NewRecorder()
	ServeIndex(w, httptest.NewRequest(http.MethodGet, "/docs", nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy ||
		w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("index: %d %v", w.Code, w.Header())
	}

	w = httptest.NewRecorder()
	if !ServeAsset(w, httptest.NewRequest(http.MethodGet, "/docs/swagger-ui-bundle.js", nil), "swagger-ui-bundle.js") {
		t.Fatal("swagger-ui-bundle.js not served")
	}
	etag := w.Header().Get("ETag")
	if w.Code != http.StatusOK || etag == "" || w.Body.Len() != len(assets["swagger-ui-bundle.js"]) ||
		w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("bundle: %d %v, %d bytes", w.Code, w.Header(), w.Body.Len())
	}
	// Revalidation is cheap: an unchanged file answers 304 without a body.
	r := httptest.NewRequest(http.MethodGet, "/docs/swagger-ui-bundle.js", nil)
	r.Header.Set("If-None-Match", etag)
	w = httptest.NewRecorder()
	ServeAsset(w, r, "swagger-ui-bundle.js")
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d, %d bytes", w.Code, w.Body.Len())
	}

	for _, name := range []string{"", "index.html", "../docsui.go", "swagger-ui/LICENSE", "swagger-ui-bundle.js.map"} {
		w = httptest.NewRecorder()
		if ServeAsset(w, httptest.NewRequest(http.MethodGet, "/docs/x", nil), name) || w.Body.Len() != 0 {
			t.Errorf("%q served", name)
		}
	}
}
