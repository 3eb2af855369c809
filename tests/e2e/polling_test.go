package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

var jobIDPattern = regexp.MustCompile(`^poll_[0-9a-f]{8}$`)

func send(t *testing.T, base, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(data) > 0 && json.Unmarshal(data, &out) != nil {
		t.Fatalf("%s %s: not a JSON object: %q", method, path, data)
	}
	return resp.StatusCode, out
}

func jobField(t *testing.T, base, id, field string) any {
	t.Helper()
	code, body := send(t, base, "GET", "/api/v1/prices/poll/"+id, "")
	if code != 200 {
		t.Fatalf("GET job %s: %d %v", id, code, body)
	}
	return body[field]
}

func runCount(t *testing.T, base, id string) int {
	return int(jobField(t, base, id, "run_count").(float64))
}

// createJobs creates `jobs` polling jobs of `per` symbols (prefix + number) on the test provider.
func createJobs(t *testing.T, base, prefix string, jobs, per, interval int) []string {
	t.Helper()
	var ids []string
	for j := 0; j < jobs; j++ {
		var symbols []string
		for k := 0; k < per; k++ {
			symbols = append(symbols, fmt.Sprintf("%s%04d", prefix, j*per+k))
		}
		ids = append(ids, createJob(t, base, symbols, interval))
	}
	return ids
}

func stopJobs(t *testing.T, base string, ids []string) {
	t.Helper()
	for _, id := range ids {
		if code, body := send(t, base, "DELETE", "/api/v1/prices/poll/"+id, ""); code != 200 {
			t.Errorf("stop job %s: %d %v", id, code, body)
		}
	}
}

func pricePoints(t *testing.T, databaseURL, symbol string) int {
	t.Helper()
	var n int
	if err := queryDBAt(t, databaseURL, "SELECT count(*) FROM price_points WHERE symbol = $1", symbol).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func createJob(t *testing.T, base string, symbols []string, interval int) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"symbols": symbols, "interval": interval, "provider": "test"})
	code, out := send(t, base, "POST", "/api/v1/prices/poll", string(body))
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, out)
	}
	return out["job_id"].(string)
}

func TestPollingJobLifecycleOverREST(t *testing.T) {
	base := shared.restURL
	code, job := send(t, base, "POST", "/api/v1/prices/poll",
		`{"symbols":["e2ea","E2EB","e2ea","E2EC"],"interval":1,"provider":"test","unknown_field":true}`)
	if code != http.StatusAccepted {
		t.Fatalf("status %d, want 202: %v", code, job)
	}
	id, _ := job["job_id"].(string)
	if !jobIDPattern.MatchString(id) {
		t.Fatalf("job_id %q", id)
	}
	if job["status"] != "accepted" {
		t.Errorf("status %v, want accepted", job["status"])
	}
	config, _ := json.Marshal(job["config"])
	if string(config) != `{"interval":1,"provider":"test","symbols":["E2EA","E2EB","E2EC"]}` {
		t.Errorf("config %s", config)
	}

	// It runs every second: statistics and history show it.
	waitFor(t, 15*time.Second, "three runs", func() bool { return runCount(t, base, id) >= 3 })
	code, got := send(t, base, "GET", "/api/v1/prices/poll/"+id, "")
	if code != 200 || got["status"] != "running" || got["last_run_at"] == nil || got["next_run_at"] == nil ||
		got["error_count"].(float64) != 0 || got["created_at"] != job["created_at"] {
		t.Errorf("running job: %d %v", code, got)
	}
	code, history := send(t, base, "GET", "/api/v1/prices/history?symbol=e2eb&limit=2", "")
	prices, _ := history["prices"].([]any)
	if code != 200 || len(prices) != 2 || history["next_page_token"] == "" {
		t.Fatalf("history: %d %v", code, history)
	}
	newest, older := prices[0].(map[string]any), prices[1].(map[string]any)
	t0, _ := time.Parse(time.RFC3339Nano, older["timestamp"].(string))
	t1, _ := time.Parse(time.RFC3339Nano, newest["timestamp"].(string))
	if gap := t1.Sub(t0); gap < 500*time.Millisecond || gap > 1500*time.Millisecond {
		t.Errorf("consecutive polls %v apart, want about 1s", gap)
	}
	code, page2 := send(t, base, "GET", "/api/v1/prices/history?symbol=E2EB&limit=2&page_token="+history["next_page_token"].(string), "")
	if p2, _ := page2["prices"].([]any); code != 200 || len(p2) == 0 || p2[0].(map[string]any)["timestamp"] == older["timestamp"] {
		t.Errorf("second page: %d %v", code, page2)
	}

	// DELETE stops it for good, and keeps it.
	code, deleted := send(t, base, "DELETE", "/api/v1/prices/poll/"+id, "")
	if code != 200 || deleted["status"] != "stopped" || deleted["job_id"] != id ||
		!strings.Contains(fmt.Sprint(deleted["message"]), id) {
		t.Fatalf("delete: %d %v", code, deleted)
	}
	stoppedAt := pricePoints(t, shared.databaseURL, "E2EA")
	// Let another one-second job run twice: time has passed and the scheduler is alive.
	witness := createJob(t, base, []string{"E2EW"}, 1)
	waitFor(t, 15*time.Second, "the witness job to run twice", func() bool { return runCount(t, base, witness) >= 2 })
	send(t, base, "DELETE", "/api/v1/prices/poll/"+witness, "")
	if n := pricePoints(t, shared.databaseURL, "E2EA"); n != stoppedAt {
		t.Errorf("stopped job still polled: %d price points, then %d", stoppedAt, n)
	}
	if jobField(t, base, id, "status") != "stopped" {
		t.Errorf("job not kept as stopped")
	}
	code, list := send(t, base, "GET", "/api/v1/prices/poll?status=stopped&limit=100", "")
	if code != 200 || !strings.Contains(fmt.Sprint(list["jobs"]), id) {
		t.Errorf("stopped job not listed: %d", code)
	}
}

