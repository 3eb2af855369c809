package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

// limitedStack is a stack whose network providers are fakes keeping the free plans' limits.
type limitedStack struct {
	*stack
	fakes *limitedFakeProviders
	api   mdv1.PriceServiceClient
}

// startLimitedStack starts a stack on fakes with `limits`, the service configured with the
// providers' own limits (its defaults) unless `env` says otherwise.
func startLimitedStack(t *testing.T, prefix string, limits map[string]fakeLimits, env ...string) *limitedStack {
	t.Helper()
	fakes := newLimitedFakeProviders(limits)
	t.Cleanup(fakes.Close)
	base := []string{
		"ALPHA_VANTAGE_BASE_URL=" + fakes.URL, "FINNHUB_BASE_URL=" + fakes.URL, "YFINANCE_BASE_URL=" + fakes.URL,
		"ALPHA_VANTAGE_RATE_LIMIT_PER_MINUTE=5", "ALPHA_VANTAGE_RATE_LIMIT_PER_DAY=25",
		"FINNHUB_RATE_LIMIT_PER_MINUTE=60", "YFINANCE_RATE_LIMIT_PER_MINUTE=60",
	}
	s, cleanup, err := startStack(prefix, append(base, env...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	conn, err := grpc.NewClient(s.apiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &limitedStack{stack: s, fakes: fakes, api: mdv1.NewPriceServiceClient(conn)}
}

// latestAnswer is one GET /api/v1/prices/latest as a client sees it.
type latestAnswer struct {
	code       int
	body       map[string]any
	age        string // the Age header
	retryAfter string // the Retry-After header
	at         time.Time
	took       time.Duration
	err        error
}

var manyClients = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}

func getLatest(base, query string) latestAnswer {
	start := time.Now()
	a := latestAnswer{}
	resp, err := manyClients.Get(base + "/api/v1/prices/latest?" + query)
	a.at, a.took = time.Now(), time.Since(start)
	if err != nil {
		a.err = err
		return a
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a.code = resp.StatusCode
	a.age, a.retryAfter = resp.Header.Get("Age"), resp.Header.Get("Retry-After")
	if err := json.Unmarshal(data, &a.body); err != nil {
		a.err = fmt.Errorf("not JSON: %q", data)
	}
	return a
}

// concurrently asks `n` clients at once (released together) and returns their answers.
func concurrently(n int, ask func(i int) latestAnswer) []latestAnswer {
	out := make([]latestAnswer, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = ask(i)
		}(i)
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// A price answer as the old service returned it: exactly these four fields and their types, an
// Age header, and age_seconds when the request gave max_age (`withAge`).
func keepsTheContract(a latestAnswer, symbol string, withAge bool) error {
	if a.err != nil || a.code != 200 {
		return fmt.Errorf("%d %v %v", a.code, a.err, a.body)
	}
	b := a.body
	if b["symbol"] != symbol {
		return fmt.Errorf("symbol %v", b["symbol"])
	}
	if p, ok := b["price"].(float64); !ok || p <= 0 {
		return fmt.Errorf("price %v", b["price"])
	}
	if ts, ok := b["timestamp"].(string); !ok {
		return fmt.Errorf("timestamp %v", b["timestamp"])
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return fmt.Errorf("timestamp %q: %v", ts, err)
	}
	if _, ok := b["provider"].(string); !ok {
		return fmt.Errorf("provider %v", b["provider"])
	}
	if age, ok := b["age_seconds"].(float64); withAge && (!ok || age < 0) {
		return fmt.Errorf("age_seconds %v", b["age_seconds"])
	}
	if want := map[bool]int{false: 4, true: 5}[withAge]; len(b) != want {
		return fmt.Errorf("%d fields, want %d: %v", len(b), want, b)
	}
	if n, err := strconv.Atoi(a.age); err != nil || n < 0 {
		return fmt.Errorf("Age header %q", a.age)
	}
	return nil
}

// The proof that calls count: 1,000 clients asking for AAPL from Alpha Vantage's free plan (5 a
// minute, 25 a day) with max_age=60 cost one provider call; without max_age, the provider is
// never asked more than it allows, and the clients it cannot serve get a 429 saying truly when
// to come back. Then fallback orders, the daily quota and the providers list.
func TestProviderCallsCountUnderTheRealLimits(t *testing.T) {
	limits := realProviderLimits()
	limits["finnhub"] = fakeLimits{perMinute: 60, perDay: 3}
	s := startLimitedStack(t, "limits", limits, "FINNHUB_RATE_LIMIT_PER_DAY=3", "PROVIDER_BREAKER_FAILURES=5")
	const clients = 1000

	t.Run("max_age shares one call among 1000 clients", func(t *testing.T) {
		answers := concurrently(clients, func(int) latestAnswer {
			return getLatest(s.restURL, "symbol=aapl&provider=alpha_vantage&max_age=60")
		})
		broken := 0
		for _, a := range answers {
			if err := keepsTheContract(a, "AAPL", true); err != nil {
				if broken++; broken <= 3 {
					t.Errorf("answer: %v", err)
				}
			}
		}
		if calls := s.fakes.calls("alpha_vantage"); calls != 1 || broken != 0 {
			t.Fatalf("%d provider calls and %d broken answers for %d clients; want 1 and 0", calls, broken, clients)
		}
		if n := pricePoints(t, s.databaseURL, "AAPL"); n != 1 {
			t.Errorf("%d stored prices; want 1", n)
		}
		// Over gRPC the same: the recent quote, its age, no call.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var header metadata.MD
		p, err := s.api.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: "AAPL", Provider: "alpha_vantage", MaxAge: 60}, grpc.Header(&header))
		if err != nil || p.AgeSeconds == nil || *p.AgeSeconds < 0 || p.Price != 185.92 || len(header.Get("age")) != 1 {
			t.Errorf("gRPC with max_age: %v %v %v", p, err, header)
		}
		if calls := s.fakes.calls("alpha_vantage"); calls != 1 {
			t.Errorf("gRPC with max_age called the provider: %d calls", calls)
		}
	})

	t.Run("without max_age the limit holds and 429s tell the truth", func(t *testing.T) {
		// In ten waves of 100 (each wave after the last one's answers): at least ten calls'
		// worth of demand, twice what the minute allows.
		var answers []latestAnswer
		for wave := 0; wave < 10; wave++ {
			answers = append(answers, concurrently(clients/10, func(int) latestAnswer {
				return getLatest(s.restURL, "symbol=AAPL&provider=alpha_vantage")
			})...)
		}
		ok, limited := 0, 0
		var worst time.Duration
		times := s.fakes.callTimes("alpha_vantage")
		// The oldest of the last five calls leaves the window first. (A call that failed on the
		// way, before reaching the provider, is one of the five too, and not in `times`: then the
		// oldest call seen stands for it, and Retry-After may only be earlier.)
		oldest := times[0]
		if len(times) >= 5 {
			oldest = times[len(times)-5]
		}
		for _, a := range answers {
			switch {
			case a.err == nil && a.code == 200:
				if err := keepsTheContract(a, "AAPL", false); err != nil {
					t.Errorf("answer: %v", err)
				}
				ok++
			case a.err == nil && a.code == 429 && a.body["code"] == "RESOURCE_EXHAUSTED" && a.body["detail"] != "":
				limited++
				secs, err := strconv.Atoi(a.retryAfter)
				if err != nil || secs < 1 {
					t.Fatalf("429 without a usable Retry-After: %q %v", a.retryAfter, a.body)
				}
				// True: the oldest call in the minute leaves the window then (rounded up to a
				// whole second), give or take the time the answer took.
				want := oldest.Add(time.Minute).Sub(a.at)
				off := time.Duration(secs)*time.Second - want
				if len(times) < 5 {
					off = max(off, 0)
				}
				worst = max(worst, off, -off)
			default:
				t.Fatalf("an answer breaks the contract: %d %v %v", a.code, a.err, a.body)
			}
		}
		if v := s.fakes.violations("alpha_vantage"); v != 0 {
			t.Errorf("the provider refused %d calls: the service exceeded its limit", v)
		}
		if m := s.fakes.maxInAnyWindow("alpha_vantage", time.Minute); m > 5 {
			t.Errorf("%d calls within a minute; the limit is 5", m)
		}
		if ok == 0 || limited == 0 || worst > 2*time.Second {
			t.Errorf("%d answered, %d limited, Retry-After off by up to %v (want within 2 s)", ok, limited, worst)
		}
		t.Logf("%d clients: %d answered by %d provider calls, %d limited; Retry-After off by at most %v",
			clients, ok, s.fakes.calls("alpha_vantage")-1, limited, worst)
	})

	t.Run("a fallback order answers when the first is out of calls", func(t *testing.T) {
		for i := 0; i < 6 && getLatest(s.restURL, "symbol=AAPL&provider=alpha_vantage").code == 200; i++ {
		}
		a := getLatest(s.restURL, "symbol=AAPL&provider=alpha_vantage,yfinance")
		if err := keepsTheContract(a, "AAPL", false); err != nil || a.body["provider"] != "yfinance" {
			t.Fatalf("fallback: %v %v", err, a.body)
		}
		var provider string
		if err := queryDBAt(t, s.databaseURL, `SELECT provider FROM price_points WHERE symbol = 'AAPL'
			ORDER BY id DESC LIMIT 1`).Scan(&provider); err != nil || provider != "yfinance" {
			t.Errorf("stored price names %q (%v); want yfinance", provider, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := s.api.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: "AAPL", Provider: "alpha_vantage, finnhub"})
		if err != nil || p.Provider != "finnhub" {
			t.Errorf("gRPC fallback: %v %v", p, err)
		}
		if v := s.fakes.violations("alpha_vantage"); v != 0 {
			t.Errorf("falling back still called a spent provider: %d refusals", v)
		}
	})

	t.Run("the daily quota refuses until midnight UTC", func(t *testing.T) {
		// The fallback above made one of finnhub's three calls of the day.
		for i := 0; i < 2; i++ {
			if a := getLatest(s.restURL, "symbol=AAPL&provider=finnhub"); a.code != 200 {
				t.Fatalf("call %d of 3: %d %v", i+2, a.code, a.body)
			}
		}
		a := getLatest(s.restURL, "symbol=AAPL&provider=finnhub")
		secs, _ := strconv.Atoi(a.retryAfter)
		now := time.Now().UTC()
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		if a.code != 429 || time.Duration(secs)*time.Second-midnight.Sub(now) > 2*time.Second ||
			midnight.Sub(now)-time.Duration(secs)*time.Second > 2*time.Second {
			t.Errorf("after 3 of 3 daily calls: %d Retry-After %q (midnight in %v) %v", a.code, a.retryAfter, midnight.Sub(now), a.body)
		}
		if v := s.fakes.violations("finnhub"); v != 0 {
			t.Errorf("finnhub refused %d calls", v)
		}
	})

	t.Run("another replica, or a restart, shares the day's count", func(t *testing.T) {
		_, addr, err := s.addAPIReplica("limits-api-2")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		replica := mdv1.NewPriceServiceClient(conn)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		list, err := replica.ListProviders(ctx, &mdv1.ListProvidersRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Providers {
			if p.Name == "finnhub" && p.CallsLeftToday != 0 {
				t.Errorf("a new replica sees %d of finnhub's calls left today; the others used all 3", p.CallsLeftToday)
			}
		}
		before := s.fakes.calls("finnhub")
		_, err = replica.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: "MSFT", Provider: "finnhub"})
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("a new replica's call beyond the day's quota: %v", err)
		}
		if s.fakes.calls("finnhub") != before || s.fakes.violations("finnhub") != 0 {
			t.Errorf("a new replica called finnhub beyond its day: %d calls, %d refused", s.fakes.calls("finnhub")-before, s.fakes.violations("finnhub"))
		}
	})

	t.Run("the providers list shows what is left", func(t *testing.T) {
		code, body := send(t, s.restURL, "GET", "/api/v1/providers", "")
		if code != 200 {
			t.Fatalf("%d %v", code, body)
		}
		byName := map[string]map[string]any{}
		for _, p := range body["providers"].([]any) {
			byName[p.(map[string]any)["name"].(string)] = p.(map[string]any)
		}
		av, fh := byName["alpha_vantage"], byName["finnhub"]
		used := float64(s.fakes.calls("alpha_vantage"))
		if av["rate_limit_per_day"] != float64(25) || av["calls_left_today"] != 25-used ||
			av["tokens_available"] != float64(0) || av["circuit"] != "closed" || av["next_call_in_seconds"].(float64) <= 0 {
			t.Errorf("alpha_vantage: %v (made %v calls)", av, used)
		}
		if fh["calls_left_today"] != float64(0) || fh["quota_resets_at"] == nil {
			t.Errorf("finnhub: %v", fh)
		}
		if byName["yfinance"]["calls_left_today"] != float64(-1) || byName["test"]["circuit"] != "" {
			t.Errorf("yfinance %v, test %v", byName["yfinance"], byName["test"])
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		list, err := s.api.ListProviders(ctx, &mdv1.ListProvidersRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Providers {
			if p.Name == "alpha_vantage" && (p.RateLimitPerDay != 25 || float64(p.CallsLeftToday) != 25-used) {
				t.Errorf("gRPC ListProviders: %v", p)
			}
		}
		if v := metricValue(s.apiMetrics, `mds_provider_calls_left_today{provider="finnhub"}`); v != 0 {
			t.Errorf("mds_provider_calls_left_today for finnhub: %v", v)
		}
	})

	t.Run("polling jobs at the same tick share the call", func(t *testing.T) {
		body := `{"symbols":["YF1"],"interval":2,"provider":"yfinance"}`
		var ids []string
		for i := 0; i < 2; i++ {
			code, job := send(t, s.restURL, "POST", "/api/v1/prices/poll", body)
			if code != http.StatusAccepted {
				t.Fatalf("%d %v", code, job)
			}
			ids = append(ids, job["job_id"].(string))
		}
		waitFor(t, 30*time.Second, "three runs of each job", func() bool {
			return runCount(t, s.restURL, ids[0]) >= 3 && runCount(t, s.restURL, ids[1]) >= 3
		})
		for _, id := range ids {
			send(t, s.restURL, "DELETE", "/api/v1/prices/poll/"+id, "")
		}
		runs := runCount(t, s.restURL, ids[0]) + runCount(t, s.restURL, ids[1])
		calls := s.fakes.callsFor("yfinance", "YF1")
		if calls > (runs+1)/2+1 {
			t.Errorf("%d provider calls for %d runs of two jobs polling YF1 together; want about one a tick", calls, runs)
		}
		if n := pricePoints(t, s.databaseURL, "YF1"); n != calls {
			t.Errorf("%d stored prices for %d calls", n, calls)
		}
	})
}

// A provider that goes down for 30 s: once its circuit opens, requests naming a fallback fail
// over at once instead of waiting out the timeout; after it recovers, the circuit closes within
// one probe interval.
func TestBreakerFailsOverFastAndClosesAfterRecovery(t *testing.T) {
	const coolDown = 2 * time.Second
	s := startLimitedStack(t, "breaker", nil,
		"PROVIDER_BREAKER_FAILURES=3", fmt.Sprintf("PROVIDER_BREAKER_COOLDOWN_MS=%d", coolDown.Milliseconds()),
		"FINNHUB_RATE_LIMIT_PER_MINUTE=100000", "YFINANCE_RATE_LIMIT_PER_MINUTE=100000")
	circuit := func() string {
		_, body := send(t, s.restURL, "GET", "/api/v1/providers", "")
		for _, p := range body["providers"].([]any) {
			if m := p.(map[string]any); m["name"] == "finnhub" {
				return m["circuit"].(string)
			}
		}
		return "?"
	}
	ask := func() latestAnswer { return getLatest(s.restURL, "symbol=AAPL&provider=finnhub,yfinance") }
	if a := ask(); a.code != 200 || a.body["provider"] != "finnhub" {
		t.Fatalf("before the outage: %d %v", a.code, a.body)
	}

	s.fakes.setDown("finnhub", fakeHang)
	down := time.Now()
	// Each request of the fallback order alternates with one asking yfinance alone: what the
	// answer costs without any failover, on the machine as loaded at that moment.
	var during, direct []latestAnswer
	for time.Since(down) < 30*time.Second {
		during = append(during, ask())
		direct = append(direct, getLatest(s.restURL, "symbol=AAPL&provider=yfinance"))
		time.Sleep(20 * time.Millisecond)
	}
	if state := circuit(); state != "open" && state != "half_open" {
		t.Errorf("finnhub's circuit during the outage: %q", state)
	}
	callsWhileDown := s.fakes.calls("finnhub") - 1
	s.fakes.setDown("finnhub", fakeUp)
	up := time.Now()
	var back time.Time
	for time.Since(up) < 3*coolDown+5*time.Second {
		if a := ask(); a.code == 200 && a.body["provider"] == "finnhub" {
			back = time.Now()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Every request of the outage was answered, by the fallback; those after the circuit
	// opened (all but the first few, which waited out the timeout) without waiting for it.
	var fast []time.Duration
	slow := 0
	for i, a := range during {
		if err := keepsTheContract(a, "AAPL", false); err != nil || a.body["provider"] != "yfinance" {
			t.Fatalf("request %d of the outage: %v %v", i, err, a.body)
		}
		if a.took >= 400*time.Millisecond {
			slow++
		} else if i >= 3 {
			fast = append(fast, a.took)
		}
	}
	sort.Slice(fast, func(i, j int) bool { return fast[i] < fast[j] })
	median := fast[len(fast)/2]
	var alone []time.Duration
	for _, a := range direct {
		if a.code != 200 {
			t.Fatalf("yfinance alone during the outage: %d %v", a.code, a.body)
		}
		alone = append(alone, a.took)
	}
	sort.Slice(alone, func(i, j int) bool { return alone[i] < alone[j] })
	// What failing over adds to an answer: the fallback order's median over yfinance alone's.
	failover := median - alone[len(alone)/2]
	t.Logf("outage: %d requests, %d waited out the timeout; the others answered in median %v, p99 %v "+
		"(yfinance alone: median %v), so failing over took %v; %d calls reached finnhub while down; "+
		"closed %v after it recovered",
		len(during), slow, median, fast[len(fast)*99/100], alone[len(alone)/2], failover, callsWhileDown, back.Sub(up))
	// Each wait out of the timeout is a call the breaker let through: the first three, and then
	// at most one probe per cool-down.
	if maxSlow := 3 + int(30*time.Second/coolDown) + 1; slow > maxSlow {
		t.Errorf("%d requests waited out the timeout; the breaker allows at most %d", slow, maxSlow)
	}
	if failover > 10*time.Millisecond {
		t.Errorf("failing over added %v to the median answer; want within 10 ms", failover)
	}
	// A probe out when it recovers may still fail (its call began while the provider was down):
	// then the next goes one cool-down later. Bound: that call's budget (timeout × 2 tries and a
	// backoff) plus one probe interval, and some slack for the requests' cadence.
	if bound := 900*time.Millisecond + coolDown + 500*time.Millisecond; back.IsZero() || back.Sub(up) > bound {
		t.Errorf("finnhub answered again %v after it recovered; want within one probe interval (%v, at most %v)", back.Sub(up), coolDown, bound)
	}
	if state := circuit(); state != "closed" {
		t.Errorf("finnhub's circuit after recovery: %q", state)
	}
	if opened := metricValue(s.apiMetrics, `mds_provider_circuit_opened_total{provider="finnhub"}`); opened < 1 {
		t.Errorf("mds_provider_circuit_opened_total: %v", opened)
	}
	for _, line := range []string{"provider finnhub: circuit closed -> open", "provider finnhub: circuit half_open -> closed"} {
		waitFor(t, 10*time.Second, "the log line "+line, func() bool { return strings.Contains(s.logs(), line) })
	}
}
