package dashboard

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

// The page loads only what the gateway serves: every src/href of index.html is a /dashboard/
// file, a data: URL or another page of the gateway, and our files name no other host.
func TestPageLoadsNothingFromElsewhere(t *testing.T) {
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(index), -1) {
		ref := m[1]
		switch ref {
		case "data:,", "/docs", "/openapi.json", "/metrics": // the favicon and links to the gateway's pages
			continue
		}
		name, ok := strings.CutPrefix(ref, "/dashboard/")
		if _, served := assets[name]; !ok || !served {
			t.Errorf("index.html loads %q, which the gateway does not serve", ref)
		}
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, body := range map[string][]byte{"index.html": index, "app.js": assets["app.js"], "app.css": assets["app.css"]} {
		for _, line := range strings.Split(string(body), "\n") {
			if code, _, _ := strings.Cut(line, "// "); external.MatchString(code) {
				t.Errorf("%s names another host: %s", name, line)
			}
		}
	}
	// The library's only absolute URLs: the SVG namespace, its licence, and the attribution
	// logo's link (followed only if clicked).
	for _, u := range regexp.MustCompile(`https?://[^"'\x60 )]*`).FindAllString(string(assets["lightweight-charts.js"]), -1) {
		if !strings.HasPrefix(u, "http://www.w3.org/") && !strings.HasPrefix(u, "https://www.apache.org/licenses/") &&
			!strings.HasPrefix(u, "https://www.tradingview.com/?utm_medium=lwc-link") {
			t.Errorf("lightweight-charts.js names %s", u)
		}
	}
}

// The page uses the routes it should: the stream routes through EventSource, the polling,
// providers and readiness routes through fetch.
func TestPageUsesTheAPI(t *testing.T) {
	js := string(assets["app.js"])
	for _, want := range []string{
		`new EventSource(`, `"/api/v1/prices/stream"`, `"/api/v1/averages/stream"`, `"/api/v1/bars/stream"`,
		`"/api/v1/prices/poll"`, `"/api/v1/providers"`, `fetch("/ready")`, `"api_key"`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("app.js lacks %s", want)
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
	ServeIndex(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy ||
		w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("index: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	if !ServeAsset(w, httptest.NewRequest(http.MethodGet, "/dashboard/lightweight-charts.js", nil), "lightweight-charts.js") {
		t.Fatal("lightweight-charts.js not served")
	}
	if w.Code != http.StatusOK || w.Header().Get("ETag") == "" || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("library: %d %v", w.Code, w.Header())
	}
	for _, name := range []string{"", "index.html", "../dashboard.go", "lightweight-charts/LICENSE"} {
		w = httptest.NewRecorder()
		if ServeAsset(w, httptest.NewRequest(http.MethodGet, "/dashboard/x", nil), name) || w.Body.Len() != 0 {
			t.Errorf("%q served", name)
		}
	}
}
