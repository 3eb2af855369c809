package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLimits is one provider's call allowance: at most perMinute calls in any 60 seconds and
// perDay calls in all. Zero means no such limit.
type fakeLimits struct {
	perMinute, perDay int
}

// realProviderLimits are the free plans' limits, keyed the way the service names providers.
// Alpha Vantage documents 5 calls a minute and 25 a day; Finnhub 60 a minute and no daily cap.
// Yahoo documents nothing and throttles anyway: 60 a minute is a plausible stand-in.
func realProviderLimits() map[string]fakeLimits {
	return map[string]fakeLimits{
		"alpha_vantage": {perMinute: 5, perDay: 25},
		"finnhub":       {perMinute: 60},
		"yfinance":      {perMinute: 60},
	}
}

// What each provider answers once a limit is spent. Alpha Vantage's daily reply names the caller's
// key; this one names none, so the key can still be checked never to leak.
const (
	alphaVantageMinuteNote = `{"Note":"Thank you for using Alpha Vantage! Our standard API call frequency is ` +
		`5 calls per minute and 25 calls per day. Please visit https://www.alphavantage.co/premium/ ` +
		`if you would like to target a higher API call frequency."}`
	alphaVantageDailyInformation = `{"Information":"We have detected your API key as ENDED-FREE-PLAN and our ` +
		`standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at ` +
		`https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}`
	finnhubLimitReply = `{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`
	yahooLimitReply   = "Too Many Requests\r\n"
)

// Down modes for setDown.
const (
	fakeUp   = ""
	fakeHang = "hang" // the request blocks until the client gives up or the fake closes
	fake503  = "503"  // HTTP 503 at once
)

// limitedFakeProviders serves the same replies as newFakeProviders for the same symbols, but
// counts every call per provider and refuses calls beyond each provider's limits the way that
// provider does. The embedded server gives URL and Close; all methods are safe for concurrent use.
type limitedFakeProviders struct {
	*httptest.Server

	limits    map[string]fakeLimits
	replies   http.Handler
	closed    chan struct{}
	closeOnce sync.Once

	mu         sync.Mutex
	now        func() time.Time // the clock the limits are counted by
	delay      time.Duration    // before every normal reply
	down       map[string]string
	byProvider map[string]*fakeProviderCalls
}

// fakeProviderCalls is what one provider has seen.
type fakeProviderCalls struct {
	arrivals   []time.Time // every call, in arrival order
	answered   []time.Time // calls let through to a normal reply: the ones the limits count
	violations int         // calls refused for a limit
	bySymbol   map[string]int
}

// newLimitedFakeProviders starts a fake whose providers keep to `limits` (a provider not in it
// has none). A call is refused when the provider has already answered perMinute calls in the 60
// seconds before it, or perDay calls since the fake started; refused calls do not use up the
// allowance.
func newLimitedFakeProviders(limits map[string]fakeLimits) *limitedFakeProviders {
	f := &limitedFakeProviders{
		limits:     map[string]fakeLimits{},
		replies:    fakeProviderMux(),
		closed:     make(chan struct{}),
		now:        time.Now,
		down:       map[string]string{},
		byProvider: map[string]*fakeProviderCalls{},
	}
	for p, l := range limits {
		f.limits[p] = l
	}
	f.Server = httptest.NewServer(f)
	return f
}

// Close releases hung and delayed requests (their connections are dropped without a reply), then
// shuts the server down.
func (f *limitedFakeProviders) Close() {
	f.closeOnce.Do(func() { close(f.closed) })
	f.Server.Close()
}

