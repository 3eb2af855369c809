package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

// authStack is a stack with REQUIRE_API_KEYS=true and an admin key made with `mds-api keys`.
type authStack struct {
	*stack
	admin    string
	api      *grpc.ClientConn
	consumer *grpc.ClientConn
}

// keysCommand runs `mds-api keys args...` against the stack's database.
func keysCommand(t *testing.T, s *stack, args ...string) (string, error) {
	t.Helper()
	bin, err := binary("MDS_API_BIN")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"keys"}, args...)...)
	cmd.Env = []string{"DATABASE_URL=" + s.databaseURL}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var secretPattern = regexp.MustCompile(`mds_[0-9a-f]{64}`)

func startAuthStack(t *testing.T, prefix string, env ...string) *authStack {
	t.Helper()
	s, cleanup, err := startStack(prefix, append([]string{"REQUIRE_API_KEYS=true"}, env...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	out, err := keysCommand(t, s, "create", "root", "--scopes", "read,write,admin")
	if err != nil {
		t.Fatalf("mds-api keys create: %v\n%s", err, out)
	}
	a := &authStack{stack: s, admin: secretPattern.FindString(out)}
	if a.admin == "" {
		t.Fatalf("no secret in %q", out)
	}
	for _, c := range []struct {
		conn **grpc.ClientConn
		addr string
	}{{&a.api, s.apiAddr}, {&a.consumer, s.consumerAddr}} {
		conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		*c.conn = conn
	}
	return a
}

// withKey is a context whose gRPC calls carry `key` as a bearer token.
func withKey(key string) context.Context {
	ctx := context.Background()
	if key == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

// newKey makes a key over the gRPC admin service and returns its secret.
func (a *authStack) newKey(t *testing.T, name string, scopes []string, quotas *mdv1.ApiKeyQuotas) string {
	t.Helper()
	resp, err := mdv1.NewApiKeyServiceClient(a.api).CreateApiKey(withKey(a.admin),
		&mdv1.CreateApiKeyRequest{Name: name, Scopes: scopes, Quotas: quotas})
	if err != nil {
		t.Fatalf("CreateApiKey %s: %v", name, err)
	}
	if !secretPattern.MatchString(resp.Secret) || resp.Key.GetName() != name {
		t.Fatalf("CreateApiKey %s: %v", name, resp)
	}
	return resp.Secret
}

// rest calls the gateway with `key` as X-API-Key (or as a bearer token when bearer is set).
func (a *authStack) rest(t *testing.T, key string, bearer bool, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, a.restURL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" && bearer {
		req.Header.Set("Authorization", "Bearer "+key)
	} else if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}

func TestAPIKeys(t *testing.T) {
	a := startAuthStack(t, "auth")
	reader := a.newKey(t, "reader", []string{"read"}, nil)
	alice := a.newKey(t, "alice", []string{"read", "write"}, nil)
	bob := a.newKey(t, "bob", []string{"read", "write"}, nil)
	prices := mdv1.NewPriceServiceClient(a.api)
	polling := mdv1.NewPollingServiceClient(a.api)
	averages := mdv1.NewMovingAverageServiceClient(a.consumer)

	t.Run("no key is 401 and UNAUTHENTICATED", func(t *testing.T) {
		for _, path := range []string{"/api/v1/prices/latest?symbol=AAPL", "/api/v1/prices/poll", "/api/v1/averages?symbol=AAPL&window=5"} {
			code, body, h := a.rest(t, "", false, "GET", path, "")
			if code != 401 || body["code"] != "UNAUTHENTICATED" || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("GET %s without a key: %d %v %v", path, code, body, h.Get("WWW-Authenticate"))
			}
		}
		code, _, _ := a.rest(t, "mds_"+strings.Repeat("0", 64), true, "GET", "/api/v1/prices/latest?symbol=AAPL", "")
		if code != 401 {
			t.Errorf("unknown key: %d", code)
		}
		_, err := prices.GetLatestPrice(withKey(""), &mdv1.GetLatestPriceRequest{Symbol: "AAPL"})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("gRPC GetLatestPrice without a key: %v", err)
		}
		_, err = averages.ListMovingAverages(withKey(""), &mdv1.ListMovingAveragesRequest{Symbol: "AAPL", Window: 5})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("gRPC ListMovingAverages without a key: %v", err)
		}
		// Both headers work, and so does the gRPC metadata.
		for _, bearer := range []bool{false, true} {
			if code, body, _ := a.rest(t, reader, bearer, "GET", "/api/v1/prices/latest?symbol=AAPL", ""); code != 200 {
				t.Errorf("reader (bearer %v): %d %v", bearer, code, body)
			}
		}
		if _, err := prices.GetLatestPrice(withKey(reader), &mdv1.GetLatestPriceRequest{Symbol: "AAPL"}); err != nil {
			t.Errorf("gRPC with the reader's key: %v", err)
		}
		xKey := metadata.AppendToOutgoingContext(context.Background(), "x-api-key", reader)
		if _, err := averages.ListMovingAverages(xKey, &mdv1.ListMovingAveragesRequest{Symbol: "AAPL", Window: 5}); err != nil {
			t.Errorf("gRPC x-api-key on the consumer: %v", err)
		}
	})

	t.Run("a read key cannot create a job", func(t *testing.T) {
		code, body, _ := a.rest(t, reader, false, "POST", "/api/v1/prices/poll", `{"symbols":["AAPL"],"interval":5}`)
		if code != 403 || body["code"] != "PERMISSION_DENIED" || !strings.Contains(fmt.Sprint(body["detail"]), `"write" scope`) {
			t.Errorf("REST: %d %v", code, body)
		}
		_, err := polling.CreatePollingJob(withKey(reader), &mdv1.CreatePollingJobRequest{Symbols: []string{"AAPL"}, Interval: 5})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("gRPC: %v", err)
		}
		_, err = mdv1.NewApiKeyServiceClient(a.api).ListApiKeys(withKey(alice), &mdv1.ListApiKeysRequest{})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("ListApiKeys without admin: %v", err)
		}
	})

	t.Run("key A cannot see or stop key B's job", func(t *testing.T) {
		code, created, _ := a.rest(t, bob, false, "POST", "/api/v1/prices/poll", `{"symbols":["BOBS"],"interval":60}`)
		if code != 202 {
			t.Fatalf("bob creates: %d %v", code, created)
		}
		restJob := created["job_id"].(string)
		grpcJob, err := polling.CreatePollingJob(withKey(bob), &mdv1.CreatePollingJobRequest{Symbols: []string{"BOBG"}, Interval: 60})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{restJob, grpcJob.JobId} {
			if code, body, _ := a.rest(t, alice, false, "GET", "/api/v1/prices/poll/"+id, ""); code != 404 {
				t.Errorf("alice GET %s: %d %v", id, code, body)
			}
			if code, body, _ := a.rest(t, alice, true, "DELETE", "/api/v1/prices/poll/"+id, ""); code != 404 {
				t.Errorf("alice DELETE %s: %d %v", id, code, body)
			}
			_, err := polling.DeletePollingJob(withKey(alice), &mdv1.DeletePollingJobRequest{JobId: id})
			if status.Code(err) != codes.NotFound {
				t.Errorf("alice gRPC delete %s: %v", id, err)
			}
			if _, err := polling.GetPollingJob(withKey(alice), &mdv1.GetPollingJobRequest{JobId: id}); status.Code(err) != codes.NotFound {
				t.Errorf("alice gRPC get %s: %v", id, err)
			}
			job, err := polling.GetPollingJob(withKey(bob), &mdv1.GetPollingJobRequest{JobId: id})
			if err != nil || job.Status == "stopped" {
				t.Errorf("bob's job %s after alice's attempts: %v %v", id, job, err)
			}
		}
		list := func(key string) []string {
			resp, err := polling.ListPollingJobs(withKey(key), &mdv1.ListPollingJobsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, j := range resp.Jobs {
				ids = append(ids, j.JobId)
			}
			return ids
		}
		if ids := list(alice); len(ids) != 0 {
			t.Errorf("alice lists %v", ids)
		}
		if ids := list(bob); len(ids) != 2 {
			t.Errorf("bob lists %v", ids)
		}
		_, body, _ := a.rest(t, alice, false, "GET", "/api/v1/prices/poll", "")
		if jobs, _ := body["jobs"].([]any); len(jobs) != 0 {
			t.Errorf("alice lists over REST: %v", body)
		}
		// The admin scope sees and stops every job.
		if ids := list(a.admin); len(ids) < 2 {
			t.Errorf("admin lists %v", ids)
		}
		if code, body, _ := a.rest(t, a.admin, false, "DELETE", "/api/v1/prices/poll/"+restJob, ""); code != 200 {
			t.Errorf("admin DELETE: %d %v", code, body)
		}
		if _, err := polling.DeletePollingJob(withKey(bob), &mdv1.DeletePollingJobRequest{JobId: grpcJob.JobId}); err != nil {
			t.Errorf("bob stops his own job: %v", err)
		}
	})

	t.Run("a revoked key is refused within a second", func(t *testing.T) {
		victim := a.newKey(t, "victim", []string{"read"}, nil)
		if code, _, _ := a.rest(t, victim, false, "GET", "/api/v1/prices/latest?symbol=AAPL", ""); code != 200 {
			t.Fatalf("before revoking: %d", code)
		}
		if _, err := mdv1.NewApiKeyServiceClient(a.api).RevokeApiKey(withKey(a.admin), &mdv1.RevokeApiKeyRequest{Name: "victim"}); err != nil {
			t.Fatal(err)
		}
		revoked := time.Now()
		var restAt, grpcAt, consumerAt time.Duration
		// Polled until all three refuse; the bound below is what is tested.
		if err := waitForErr(3*time.Second, "the revoked key to be refused", func() (bool, error) {
			if restAt == 0 {
				if code, _, _ := a.rest(t, victim, false, "GET", "/api/v1/prices/latest?symbol=AAPL", ""); code == 401 {
					restAt = time.Since(revoked)
				}
			}
			if grpcAt == 0 {
				if _, err := prices.GetLatestPrice(withKey(victim), &mdv1.GetLatestPriceRequest{Symbol: "AAPL"}); status.Code(err) == codes.Unauthenticated {
					grpcAt = time.Since(revoked)
				}
			}
			if consumerAt == 0 {
				if _, err := averages.ListMovingAverages(withKey(victim), &mdv1.ListMovingAveragesRequest{Symbol: "AAPL", Window: 5}); status.Code(err) == codes.Unauthenticated {
					consumerAt = time.Since(revoked)
				}
			}
			return restAt > 0 && grpcAt > 0 && consumerAt > 0,
				fmt.Errorf("still accepted (REST %v, gRPC %v, consumer %v)", restAt, grpcAt, consumerAt)
		}); err != nil {
			t.Fatal(err)
		}
		t.Logf("revoked key refused after: REST %v, gRPC %v, consumer %v", restAt, grpcAt, consumerAt)
		for name, d := range map[string]time.Duration{"REST": restAt, "gRPC": grpcAt, "consumer": consumerAt} {
			if d > time.Second {
				t.Errorf("%s refused the revoked key only after %v", name, d)
			}
		}
	})
}

