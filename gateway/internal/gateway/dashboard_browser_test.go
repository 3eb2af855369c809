//go:build browser

// The dashboard in a real browser: headless Chromium, driven over the DevTools protocol, loads /
// from a gateway whose backends are live fakes (a polling job makes prices and averages flow),
// with every host but 127.0.0.1 unresolvable. Run by //tests/dashboard_page:dashboard_page_test,
// or by hand:
//
//	cd gateway && go test -tags browser -run TestDashboardInBrowser ./internal/gateway/
//
// MDS_DASHBOARD_SCREENSHOT=<file.png> saves a screenshot of the page once prices arrived;
// MDS_DASHBOARD_URL=<http://host:port> drives a running gateway (e.g. ./deploy/dev up) instead
// of the fakes.
package gateway

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketdatav1 "marketdata/gateway/gen/marketdata/v1"
)

func TestDashboardInBrowser(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Fatal("chromium is not installed (Debian package chromium; ./deploy/dev test installs it)")
	}

	origin := os.Getenv("MDS_DASHBOARD_URL")
	var market *liveMarket
	if origin == "" {
		market = startLiveMarket(t)
		origin = market.url
	}
	symbol := "AAPL"

	page := openPage(t, browser)
	page.navigate(t, origin+"/?symbols="+symbol)

	// The page and the charting library load; both charts draw their canvases.
	page.waitFor(t, "charts render", `typeof LightweightCharts === "object" &&
		document.querySelectorAll("#price-chart canvas").length > 0 &&
		document.querySelectorAll("#bar-chart canvas").length > 0`)
	page.waitFor(t, "readiness shown", `document.getElementById("health").textContent.startsWith("ready")`)
	page.waitFor(t, "providers listed", `document.querySelectorAll("#providers tr").length > 0`)
	page.waitFor(t, "price stream open", `document.getElementById("sse-status").dataset.prices === "live"`)

	// A job started from the page makes prices flow to the chart through the event stream.
	page.eval(t, fmt.Sprintf(`(() => {
		document.getElementById("job-symbols").value = %q;
		document.getElementById("job-interval").value = "1";
		document.getElementById("job-start").click();
		return true;
	})()`, symbol))
	page.waitFor(t, "the job listed as running", fmt.Sprintf(
		`[...document.querySelectorAll("#jobs tr")].some((r) => r.dataset.status === "running" && r.cells[1].textContent === %q)`, symbol))
	page.waitFor(t, "live prices arrive", `parseInt(document.getElementById("event-count").textContent) >= 3 &&
		/^[0-9]+\.[0-9]{2}$/.test(document.getElementById("last-price").textContent)`)
	// The page's chart data (app.js keeps it in its top-level `state`): every kind of event arrived.
	page.waitFor(t, "prices, averages and bars in the charts' data", fmt.Sprintf(`state.prices[%[1]q].length > 0 &&
		Object.values(state.averages[%[1]q] || {}).some((a) => a.length > 0) && (state.bars[%[1]q] || []).length > 0`, symbol))
	if market != nil {
		page.waitFor(t, "averages and bars streams open", `document.getElementById("sse-status").dataset.averages === "live" &&
			document.getElementById("sse-status").dataset.bars === "live"`)
		if got := market.streamed(); !slices.Contains(got, symbol) {
			t.Errorf("the backend streamed %v, want %s", got, symbol)
		}
	}
	if shot := os.Getenv("MDS_DASHBOARD_SCREENSHOT"); shot != "" {
		time.Sleep(3 * time.Second) // a few more points on the line
		page.screenshot(t, shot)
	}

	// Stopping it from the page; stopped jobs are listed once asked for.
	page.eval(t, `document.getElementById("show-stopped").click()`)
	jobID := page.eval(t, fmt.Sprintf(`(() => {
		const row = [...document.querySelectorAll("#jobs tr")].find((r) => r.dataset.status === "running" && r.cells[1].textContent === %q);
		row.querySelector("button.stop").click();
		return row.dataset.jobId;
	})()`, symbol)).(string)
	page.waitFor(t, "the job listed as stopped", fmt.Sprintf(
		`[...document.querySelectorAll("#jobs tr")].some((r) => r.dataset.jobId === %q && r.dataset.status === "stopped")`, jobID))
	if market != nil && market.running(jobID) {
		t.Errorf("job %s still runs in the backend", jobID)
	}

	// Nothing came from elsewhere, and no script failed.
	resources := page.eval(t, `performance.getEntriesByType("resource").map((e) => e.name).concat([location.href])`).([]any)
	for _, r := range resources {
		if !strings.HasPrefix(r.(string), origin+"/") {
			t.Errorf("the page loaded %s", r)
		}
	}
	for _, want := range []string{"/dashboard/lightweight-charts.js", "/dashboard/app.js", "/dashboard/app.css"} {
		if !slices.ContainsFunc(resources, func(r any) bool { return r.(string) == origin+want }) {
			t.Errorf("the page did not load %s (it loaded %v)", want, resources)
		}
	}
	if msg := page.eval(t, `document.getElementById("message").textContent`); msg != "" {
		t.Errorf("the page shows an error: %v", msg)
	}
	if errs := page.exceptions(); len(errs) > 0 {
		t.Errorf("script errors: %v", errs)
	}
}

