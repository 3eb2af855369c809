package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// logRecord is one JSON line of a process's log, with the raw line for the report.
type logRecord struct {
	fields map[string]any
	line   string
}

// jsonLines returns the lines of p's log that are JSON objects with request_id `id`. Every line
// must be JSON: LOG_FORMAT defaults to json, and gRPC's and librdkafka's own lines go through the
// same logger.
func jsonLines(t *testing.T, p *process, id string) []logRecord {
	t.Helper()
	data, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	// The process may be writing a line as it is read: only lines that end are complete.
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	var out []logRecord
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("%s logged a line that is not JSON: %q", p.name, line)
		}
		if fields["request_id"] == id {
			out = append(out, logRecord{fields, line})
		}
	}
	return out
}

func processNamed(t *testing.T, name string) *process {
	t.Helper()
	for _, p := range shared.processes {
		if p.name == name {
			return p
		}
	}
	t.Fatalf("no process %s in the stack", name)
	return nil
}

// One price followed by its request id, with grep alone: the gateway's request line, mds-api's
// call line and mds-consumer's line for the event of that price name the same request id and
// trace id. The price's Kafka record carries both as headers.
func TestOneRequestIsFollowedThroughTheLogs(t *testing.T) {
	id := fmt.Sprintf("follow-%d", time.Now().UnixNano())
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	req, err := http.NewRequest(http.MethodGet, shared.restURL+"/api/v1/prices/latest?symbol=LOGS&provider=test", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-Id", id)
	req.Header.Set("Traceparent", traceparent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-Id") != id {
		t.Fatalf("status %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}

	// Lines reach the files within 100 ms (the processes buffer them); the consumer's once the
	// event's batch is committed.
	want := []struct {
		process string
		match   func(map[string]any) bool
	}{
		{"gateway", func(f map[string]any) bool {
			return f["msg"] == "request" && f["path"] == "/api/v1/prices/latest" && f["status"] == float64(200)
		}},
		{"mds-api", func(f map[string]any) bool {
			return f["msg"] == "call" && f["method"] == "/marketdata.v1.PriceService/GetLatestPrice" && f["code"] == "OK"
		}},
		{"mds-consumer", func(f map[string]any) bool {
			return f["msg"] == "price event handled" && f["symbol"] == "LOGS"
		}},
	}
	var report []string
	for _, w := range want {
		p := processNamed(t, w.process)
		var found *logRecord
		waitFor(t, 30*time.Second, w.process+" logging request "+id, func() bool {
			for _, r := range jsonLines(t, p, id) {
				if w.match(r.fields) {
					found = &r
					return true
				}
			}
			return false
		})
		f := found.fields
		if f["trace_id"] != traceID || f["service"] != w.process || f["level"] != "INFO" {
			t.Errorf("%s: %s", w.process, found.line)
		}
		if ts, _ := f["time"].(string); len(ts) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(ts, "Z") {
			t.Errorf("%s: time %q is not RFC 3339 UTC with milliseconds", w.process, f["time"])
		}
		report = append(report, found.line)
	}
	t.Logf("grep %s:\n%s", id, strings.Join(report, "\n"))

	// The price's record on Kafka names the request.
	pointID, ok := processRecordPoint(t, processNamed(t, "mds-consumer"), id)
	if !ok {
		t.Fatal("the consumer's line has no price_point_id")
	}
	_, record := readEvent(t, pointID)
	headers := map[string]string{}
	for _, h := range record.Headers {
		headers[h.Key] = string(h.Value)
	}
	if headers["x-request-id"] != id || headers["traceparent"] != traceparent {
		t.Errorf("record headers %v", headers)
	}
}

func processRecordPoint(t *testing.T, p *process, id string) (int64, bool) {
	for _, r := range jsonLines(t, p, id) {
		if v, ok := r.fields["price_point_id"].(float64); ok {
			return int64(v), true
		}
	}
	return 0, false
}