func TestAPIKeyQuotas(t *testing.T) {
	// Alpha Vantage (faked) allows 4 calls a minute: a key's share (PROVIDER_SHARE_PER_KEY=0.5)
	// is 2.
	a := startAuthStack(t, "quota", "ALPHA_VANTAGE_RATE_LIMIT_PER_MINUTE=4")
	// Two requests a minute, in bursts of one: the second call at once is over.
	slow := a.newKey(t, "slow", []string{"read"}, &mdv1.ApiKeyQuotas{RequestsPerMinute: ptr(int32(2))})
	prices := mdv1.NewPriceServiceClient(a.api)

	t.Run("requests a minute: 429 with Retry-After and RESOURCE_EXHAUSTED with retry-after", func(t *testing.T) {
		if code, body, _ := a.rest(t, slow, false, "GET", "/api/v1/prices/latest?symbol=AAPL", ""); code != 200 {
			t.Fatalf("first call: %d %v", code, body)
		}
		code, body, h := a.rest(t, slow, false, "GET", "/api/v1/prices/latest?symbol=AAPL", "")
		if code != 429 || body["code"] != "RESOURCE_EXHAUSTED" {
			t.Errorf("second call: %d %v", code, body)
		}
		if h.Get("Retry-After") == "" || h.Get("Retry-After") == "0" || h.Get("RateLimit-Limit") != "2" ||
			h.Get("RateLimit-Remaining") != "0" || h.Get("RateLimit-Reset") == "" {
			t.Errorf("headers: Retry-After %q RateLimit-Limit %q RateLimit-Remaining %q RateLimit-Reset %q",
				h.Get("Retry-After"), h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset"))
		}
		var trailer metadata.MD
		_, err := prices.GetLatestPrice(withKey(slow), &mdv1.GetLatestPriceRequest{Symbol: "AAPL"}, grpc.Trailer(&trailer))
		if status.Code(err) != codes.ResourceExhausted || len(trailer.Get("retry-after")) != 1 || trailer.Get("ratelimit-limit")[0] != "2" {
			t.Errorf("gRPC: %v, trailer %v", err, trailer)
		}
	})

	t.Run("polling jobs and symbols", func(t *testing.T) {
		oneJob := a.newKey(t, "onejob", []string{"read", "write"}, &mdv1.ApiKeyQuotas{MaxJobs: ptr(int32(1)), MaxSymbols: ptr(int32(3))})
		if code, body, _ := a.rest(t, oneJob, false, "POST", "/api/v1/prices/poll", `{"symbols":["Q1","Q2","Q3","Q4"],"interval":60}`); code != 429 ||
			!strings.Contains(fmt.Sprint(body["detail"]), "limit of 3") {
			t.Errorf("4 symbols over a limit of 3: %d %v", code, body)
		}
		code, created, _ := a.rest(t, oneJob, false, "POST", "/api/v1/prices/poll", `{"symbols":["Q1"],"interval":60}`)
		if code != 202 {
			t.Fatalf("first job: %d %v", code, created)
		}
		polling := mdv1.NewPollingServiceClient(a.api)
		_, err := polling.CreatePollingJob(withKey(oneJob), &mdv1.CreatePollingJobRequest{Symbols: []string{"Q2"}, Interval: 60})
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("second job over gRPC: %v", err)
		}
		// Stopping the job frees the slot.
		if code, _, _ := a.rest(t, oneJob, false, "DELETE", "/api/v1/prices/poll/"+created["job_id"].(string), ""); code != 200 {
			t.Fatalf("stop: %d", code)
		}
		if _, err := polling.CreatePollingJob(withKey(oneJob), &mdv1.CreatePollingJobRequest{Symbols: []string{"Q2"}, Interval: 60}); err != nil {
			t.Errorf("after stopping the first: %v", err)
		}
	})

	t.Run("a key gets its share of a provider's limit, and no more", func(t *testing.T) {
		greedy := a.newKey(t, "greedy", []string{"read"}, nil)
		other := a.newKey(t, "other", []string{"read"}, nil)
		path := "/api/v1/prices/latest?symbol=AAPL&provider=alpha_vantage"
		for i := 0; i < 2; i++ {
			if code, body, _ := a.rest(t, greedy, false, "GET", path, ""); code != 200 {
				t.Fatalf("greedy call %d: %d %v", i+1, code, body)
			}
		}
		code, body, h := a.rest(t, greedy, false, "GET", path, "")
		if code != 429 || !strings.Contains(fmt.Sprint(body["detail"]), "share of alpha_vantage") || h.Get("Retry-After") == "" {
			t.Errorf("greedy's third call: %d %v Retry-After %q", code, body, h.Get("Retry-After"))
		}
		_, err := prices.GetLatestPrice(withKey(greedy), &mdv1.GetLatestPriceRequest{Symbol: "AAPL", Provider: "alpha_vantage"})
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("greedy over gRPC: %v", err)
		}
		// The other key still has its share of the provider.
		for i := 0; i < 2; i++ {
			if code, body, _ := a.rest(t, other, true, "GET", path, ""); code != 200 {
				t.Errorf("other's call %d: %d %v", i+1, code, body)
			}
		}
	})

	t.Run("the admin command lists, sets quotas and revokes", func(t *testing.T) {
		out, err := keysCommand(t, a.stack, "quota", "slow", "--requests-per-minute", "0")
		if err != nil || !strings.Contains(out, "requests_per_minute=none") {
			t.Fatalf("keys quota: %v %s", err, out)
		}
		waitFor(t, 5*time.Second, "the new quota to apply", func() bool {
			code, _, _ := a.rest(t, slow, false, "GET", "/api/v1/prices/latest?symbol=AAPL", "")
			return code == 200
		})
		out, err = keysCommand(t, a.stack, "list")
		if err != nil || !strings.Contains(out, "slow\tscopes=read") || secretPattern.MatchString(out) {
			t.Errorf("keys list: %v %s", err, out)
		}
		if out, err := keysCommand(t, a.stack, "revoke", "slow"); err != nil || !strings.Contains(out, "revoked=") {
			t.Errorf("keys revoke: %v %s", err, out)
		}
		if out, err := keysCommand(t, a.stack, "create", "bad name", "--scopes", "read"); err == nil {
			t.Errorf("a bad name was accepted: %s", out)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// With keys not required every caller would be an admin, so the key service refuses: keys made
// then would outlive the day keys are switched on.
func TestAPIKeyServiceNeedsKeysRequired(t *testing.T) {
	conn, err := grpc.NewClient(shared.apiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = mdv1.NewApiKeyServiceClient(conn).CreateApiKey(context.Background(),
		&mdv1.CreateApiKeyRequest{Name: "sneaky", Scopes: []string{"admin"}})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), "REQUIRE_API_KEYS") {
		t.Errorf("CreateApiKey with keys off: %v", err)
	}
}