// --- a small DevTools protocol client over --remote-debugging-pipe ------------------------------

type browserPage struct {
	mu       sync.Mutex
	in       *os.File // to the browser (its fd 3)
	nextID   int
	pending  map[int]chan cdpMessage
	session  string
	thrown   []string
	closeAll func()
}

type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func openPage(t *testing.T, browser string) *browserPage {
	t.Helper()
	toBrowser, browserIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	browserOut, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+home+"/profile", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--window-size=1400,1000", "about:blank")
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser} // fd 3: commands in, fd 4: replies out
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	p := &browserPage{in: browserIn, pending: map[int]chan cdpMessage{}}
	p.closeAll = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		browserIn.Close()
		browserOut.Close()
	}
	t.Cleanup(func() {
		p.closeAll()
		if t.Failed() {
			t.Logf("chromium stderr (last 2000 bytes): %s", tail(stderr.String(), 2000))
		}
	})
	go p.read(browserOut)

	var target struct{ TargetID string }
	p.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct{ SessionID string }
	p.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p.session = attached.SessionID
	p.call(t, p.session, "Runtime.enable", nil, nil)
	p.call(t, p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}, nil)
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (p *browserPage) read(out *os.File) {
	r := bufio.NewReaderSize(out, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			p.mu.Lock()
			for id, ch := range p.pending {
				close(ch)
				delete(p.pending, id)
			}
			p.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		p.mu.Lock()
		if m.Method == "Runtime.exceptionThrown" {
			p.thrown = append(p.thrown, string(m.Params))
		}
		if ch, ok := p.pending[m.ID]; ok && m.ID != 0 {
			ch <- m
			delete(p.pending, m.ID)
		}
		p.mu.Unlock()
	}
}

func (p *browserPage) call(t *testing.T, session, method string, params, result any) {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan cdpMessage, 1)
	p.pending[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	_, err := p.in.Write(append(b, 0))
	p.mu.Unlock()
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the browser went away", method)
		}
		if m.Error != nil {
			t.Fatalf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				t.Fatalf("%s: %v: %s", method, err, m.Result)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no answer from the browser", method)
	}
}

func (p *browserPage) navigate(t *testing.T, url string) {
	t.Helper()
	var nav struct{ ErrorText string }
	p.call(t, p.session, "Page.navigate", map[string]any{"url": url}, &nav)
	if nav.ErrorText != "" {
		t.Fatalf("navigating to %s: %s", url, nav.ErrorText)
	}
}

// eval runs a JavaScript expression in the page and returns its value.
func (p *browserPage) eval(t *testing.T, expression string) any {
	t.Helper()
	var out struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	p.call(t, p.session, "Runtime.evaluate", map[string]any{"expression": expression, "returnByValue": true, "awaitPromise": true}, &out)
	if out.ExceptionDetails != nil {
		t.Fatalf("evaluating %s: %s %s", expression, out.ExceptionDetails.Text, out.ExceptionDetails.Exception.Description)
	}
	return out.Result.Value
}

// waitFor evaluates a condition until it holds (20 s at most).
func (p *browserPage) waitFor(t *testing.T, what, condition string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ok, _ := p.eval(t, "(() => { try { return Boolean("+condition+"); } catch (e) { return false; } })()").(bool); ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := p.eval(t, `document.body ? document.body.innerText : ""`).(string)
			t.Fatalf("waiting for %s: not within 20 s; the page shows:\n%s\nscript errors: %v", what, tail(body, 3000), p.exceptions())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *browserPage) screenshot(t *testing.T, file string) {
	t.Helper()
	var shot struct{ Data string }
	p.call(t, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

func (p *browserPage) exceptions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.thrown)
}

// --- live fakes: polling jobs that make prices and averages ----------------------------------

// liveMarket plays mds-api and mds-consumer for the page: a running polling job makes a price of
// each of its symbols every 200 ms (a random walk), and each price a moving average over its
// last 5, both sent to the streams that follow the symbol.
type liveMarket struct {
	marketdatav1.UnimplementedPriceServiceServer
	marketdatav1.UnimplementedPollingServiceServer
	marketdatav1.UnimplementedMovingAverageServiceServer
	marketdatav1.UnimplementedBarServiceServer

	url string

	mu       sync.Mutex
	jobs     []*marketdatav1.PollingJob
	last     map[string][]float64 // symbol -> recent prices
	prices   map[chan *marketdatav1.Price][]string
	averages map[chan *marketdatav1.MovingAverage][]string
	bars     map[chan *marketdatav1.Bar]barFollower
	open     map[string]*marketdatav1.Bar // symbol/interval -> the bar being built
	followed []string
}

