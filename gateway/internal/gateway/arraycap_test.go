package gateway

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCapJSONArrays(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"symbols":["A","B","C"],"interval":5}`, `{"symbols":["A","B","C"],"interval":5}`},
		{`{"symbols":["A","B","C","D","E"],"interval":5}`, `{"symbols":["A","B","C"],"interval":5}`},
		{`[1,2,3,4]`, `[1,2,3]`},
		{`[[1,2,3,4],[5]]`, `[[1,2,3],[5]]`},
		{`[1,2,3,[4,5],{"a":[6,7,8,9]}]`, `[1,2,3]`},
		// Commas and brackets inside strings are not structure.
		{`["a,b]","c\",[","d","e"]`, `["a,b]","c\",[","d"]`},
		{`{"a":1,"b":2,"c":3,"d":4}`, `{"a":1,"b":2,"c":3,"d":4}`},
		// Not JSON: stays not JSON.
		{`[1,2,3,4,5`, `[1,2,3`},
		{`{"symbols":["A","B","C","D"`, `{"symbols":["A","B","C"`},
		{``, ``},
	} {
		if got := string(capJSONArrays([]byte(c.in), 2)); got != c.want {
			t.Errorf("capJSONArrays(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestCapJSONArraysKeepsValidJSONValid(t *testing.T) {
	symbols := make([]string, 40000)
	for i := range symbols {
		symbols[i] = fmt.Sprintf("X%d", i)
	}
	body, _ := json.Marshal(map[string]any{"symbols": symbols, "interval": 5, "provider": "test"})
	var got struct {
		Symbols  []string
		Interval int
		Provider string
	}
	if err := json.Unmarshal(capJSONArrays(body, maxArrayItems), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Symbols) != maxArrayItems+1 || got.Symbols[maxArrayItems] != fmt.Sprintf("X%d", maxArrayItems) ||
		got.Interval != 5 || got.Provider != "test" {
		t.Errorf("%d symbols, interval %d, provider %q", len(got.Symbols), got.Interval, got.Provider)
	}
	small := []byte(`{"symbols":["AAPL"],"interval":5}`)
	if out := capJSONArrays(small, maxArrayItems); &out[0] != &small[0] {
		t.Error("a body within the limits was copied")
	}
}

func BenchmarkCapJSONArrays(b *testing.B) {
	body := `{"symbols":["` + strings.Repeat(`X12345","`, 40000) + `END"],"interval":5}`
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		capJSONArrays([]byte(body), maxArrayItems)
	}
}
