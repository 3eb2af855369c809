package gateway

import "testing"

func TestAllowTable(t *testing.T) {
	table, err := newAllowTable([]byte(`{"paths": {
		"/a/b": {"get": {}, "post": {}, "parameters": []},
		"/a/{id}": {"delete": {}},
		"/c": {"get": {}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	table.add("GET", "/c")
	table.add("GET", "/d/{asset}")
	for path, want := range map[string]string{
		"/a/b":     "DELETE, GET, POST", // the literal route and the template both match
		"/a/x":     "DELETE",
		"/a/":      "",
		"/c":       "GET",
		"/c/":      "GET",
		"/d/x.js":  "GET",
		"/nothing": "",
		"/a/b/c":   "",
	} {
		if got := table.allow(path); got != want {
			t.Errorf("allow(%q) = %q, want %q", path, got, want)
		}
	}
	if _, err := newAllowTable([]byte("not json")); err == nil {
		t.Error("a broken document was accepted")
	}
}