// setClock replaces the clock the limits and arrival times use, so a test can move time on
// instead of waiting for it.
func (f *limitedFakeProviders) setClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// setDown takes a provider down: fakeHang or fake503; fakeUp ("") brings it back.
func (f *limitedFakeProviders) setDown(provider string, mode string) {
	switch mode {
	case fakeUp, fakeHang, fake503:
	default:
		panic(fmt.Sprintf("fake providers: unknown down mode %q", mode))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[provider] = mode
}

// setDelay holds every normal reply back by d, so that calls overlap.
func (f *limitedFakeProviders) setDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// calls is how many calls the provider received, whatever their answer.
func (f *limitedFakeProviders) calls(provider string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.byProvider[provider]; c != nil {
		return len(c.arrivals)
	}
	return 0
}

// answered is how many calls the provider let through to a normal reply (neither refused for a
// limit nor caught by setDown).
func (f *limitedFakeProviders) answered(provider string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.byProvider[provider]; c != nil {
		return len(c.answered)
	}
	return 0
}

// violations is how many calls the provider refused for a limit.
func (f *limitedFakeProviders) violations(provider string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.byProvider[provider]; c != nil {
		return c.violations
	}
	return 0
}

// callsFor is how many calls the provider received for one symbol.
func (f *limitedFakeProviders) callsFor(provider, symbol string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.byProvider[provider]; c != nil {
		return c.bySymbol[symbol]
	}
	return 0
}

// callTimes is the arrival time of every call the provider received, in arrival order.
func (f *limitedFakeProviders) callTimes(provider string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.byProvider[provider]; c != nil {
		return append([]time.Time(nil), c.arrivals...)
	}
	return nil
}

// maxInAnyWindow is the most calls the provider received within any span shorter than window
// (the span a per-minute limit looks at, for window = time.Minute), counting every call.
func (f *limitedFakeProviders) maxInAnyWindow(provider string, window time.Duration) int {
	times := f.callTimes(provider)
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	most, first := 0, 0
	for last := range times {
		for times[last].Sub(times[first]) >= window {
			first++
		}
		if n := last - first + 1; n > most {
			most = n
		}
	}
	return most
}

// fakeProviderOf tells which provider a request is for, and its symbol; "" for a path no
// provider serves.
func fakeProviderOf(r *http.Request) (provider, symbol string) {
	switch {
	case r.URL.Path == "/query":
		return "alpha_vantage", r.URL.Query().Get("symbol")
	case r.URL.Path == "/api/v1/quote":
		return "finnhub", r.URL.Query().Get("symbol")
	case strings.HasPrefix(r.URL.Path, "/v8/finance/chart/"):
		return "yfinance", strings.TrimPrefix(r.URL.Path, "/v8/finance/chart/")
	}
	return "", ""
}

// Verdicts of admit besides a down mode.
const (
	fakeAnswer     = "answer"
	fakeOverMinute = "minute"
	fakeOverDay    = "day"
)

// admit records a call and decides its fate: a down mode, a refusal for a limit, or fakeAnswer
// with the delay to wait first.
func (f *limitedFakeProviders) admit(provider, symbol string) (verdict string, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	c := f.byProvider[provider]
	if c == nil {
		c = &fakeProviderCalls{bySymbol: map[string]int{}}
		f.byProvider[provider] = c
	}
	c.arrivals = append(c.arrivals, now)
	c.bySymbol[symbol]++
	if mode := f.down[provider]; mode != fakeUp {
		return mode, 0
	}
	limits := f.limits[provider]
	if limits.perDay > 0 && len(c.answered) >= limits.perDay {
		c.violations++
		return fakeOverDay, 0
	}
	if limits.perMinute > 0 {
		inWindow := 0
		for i := len(c.answered) - 1; i >= 0 && now.Sub(c.answered[i]) < time.Minute; i-- {
			inWindow++
		}
		if inWindow >= limits.perMinute {
			c.violations++
			return fakeOverMinute, 0
		}
	}
	c.answered = append(c.answered, now)
	return fakeAnswer, f.delay
}

func (f *limitedFakeProviders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	provider, symbol := fakeProviderOf(r)
	if provider == "" {
		f.replies.ServeHTTP(w, r)
		return
	}
	verdict, delay := f.admit(provider, symbol)
	switch verdict {
	case fakeHang:
		select {
		case <-r.Context().Done():
		case <-f.closed:
			panic(http.ErrAbortHandler)
		}
		return
	case fake503:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "Service Unavailable\r\n")
		return
	case fakeOverMinute, fakeOverDay:
		writeLimitReply(w, provider, verdict)
		return
	}
	if delay > 0 {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		case <-f.closed:
			panic(http.ErrAbortHandler)
		}
	}
	f.replies.ServeHTTP(w, r)
}