func TestPollingBadRequests(t *testing.T) {
	base := shared.restURL
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("S%d", i)
	}
	tooMany, _ := json.Marshal(map[string]any{"symbols": many, "interval": 5})
	forty := make([]string, 40000)
	for i := range forty {
		forty[i] = fmt.Sprintf("X%d", i)
	}
	fortyThousand, _ := json.Marshal(map[string]any{"symbols": forty, "interval": 5})
	streamSymbols := make([]string, 1001)
	for i := range streamSymbols {
		streamSymbols[i] = fmt.Sprintf("S%d", i)
	}
	huge := `{"symbols":["AAPL"],"interval":5,"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		detail                   string
	}{
		{"empty symbols", "POST", "/api/v1/prices/poll", `{"symbols":[],"interval":5}`, 422, "symbols"},
		{"no symbols", "POST", "/api/v1/prices/poll", `{"interval":5}`, 422, "symbols"},
		{"too many symbols", "POST", "/api/v1/prices/poll", string(tooMany), 400, "at most 50"},
		{"40,000 symbols", "POST", "/api/v1/prices/poll", string(fortyThousand), 400, "at most 50"},
		{"too many stream symbols", "GET", "/api/v1/prices/stream?symbols=" + strings.Join(streamSymbols, ","), "", 400, "at most 1000"},
		{"too many average stream symbols", "GET", "/api/v1/averages/stream?symbols=" + strings.Join(streamSymbols, ","), "", 400, "at most 1000"},
		{"history page token before year 1", "GET", "/api/v1/prices/history?symbol=AAPL&page_token=-9000000000000000000.1", "", 400, "page_token"},
		{"history page token at int64 max", "GET", "/api/v1/prices/history?symbol=AAPL&page_token=9223372036854775807.1", "", 400, "page_token"},
		{"averages page token before year 1", "GET", "/api/v1/averages?symbol=AAPL&window=5&page_token=-9000000000000000000.1", "", 400, "page_token"},
		{"averages page token at int64 max", "GET", "/api/v1/averages?symbol=AAPL&window=5&page_token=9223372036854775807.1", "", 400, "page_token"},
		{"invalid symbol", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL","no way"],"interval":5}`, 400, "invalid symbol"},
		{"empty symbol", "POST", "/api/v1/prices/poll", `{"symbols":[""],"interval":5}`, 400, "empty"},
		{"no interval", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"]}`, 422, "interval"},
		{"negative interval", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"],"interval":-5}`, 400, "interval"},
		{"huge interval", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"],"interval":86401}`, 400, "interval"},
		{"fractional interval", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"],"interval":1.5}`, 400, ""},
		{"interval as text", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"],"interval":"abc"}`, 400, ""},
		{"symbols as text", "POST", "/api/v1/prices/poll", `{"symbols":"AAPL","interval":5}`, 400, ""},
		{"unknown provider", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"],"interval":5,"provider":"nope"}`, 400, "unknown provider"},
		{"malformed JSON", "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"`, 400, ""},
		{"not an object", "POST", "/api/v1/prices/poll", `[1,2]`, 400, ""},
		{"oversize body", "POST", "/api/v1/prices/poll", huge, 413, ""},
		{"wrong method", "PUT", "/api/v1/prices/poll", `{}`, 405, ""},
		{"unknown job", "GET", "/api/v1/prices/poll/poll_00000000", "", 404, "not found"},
		{"malformed job id", "GET", "/api/v1/prices/poll/nonsense", "", 404, "not found"},
		{"delete unknown job", "DELETE", "/api/v1/prices/poll/poll_00000000", "", 404, "not found"},
		{"bad status filter", "GET", "/api/v1/prices/poll?status=paused", "", 400, "status"},
		{"bad page token", "GET", "/api/v1/prices/poll?page_token=zzz", "", 400, "page_token"},
		{"bad limit", "GET", "/api/v1/prices/poll?limit=100000", "", 400, "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := send(t, base, c.method, c.path, c.body)
			if code != c.status {
				t.Fatalf("status %d, want %d: %v", code, c.status, body)
			}
			detail, _ := body["detail"].(string)
			if detail == "" || body["code"] == nil {
				t.Fatalf("error body without detail/code: %v", body)
			}
			if !strings.Contains(detail, c.detail) {
				t.Errorf("detail %q does not mention %q", detail, c.detail)
			}
		})
	}
}

func TestPollingOverGRPC(t *testing.T) {
	client := mdv1.NewPollingServiceClient(grpcConn(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	job, err := client.CreatePollingJob(ctx, &mdv1.CreatePollingJobRequest{Symbols: []string{"g1", "G2"}, Interval: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if !jobIDPattern.MatchString(job.JobId) || job.Config.Provider != "test" ||
		strings.Join(job.Config.Symbols, ",") != "G1,G2" {
		t.Errorf("created %v", job)
	}
	got, err := client.GetPollingJob(ctx, &mdv1.GetPollingJobRequest{JobId: job.JobId})
	if err != nil || got.JobId != job.JobId {
		t.Fatalf("get: %v %v", got, err)
	}
	list, err := client.ListPollingJobs(ctx, &mdv1.ListPollingJobsRequest{Limit: 500})
	if err != nil || !strings.Contains(fmt.Sprint(list.Jobs), job.JobId) {
		t.Errorf("list: %v", err)
	}
	deleted, err := client.DeletePollingJob(ctx, &mdv1.DeletePollingJobRequest{JobId: job.JobId})
	if err != nil || deleted.Status != "stopped" || deleted.Message == "" {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	_, err = client.GetPollingJob(ctx, &mdv1.GetPollingJobRequest{JobId: "poll_00000000"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown job: %v", err)
	}
	_, err = client.CreatePollingJob(ctx, &mdv1.CreatePollingJobRequest{Symbols: []string{"AAPL"}, Interval: 0})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("no interval: %v", err)
	}
}

// Jobs survive a crash of mds-api, and two replicas share them without polling a tick twice.
func TestPollingSurvivesSIGKILLAndReplicasShareJobs(t *testing.T) {
	s, cleanup, err := startStack("replicas")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	api := s.processes[0]
	id := createJob(t, s.restURL, []string{"RK1", "RK2", "RK3"}, 1)
	waitFor(t, 15*time.Second, "a first run", func() bool { return runCount(t, s.restURL, id) >= 1 })

	api.kill()
	if err := api.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitServing(s.apiAddr, 60*time.Second); err != nil {
		t.Fatalf("restarted mds-api not serving: %v\n%s", err, s.logs())
	}
	before := runCount(t, s.restURL, id)
	waitFor(t, 10*time.Second, "runs after the restart", func() bool { return runCount(t, s.restURL, id) >= before+2 })

	if _, _, err := s.addAPIReplica("mds-api-2"); err != nil {
		t.Fatal(err)
	}
	shared := createJob(t, s.restURL, []string{"RS1", "RS2"}, 1)
	waitFor(t, 20*time.Second, "five runs with two replicas", func() bool { return runCount(t, s.restURL, shared) >= 5 })
	send(t, s.restURL, "DELETE", "/api/v1/prices/poll/"+shared, "")
	send(t, s.restURL, "DELETE", "/api/v1/prices/poll/"+id, "")
	// A run in progress when the job was stopped may still complete: read the count after it.
	waitFor(t, 5*time.Second, "runs to settle", func() bool {
		n := runCount(t, s.restURL, shared)
		return pricePoints(t, s.databaseURL, "RS1") == n && pricePoints(t, s.databaseURL, "RS2") == n
	})
	// Each price point belongs to the planned tick it was fetched in: the job's ticks are
	// next_run_at + k*interval for whole k (a run is planned on that grid, and skipped ticks
	// keep it), a run fetches no earlier than its tick, and the next run is planned after it
	// completes. So however late a run starts, its fetch lies between its own tick and the
	// next run's, and two points in one tick mean that tick was polled twice. (Counting by the
	// second of the fetch is not that: a late run shares its second with the next one.)
	var ticks, points int
	if err := queryDBAt(t, s.databaseURL, `SELECT
			count(DISTINCT floor(extract(epoch FROM p.ts - j.next_run_at) / j.interval_seconds)),
			count(*)
		FROM price_points p CROSS JOIN polling_jobs j
		WHERE p.symbol = 'RS1' AND j.job_id = $1`, shared).Scan(&ticks, &points); err != nil {
		t.Fatal(err)
	}
	if ticks != points {
		t.Errorf("%d price points over %d distinct planned ticks: a tick was polled twice", points, ticks)
	}
}
