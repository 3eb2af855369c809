// Package embeddedpage serves a page built into the gateway binary: its index and the files it
// loads, each with a content type and an ETag, under a Content-Security-Policy. The API docs
// (/docs) and the dashboard (/) are two such pages.
package embeddedpage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"time"
)

// File is one embedded file: where it is in the embed.FS, and what it is.
type File struct {
	Path, ContentType string
}

// Page is an index (index.html) and named files, read once from an embed.FS.
type Page struct {
	csp    string
	index  asset
	assets map[string]asset
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// New reads index.html and every file of `files` (by the name it is served under) from fsys. A
// missing file panics: the go:embed list and the table disagree, which no run can mend.
func New(fsys embed.FS, csp string, files map[string]File) *Page {
	p := &Page{csp: csp, index: load(fsys, File{"index.html", "text/html; charset=utf-8"}), assets: map[string]asset{}}
	for name, f := range files {
		p.assets[name] = load(fsys, f)
	}
	return p
}

func load(fsys embed.FS, f File) asset {
	body, err := fsys.ReadFile(f.Path)
	if err != nil {
		panic("embeddedpage: " + err.Error())
	}
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: f.ContentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// Index is the page's own bytes; Files, every other file's by its name (for tests).
func (p *Page) Index() []byte { return p.index.body }

func (p *Page) Files() map[string][]byte {
	out := make(map[string][]byte, len(p.assets))
	for name, a := range p.assets {
		out[name] = a.body
	}
	return out
}

// ServeIndex writes the page itself, with its Content-Security-Policy.
func (p *Page) ServeIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", p.csp)
	serve(w, r, "index.html", p.index)
}

// ServeAsset writes the file called `name` and reports true, or writes nothing and reports false
// when there is no such file.
func (p *Page) ServeAsset(w http.ResponseWriter, r *http.Request, name string) bool {
	a, ok := p.assets[name]
	if !ok {
		return false
	}
	serve(w, r, name, a)
	return true
}

// serve answers conditional requests (ETag) and ranges; browsers revalidate (no-cache), so a new
// gateway build never leaves them with an old page.
func serve(w http.ResponseWriter, r *http.Request, name string, a asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(a.body))
}
