package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// allowTable knows which methods each route path serves, for the Allow header of a 405. The
// API's routes come from the embedded OpenAPI document, itself generated from http.yaml (the one
// source of the REST mapping, which the generated handlers also come from); the operational
// routes (GET only) are added where they are registered.
type allowTable struct {
	routes []allowRoute
}

type allowRoute struct {
	segments []string // "" stands for one path parameter ({job_id})
	methods  map[string]bool
}

// newAllowTable reads the paths and their operations from an OpenAPI document.
func newAllowTable(document []byte) (*allowTable, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(document, &doc); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI document: %w", err)
	}
	t := &allowTable{}
	for path, item := range doc.Paths {
		for key := range item {
			switch method := strings.ToUpper(key); method {
			case http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete,
				http.MethodPatch, http.MethodHead, http.MethodOptions:
				t.add(method, path)
			}
		}
	}
	return t, nil
}

func splitTemplate(path string) []string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			parts[i] = ""
		}
	}
	return parts
}

// add records that method serves the path template (`/api/v1/prices/poll/{job_id}`).
func (t *allowTable) add(method, template string) {
	segments := splitTemplate(template)
	for i := range t.routes {
		if equalSegments(t.routes[i].segments, segments) {
			t.routes[i].methods[method] = true
			return
		}
	}
	t.routes = append(t.routes, allowRoute{segments: segments, methods: map[string]bool{method: true}})
}

func equalSegments(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// allow is the Allow header value for a request path: the methods of every route template it
// matches, sorted; "" when none does.
func (t *allowTable) allow(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	set := map[string]bool{}
	for _, r := range t.routes {
		if len(r.segments) != len(parts) {
			continue
		}
		match := true
		for i, s := range r.segments {
			if s != "" && s != parts[i] || s == "" && parts[i] == "" {
				match = false
				break
			}
		}
		if match {
			for m := range r.methods {
				set[m] = true
			}
		}
	}
	methods := make([]string, 0, len(set))
	for m := range set {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	return strings.Join(methods, ", ")
}