func startLiveMarket(t *testing.T) *liveMarket {
	t.Helper()
	m := &liveMarket{
		last:     map[string][]float64{},
		prices:   map[chan *marketdatav1.Price][]string{},
		averages: map[chan *marketdatav1.MovingAverage][]string{},
		bars:     map[chan *marketdatav1.Bar]barFollower{},
		open:     map[string]*marketdatav1.Bar{},
	}
	api := startBackend(t, func(s *grpc.Server) {
		marketdatav1.RegisterPriceServiceServer(s, m)
		marketdatav1.RegisterPollingServiceServer(s, m)
	})
	consumer := startBackend(t, func(s *grpc.Server) {
		marketdatav1.RegisterMovingAverageServiceServer(s, m)
		marketdatav1.RegisterBarServiceServer(s, m)
	})
	opts := defaultTestOptions()
	opts.APIAddr, opts.ConsumerAddr = api.addr, consumer.addr
	gw, err := New(opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(func() {
		stop()
		gw.EndStreams()
		srv.Close()
		gw.Close()
	})
	m.url = srv.URL
	go m.run(ctx)
	return m
}

func (m *liveMarket) run(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			m.tick(now)
		}
	}
}

func (m *liveMarket) tick(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, job := range m.jobs {
		if job.Status != "running" {
			continue
		}
		job.RunCount++
		job.LastRunAt = timestamppb.New(now)
		for _, sym := range job.Config.Symbols {
			recent := m.last[sym]
			price := 180.0
			if len(recent) > 0 {
				price = math.Round((recent[len(recent)-1]+rand.NormFloat64()*0.4)*100) / 100
			}
			recent = append(recent, price)
			if len(recent) > 5 {
				recent = recent[1:]
			}
			m.last[sym] = recent
			p := &marketdatav1.Price{Symbol: sym, Price: price, Timestamp: timestamppb.New(now), Provider: "test"}
			for ch, syms := range m.prices {
				if slices.Contains(syms, sym) {
					select {
					case ch <- p:
					default:
					}
				}
			}
			sum := 0.0
			for _, v := range recent {
				sum += v
			}
			a := &marketdatav1.MovingAverage{Symbol: sym, Window: 5, Value: sum / float64(len(recent)), Timestamp: p.Timestamp}
			for ch, syms := range m.averages {
				if slices.Contains(syms, sym) {
					select {
					case ch <- a:
					default:
					}
				}
			}
			for ch, f := range m.bars {
				if slices.Contains(f.symbols, sym) {
					select {
					case ch <- m.addToBar(sym, f.interval, p):
					default:
					}
				}
			}
		}
	}
}

func splitSymbols(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			if part = strings.ToUpper(strings.TrimSpace(part)); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func (m *liveMarket) StreamPrices(req *marketdatav1.StreamPricesRequest, stream grpc.ServerStreamingServer[marketdatav1.Price]) error {
	ch := make(chan *marketdatav1.Price, 64)
	m.mu.Lock()
	m.prices[ch] = splitSymbols(req.GetSymbols())
	m.followed = append(m.followed, m.prices[ch]...)
	m.mu.Unlock()
	defer func() { m.mu.Lock(); delete(m.prices, ch); m.mu.Unlock() }()
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case p := <-ch:
			if err := stream.Send(p); err != nil {
				return err
			}
		}
	}
}

func (m *liveMarket) StreamMovingAverages(req *marketdatav1.StreamMovingAveragesRequest, stream grpc.ServerStreamingServer[marketdatav1.MovingAverage]) error {
	ch := make(chan *marketdatav1.MovingAverage, 64)
	m.mu.Lock()
	m.averages[ch] = splitSymbols(req.GetSymbols())
	m.mu.Unlock()
	defer func() { m.mu.Lock(); delete(m.averages, ch); m.mu.Unlock() }()
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case a := <-ch:
			if err := stream.Send(a); err != nil {
				return err
			}
		}
	}
}

func (m *liveMarket) ListPriceHistory(context.Context, *marketdatav1.ListPriceHistoryRequest) (*marketdatav1.ListPriceHistoryResponse, error) {
	return &marketdatav1.ListPriceHistoryResponse{}, nil
}

func (m *liveMarket) ListMovingAverages(context.Context, *marketdatav1.ListMovingAveragesRequest) (*marketdatav1.ListMovingAveragesResponse, error) {
	return &marketdatav1.ListMovingAveragesResponse{}, nil
}

