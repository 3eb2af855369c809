package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Secrets the fake providers echo back, so tests can check they never leak.
const (
	alphaVantageKey = "av-secret-e2e-0001"
	finnhubKey      = "fh-secret-e2e-0002"
)

// newFakeProviders serves replies shaped like Alpha Vantage's, Finnhub's and Yahoo's, with no
// limits. The symbol chooses the behaviour: AAPL succeeds, NOPE is unknown, LIMIT is rate limited,
// DOWN fails, SLOW times out, GARBAGE answers HTML.
func newFakeProviders() *httptest.Server {
	return httptest.NewServer(fakeProviderMux())
}

// fakeProviderMux answers every provider path the way newFakeProviders does; the limited fakes
// put their accounting in front of it.
func fakeProviderMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/v8/finance/chart/", func(w http.ResponseWriter, r *http.Request) {
		symbol := strings.TrimPrefix(r.URL.Path, "/v8/finance/chart/")
		if strings.HasPrefix(symbol, "YF") {
			symbol = "YF" // YF1, YF2, YFA...: any number of symbols Yahoo knows
		}
		switch symbol {
		case "AAPL", "YF":
			fmt.Fprintf(w, `{"chart":{"result":[{"meta":{"currency":"USD","symbol":%q,"exchangeName":"NMS",`+
				`"regularMarketPrice":189.5,"regularMarketTime":%d,"previousClose":187.1},`+
				`"timestamp":[1704495600],"indicators":{"quote":[{"close":[189.5]}]}}],"error":null}}`,
				strings.TrimPrefix(r.URL.Path, "/v8/finance/chart/"), time.Now().Unix())
		case "NOPE":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}`)
		default:
			commonFailure(w, symbol)
		}
	})
	mux.HandleFunc("/api/v1/quote", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != finnhubKey {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"Invalid API key"}`)
			return
		}
		switch symbol := r.URL.Query().Get("symbol"); symbol {
		case "AAPL":
			// Echoes the token the way a misbehaving proxy might: it must not be stored.
			fmt.Fprintf(w, `{"c":261.74,"d":0.46,"dp":0.1761,"h":263.31,"l":260.68,"o":261.07,"pc":261.28,"t":%d,"echo":%q}`,
				time.Now().Unix(), finnhubKey)
		case "NOPE":
			fmt.Fprint(w, `{"c":0,"d":null,"dp":null,"h":0,"l":0,"o":0,"pc":0,"t":0}`)
		case "LIMIT":
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`)
		default:
			commonFailure(w, symbol)
		}
	})
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		switch symbol := r.URL.Query().Get("symbol"); symbol {
		case "AAPL", "DELISTED":
			// Yesterday's close; a delisted symbol's last trading day is long past, older than
			// any late window.
			day := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
			if symbol == "DELISTED" {
				day = "2024-01-05"
			}
			fmt.Fprintf(w, `{"Global Quote":{"01. symbol":%q,"02. open":"187.1500","03. high":"188.4400",`+
				`"04. low":"183.8850","05. price":"185.9200","06. volume":"81964874","07. latest trading day":%q,`+
				`"08. previous close":"185.5600","09. change":"0.3600","10. change percent":"0.1940%%"}}`, symbol, day)
		case "NOPE":
			fmt.Fprint(w, `{"Global Quote":{}}`)
		case "LIMIT":
			fmt.Fprint(w, `{"Note":"Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}`)
		case "INFO":
			fmt.Fprint(w, `{"Information":"We have detected your API key as `+alphaVantageKey+` and our standard API rate limit is 25 requests per day."}`)
		default:
			commonFailure(w, symbol)
		}
	})
	return mux
}

func commonFailure(w http.ResponseWriter, symbol string) {
	switch symbol {
	case "LIMIT":
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, "Too Many Requests")
	case "SLOW":
		time.Sleep(3 * time.Second)
		fmt.Fprint(w, `{}`)
	case "GARBAGE":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Service temporarily unavailable</body></html>")
	default: // DOWN and anything else
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "upstream error")
	}
}