// writeLimitReply answers as the provider does once a limit is spent: Alpha Vantage with HTTP 200
// and a Note (minute) or Information (day), Finnhub and Yahoo with HTTP 429.
func writeLimitReply(w http.ResponseWriter, provider, verdict string) {
	switch provider {
	case "alpha_vantage":
		w.Header().Set("Content-Type", "application/json")
		if verdict == fakeOverDay {
			fmt.Fprint(w, alphaVantageDailyInformation)
		} else {
			fmt.Fprint(w, alphaVantageMinuteNote)
		}
	case "finnhub":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, finnhubLimitReply)
	default:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, yahooLimitReply)
	}
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeGet calls a fake and returns its status, content type and body.
func fakeGet(t *testing.T, client *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// The limited fakes alone, on a hand-moved clock: no stack process is involved.
func TestLimitedFakeProvidersKeepTheRealLimits(t *testing.T) {
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Date(2025, 1, 6, 15, 0, 0, 0, time.UTC)
	alpha := func(f *limitedFakeProviders) string {
		return f.URL + "/query?function=GLOBAL_QUOTE&symbol=AAPL&apikey=" + alphaVantageKey
	}

	t.Run("alpha vantage per minute", func(t *testing.T) {
		f := newLimitedFakeProviders(realProviderLimits())
		defer f.Close()
		clock := &fakeClock{t: start}
		f.setClock(clock.now)
		quotes, notes := 0, 0
		for i := 0; i < 10; i++ {
			code, _, body := fakeGet(t, client, alpha(f))
			switch {
			case code == 200 && strings.Contains(body, `"Global Quote"`):
				quotes++
			case code == 200 && body == alphaVantageMinuteNote:
				notes++
			default:
				t.Fatalf("call %d: HTTP %d %s", i, code, body)
			}
		}
		if quotes != 5 || notes != 5 {
			t.Fatalf("10 calls in one instant: %d quotes and %d notes, want 5 and 5", quotes, notes)
		}
		if f.calls("alpha_vantage") != 10 || f.answered("alpha_vantage") != 5 || f.violations("alpha_vantage") != 5 ||
			f.callsFor("alpha_vantage", "AAPL") != 10 || f.maxInAnyWindow("alpha_vantage", time.Minute) != 10 {
			t.Fatalf("counts: calls %d answered %d violations %d AAPL %d max a minute %d",
				f.calls("alpha_vantage"), f.answered("alpha_vantage"), f.violations("alpha_vantage"),
				f.callsFor("alpha_vantage", "AAPL"), f.maxInAnyWindow("alpha_vantage", time.Minute))
		}
	})

	t.Run("the minute slides", func(t *testing.T) {
		f := newLimitedFakeProviders(realProviderLimits())
		defer f.Close()
		clock := &fakeClock{t: start}
		f.setClock(clock.now)
		answered := func(n int) {
			t.Helper()
			for i := 0; i < n; i++ {
				if _, _, body := fakeGet(t, client, alpha(f)); !strings.Contains(body, `"Global Quote"`) {
					t.Fatalf("at %v, call %d: %s", clock.now().Sub(start), i, body)
				}
			}
		}
		refused := func() {
			t.Helper()
			if _, _, body := fakeGet(t, client, alpha(f)); body != alphaVantageMinuteNote {
				t.Fatalf("at %v: %s, want the Note", clock.now().Sub(start), body)
			}
		}
		answered(3)
		clock.advance(30 * time.Second)
		answered(2)
		clock.advance(29 * time.Second)
		refused() // 59 s after the first three: five in the minute
		clock.advance(time.Second)
		answered(3) // the first three have left the minute; the two at 30 s have not
		refused()
		if got := f.maxInAnyWindow("alpha_vantage", time.Minute); got != 7 {
			t.Fatalf("most calls in a minute: %d, want 7 (30 s to 60 s)", got)
		}
		if got := len(f.callTimes("alpha_vantage")); got != 10 {
			t.Fatalf("%d arrival times, want 10", got)
		}
	})

	t.Run("alpha vantage per day", func(t *testing.T) {
		f := newLimitedFakeProviders(realProviderLimits())
		defer f.Close()
		clock := &fakeClock{t: start}
		f.setClock(clock.now)
		for i := 0; i < 25; i++ {
			if _, _, body := fakeGet(t, client, alpha(f)); !strings.Contains(body, `"Global Quote"`) {
				t.Fatalf("call %d: %s", i, body)
			}
			clock.advance(12 * time.Second)
		}
		clock.advance(time.Hour)
		code, _, body := fakeGet(t, client, alpha(f))
		if code != 200 || body != alphaVantageDailyInformation {
			t.Fatalf("26th call of the day: HTTP %d %s", code, body)
		}
		if strings.Contains(body, alphaVantageKey) {
			t.Fatal("the daily limit reply names the key")
		}
		if f.violations("alpha_vantage") != 1 || f.maxInAnyWindow("alpha_vantage", time.Minute) != 5 {
			t.Fatalf("violations %d, most in a minute %d", f.violations("alpha_vantage"),
				f.maxInAnyWindow("alpha_vantage", time.Minute))
		}
	})

	t.Run("finnhub and yahoo answer 429", func(t *testing.T) {
		f := newLimitedFakeProviders(realProviderLimits())
		defer f.Close()
		clock := &fakeClock{t: start}
		f.setClock(clock.now)
		finnhub := f.URL + "/api/v1/quote?symbol=AAPL&token=" + finnhubKey
		yahoo := f.URL + "/v8/finance/chart/AAPL"
		for i := 0; i < 60; i++ {
			if code, _, body := fakeGet(t, client, finnhub); code != 200 {
				t.Fatalf("finnhub call %d: HTTP %d %s", i, code, body)
			}
			if code, _, body := fakeGet(t, client, yahoo); code != 200 {
				t.Fatalf("yahoo call %d: HTTP %d %s", i, code, body)
			}
		}
		if code, _, body := fakeGet(t, client, finnhub); code != 429 || body != finnhubLimitReply {
			t.Fatalf("finnhub's 61st call: HTTP %d %s", code, body)
		}
		if code, ctype, body := fakeGet(t, client, yahoo); code != 429 || body != yahooLimitReply ||
			!strings.HasPrefix(ctype, "text/plain") {
			t.Fatalf("yahoo's 61st call: HTTP %d %s %q", code, ctype, body)
		}
		if code, _, _ := fakeGet(t, client, alpha(f)); code != 200 || f.violations("alpha_vantage") != 0 {
			t.Fatal("another provider's limit spent Alpha Vantage's")
		}
		clock.advance(time.Minute)
		if code, _, _ := fakeGet(t, client, finnhub); code != 200 {
			t.Fatalf("finnhub a minute later: HTTP %d", code)
		}
		if f.violations("finnhub") != 1 || f.violations("yfinance") != 1 || f.calls("finnhub") != 62 {
			t.Fatalf("violations finnhub %d yahoo %d, finnhub calls %d",
				f.violations("finnhub"), f.violations("yfinance"), f.calls("finnhub"))
		}
	})

	t.Run("down modes", func(t *testing.T) {
		f := newLimitedFakeProviders(nil)
		defer f.Close()
		yahoo := f.URL + "/v8/finance/chart/AAPL"
		f.setDown("yfinance", fake503)
		if code, _, _ := fakeGet(t, client, yahoo); code != 503 {
			t.Fatalf("503 mode: HTTP %d", code)
		}
		if code, _, _ := fakeGet(t, client, alpha(f)); code != 200 {
			t.Fatalf("another provider is down too: HTTP %d", code)
		}

		f.setDown("yfinance", fakeHang)
		impatient := &http.Client{Timeout: 200 * time.Millisecond}
		began := time.Now()
		if resp, err := impatient.Get(yahoo); err == nil {
			resp.Body.Close()
			t.Fatalf("hang mode answered HTTP %d", resp.StatusCode)
		}
		if waited := time.Since(began); waited < 200*time.Millisecond {
			t.Fatalf("hang mode gave up after %v", waited)
		}

		f.setDown("yfinance", fakeUp)
		if code, _, _ := fakeGet(t, client, yahoo); code != 200 {
			t.Fatalf("back up: HTTP %d", code)
		}
		if f.calls("yfinance") != 3 || f.answered("yfinance") != 1 || f.violations("yfinance") != 0 {
			t.Fatalf("calls %d answered %d violations %d", f.calls("yfinance"), f.answered("yfinance"),
				f.violations("yfinance"))
		}

		// Closing the fake lets a hung call go: its connection drops without a reply.
		f.setDown("yfinance", fakeHang)
		failed := make(chan error, 1)
		go func() {
			resp, err := client.Get(yahoo)
			if err == nil {
				resp.Body.Close()
			}
			failed <- err
		}()
		for f.calls("yfinance") < 4 {
			time.Sleep(5 * time.Millisecond)
		}
		f.Close()
		select {
		case err := <-failed:
			if err == nil {
				t.Fatal("a hung call was answered when the fake closed")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a hung call outlived the fake")
		}
	})

	t.Run("delayed replies overlap", func(t *testing.T) {
		f := newLimitedFakeProviders(nil)
		defer f.Close()
		const delay = 300 * time.Millisecond
		f.setDelay(delay)
		began := time.Now()
		var wg sync.WaitGroup
		for _, symbol := range []string{"YF1", "YF2", "YF1"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Get(f.URL + "/v8/finance/chart/" + symbol)
				if err != nil {
					t.Errorf("%s: %v", symbol, err)
					return
				}
				resp.Body.Close()
			}()
		}
		wg.Wait()
		if took := time.Since(began); took < delay {
			t.Fatalf("three delayed calls took %v, less than one delay", took)
		}
		if f.callsFor("yfinance", "YF1") != 2 || f.callsFor("yfinance", "YF2") != 1 ||
			f.maxInAnyWindow("yfinance", time.Minute) != 3 {
			t.Fatalf("YF1 %d YF2 %d, most in a minute %d", f.callsFor("yfinance", "YF1"),
				f.callsFor("yfinance", "YF2"), f.maxInAnyWindow("yfinance", time.Minute))
		}
	})
}