func (m *liveMarket) ListProviders(context.Context, *marketdatav1.ListProvidersRequest) (*marketdatav1.ListProvidersResponse, error) {
	return &marketdatav1.ListProvidersResponse{Providers: []*marketdatav1.ProviderStatus{
		{Name: "test", Configured: true, RateLimitPerMinute: 6000, TokensAvailable: 100, IsDefault: true},
		{Name: "alpha_vantage", RateLimitPerMinute: 5},
	}}, nil
}

func (m *liveMarket) CreatePollingJob(_ context.Context, req *marketdatav1.CreatePollingJobRequest) (*marketdatav1.PollingJob, error) {
	symbols := splitSymbols(req.GetSymbols())
	if len(symbols) == 0 || req.GetInterval() < 1 {
		return nil, status.Error(codes.InvalidArgument, "symbols and an interval of at least 1 s are required")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	job := &marketdatav1.PollingJob{
		JobId:     fmt.Sprintf("poll_%08x", len(m.jobs)+1),
		Status:    "running",
		Config:    &marketdatav1.PollingConfig{Symbols: symbols, Interval: req.GetInterval(), Provider: "test"},
		CreatedAt: timestamppb.Now(),
	}
	m.jobs = append(m.jobs, job)
	return job, nil
}

func (m *liveMarket) ListPollingJobs(context.Context, *marketdatav1.ListPollingJobsRequest) (*marketdatav1.ListPollingJobsResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	resp := &marketdatav1.ListPollingJobsResponse{}
	for _, j := range slices.Backward(m.jobs) {
		resp.Jobs = append(resp.Jobs, clonedJob(j))
	}
	return resp, nil
}

func clonedJob(j *marketdatav1.PollingJob) *marketdatav1.PollingJob {
	return &marketdatav1.PollingJob{JobId: j.JobId, Status: j.Status, Config: j.Config, CreatedAt: j.CreatedAt,
		LastRunAt: j.LastRunAt, RunCount: j.RunCount, ErrorCount: j.ErrorCount}
}

func (m *liveMarket) DeletePollingJob(_ context.Context, req *marketdatav1.DeletePollingJobRequest) (*marketdatav1.DeletePollingJobResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range m.jobs {
		if j.JobId == req.GetJobId() {
			j.Status = "stopped"
			return &marketdatav1.DeletePollingJobResponse{JobId: j.JobId, Status: j.Status, Config: j.Config, RunCount: j.RunCount}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "polling job %s not found", req.GetJobId())
}

func (m *liveMarket) running(jobID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.ContainsFunc(m.jobs, func(j *marketdatav1.PollingJob) bool { return j.JobId == jobID && j.Status == "running" })
}

func (m *liveMarket) streamed() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.followed)
}

type barFollower struct {
	symbols  []string
	interval string
}

var barIntervals = map[string]time.Duration{"": time.Minute, "1m": time.Minute, "5m": 5 * time.Minute, "1h": time.Hour}

// addToBar adds a price to the open bar of its symbol and interval and returns a copy of it.
func (m *liveMarket) addToBar(sym, interval string, p *marketdatav1.Price) *marketdatav1.Bar {
	length := barIntervals[interval]
	start := p.Timestamp.AsTime().Truncate(length)
	key := sym + "/" + interval
	b := m.open[key]
	if b == nil || !b.StartTime.AsTime().Equal(start) {
		b = &marketdatav1.Bar{Symbol: sym, Interval: cmp.Or(interval, "1m"), StartTime: timestamppb.New(start),
			EndTime: timestamppb.New(start.Add(length)), Open: p.Price, High: p.Price, Low: p.Price}
		m.open[key] = b
	}
	b.High, b.Low, b.Close = max(b.High, p.Price), min(b.Low, p.Price), p.Price
	b.PriceCount++
	return proto.Clone(b).(*marketdatav1.Bar)
}

func (m *liveMarket) StreamBars(req *marketdatav1.StreamBarsRequest, stream grpc.ServerStreamingServer[marketdatav1.Bar]) error {
	if _, ok := barIntervals[req.GetInterval()]; !ok {
		return status.Errorf(codes.InvalidArgument, "interval %q is not computed", req.GetInterval())
	}
	ch := make(chan *marketdatav1.Bar, 64)
	m.mu.Lock()
	m.bars[ch] = barFollower{symbols: splitSymbols(req.GetSymbols()), interval: req.GetInterval()}
	m.mu.Unlock()
	defer func() { m.mu.Lock(); delete(m.bars, ch); m.mu.Unlock() }()
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case b := <-ch:
			if err := stream.Send(b); err != nil {
				return err
			}
		}
	}
}

func (m *liveMarket) ListBars(context.Context, *marketdatav1.ListBarsRequest) (*marketdatav1.ListBarsResponse, error) {
	return &marketdatav1.ListBarsResponse{}, nil
}
