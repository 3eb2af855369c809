package gateway

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoadOptionsDefaults(t *testing.T) {
	o, err := LoadOptions(nil, lookup(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.ListenAddr != ":8000" || o.APIAddr != "127.0.0.1:50051" || o.ConsumerAddr != "127.0.0.1:50052" ||
		o.MaxBodyBytes != 1<<20 || len(o.CORSAllowedOrigins) != 0 ||
		o.ShutdownTimeout != 15*time.Second || o.ReadyTimeout != time.Second || o.BackendTimeout != 30*time.Second ||
		o.LogFormat != "json" {
		t.Errorf("defaults = %+v", o)
	}
}

func TestLoadOptionsEnvThenFlags(t *testing.T) {
	env := lookup(map[string]string{
		"GATEWAY_LISTEN":          "127.0.0.1:9000",
		"MDS_API_ADDR":            "api:50051",
		"MDS_CONSUMER_ADDR":       "",
		"CORS_ALLOWED_ORIGINS":    "https://a.example, https://b.example/",
		"GATEWAY_MAX_BODY_BYTES":  "2048",
		"GATEWAY_BACKEND_TIMEOUT": "5s",
	})
	o, err := LoadOptions([]string{"--gateway-max-body-bytes=100", "--mds-api-addr", "other:1", "-gateway-shutdown-timeout=3s"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.ListenAddr != "127.0.0.1:9000" || o.APIAddr != "other:1" || o.ConsumerAddr != "" || o.MaxBodyBytes != 100 ||
		strings.Join(o.CORSAllowedOrigins, " ") != "https://a.example https://b.example" || o.ShutdownTimeout != 3*time.Second ||
		o.BackendTimeout != 5*time.Second {
		t.Errorf("options = %+v", o)
	}
}

func TestCORSAnyOriginOnlyWhenConfigured(t *testing.T) {
	for _, v := range []string{"", " ", ","} {
		o, err := LoadOptions(nil, lookup(map[string]string{"CORS_ALLOWED_ORIGINS": v}), io.Discard)
		if err != nil || len(o.CORSAllowedOrigins) != 0 {
			t.Errorf("CORS_ALLOWED_ORIGINS=%q: %v, %v", v, o.CORSAllowedOrigins, err)
		}
	}
	o, err := LoadOptions([]string{"--cors-allowed-origins=*"}, lookup(nil), io.Discard)
	if err != nil || strings.Join(o.CORSAllowedOrigins, " ") != "*" {
		t.Errorf("--cors-allowed-origins=*: %v, %v", o.CORSAllowedOrigins, err)
	}
}

func TestLoadOptionsFlagPerSetting(t *testing.T) {
	args := []string{
		"--gateway-listen=:9001",
		"--mds-api-addr=a:1",
		"--mds-consumer-addr=c:2",
		"--cors-allowed-origins=https://x.example",
		"--gateway-max-body-bytes=7",
		"--gateway-shutdown-timeout=1s",
		"--gateway-backend-timeout=1m30s",
		"--gateway-tls-cert-file=/s.pem",
		"--gateway-tls-key-file=/s.key",
		"--backend-tls-ca-file=/ca.pem",
		"--backend-tls-cert-file=/c.pem",
		"--backend-tls-key-file=/c.key",
		"--log-format=text",
	}
	if len(args) != len(settings) {
		t.Fatalf("%d flags tested, %d settings", len(args), len(settings))
	}
	o, err := LoadOptions(args, lookup(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.ListenAddr != ":9001" || o.APIAddr != "a:1" || o.ConsumerAddr != "c:2" ||
		strings.Join(o.CORSAllowedOrigins, " ") != "https://x.example" || o.MaxBodyBytes != 7 || o.ShutdownTimeout != time.Second ||
		o.BackendTimeout != 90*time.Second || o.LogFormat != "text" {
		t.Errorf("options = %+v", o)
	}
	// The old short flags are gone.
	for _, old := range []string{"-listen=:1", "-api-addr=a:1", "-consumer-addr=c:2", "-max-body-bytes=1", "-shutdown-timeout=1s"} {
		if _, err := LoadOptions([]string{old}, lookup(nil), io.Discard); err == nil {
			t.Errorf("%s: accepted", old)
		}
	}
}

func TestLoadOptionsNamesTheBadSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"GATEWAY_MAX_BODY_BYTES": "lots"}, nil, `invalid GATEWAY_MAX_BODY_BYTES (flag --gateway-max-body-bytes) "lots": `},
		{map[string]string{"GATEWAY_MAX_BODY_BYTES": "0"}, nil, "GATEWAY_MAX_BODY_BYTES"},
		{nil, []string{"--gateway-max-body-bytes=-1"}, `invalid GATEWAY_MAX_BODY_BYTES (flag --gateway-max-body-bytes) "-1": `},
		{map[string]string{"MDS_API_ADDR": "nohostport"}, nil, "invalid MDS_API_ADDR (flag --mds-api-addr)"},
		{map[string]string{"MDS_CONSUMER_ADDR": "host:notaport"}, nil, "invalid MDS_CONSUMER_ADDR (flag --mds-consumer-addr)"},
		{map[string]string{"GATEWAY_LISTEN": "8000"}, nil, "invalid GATEWAY_LISTEN (flag --gateway-listen)"},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "example.com"}, nil, "invalid CORS_ALLOWED_ORIGINS (flag --cors-allowed-origins)"},
		{map[string]string{"GATEWAY_SHUTDOWN_TIMEOUT": "soon"}, nil, "invalid GATEWAY_SHUTDOWN_TIMEOUT (flag --gateway-shutdown-timeout)"},
		{nil, []string{"--gateway-shutdown-timeout=-1s"}, "GATEWAY_SHUTDOWN_TIMEOUT"},
		{map[string]string{"LOG_FORMAT": "xml"}, nil, `invalid LOG_FORMAT (flag --log-format) "xml": want json or text`},
		{map[string]string{"GATEWAY_BACKEND_TIMEOUT": "soon"}, nil, `invalid GATEWAY_BACKEND_TIMEOUT (flag --gateway-backend-timeout) "soon": want a positive duration such as 30s`},
		{map[string]string{"GATEWAY_BACKEND_TIMEOUT": "0"}, nil, "invalid GATEWAY_BACKEND_TIMEOUT (flag --gateway-backend-timeout)"},
		{nil, []string{"--gateway-backend-timeout=-5s"}, "invalid GATEWAY_BACKEND_TIMEOUT (flag --gateway-backend-timeout)"},
	}
	for _, c := range cases {
		_, err := LoadOptions(c.args, lookup(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("env %v args %v: error %v, want one line containing %s", c.env, c.args, err, c.want)
		}
	}
}

func TestLoadOptionsRejectsUnknownFlagsAndArguments(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag=1"}, {"-no-such-flag"}, {"stray"}, {"--gateway-listen"}} {
		var usage bytes.Buffer
		_, err := LoadOptions(args, lookup(nil), &usage)
		if err == nil || errors.Is(err, flag.ErrHelp) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line that is not flag.ErrHelp", args, err)
		}
		if usage.Len() != 0 {
			t.Errorf("%v: usage written:\n%s", args, usage.String())
		}
	}
	_, err := LoadOptions([]string{"--no-such-flag=1"}, lookup(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("error %v, want it to name no-such-flag", err)
	}
}

func TestLoadOptionsHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-help", "-h", "--h"} {
		var out bytes.Buffer
		// Help wins even over a bad environment value and comes with no error text of its own.
		_, err := LoadOptions([]string{arg}, lookup(map[string]string{"GATEWAY_MAX_BODY_BYTES": "lots"}), &out)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: error %v, want flag.ErrHelp (exit 0)", arg, err)
		}
		help := out.String()
		wantStart := "Usage: gateway [--setting-name=value ...]\n" +
			"Every setting is read from its environment variable; a flag of the same name in kebab case overrides it.\n" +
			"\n" +
			"  GATEWAY_LISTEN  --gateway-listen  default: :8000\n" +
			"      HTTP listen address\n" +
			"  MDS_API_ADDR  --mds-api-addr  default: 127.0.0.1:50051\n"
		if !strings.HasPrefix(help, wantStart) {
			t.Errorf("%s: help starts\n%s\nwant\n%s", arg, help, wantStart)
		}
		for _, want := range []string{
			"\n  MDS_CONSUMER_ADDR  --mds-consumer-addr  default: 127.0.0.1:50052\n      mds-consumer gRPC address (moving averages); empty: not deployed\n",
			"\n  CORS_ALLOWED_ORIGINS  --cors-allowed-origins  default: \"\"\n      comma-separated origins allowed by CORS; empty: CORS off; * any\n",
			"\n  GATEWAY_MAX_BODY_BYTES  --gateway-max-body-bytes  default: 1048576\n",
			"\n  GATEWAY_SHUTDOWN_TIMEOUT  --gateway-shutdown-timeout  default: 15s\n      time in-flight requests get to finish on SIGTERM\n",
			"\n  GATEWAY_BACKEND_TIMEOUT  --gateway-backend-timeout  default: 30s\n      deadline of every backend call but the streams (a REST client's Grpc-Timeout header is ignored)\n",
		} {
			if !strings.Contains(help, want) {
				t.Errorf("%s: help lacks %q:\n%s", arg, want, help)
			}
		}
		// Two lines per setting after the three of the heading, in table order.
		lines := strings.Split(strings.TrimSuffix(help, "\n"), "\n")
		if len(lines) != 3+2*len(settings) {
			t.Fatalf("%s: %d help lines, want %d:\n%s", arg, len(lines), 3+2*len(settings), help)
		}
		for i, s := range settings {
			if !strings.HasPrefix(lines[3+2*i], "  "+s.env+"  --"+flagName(s.env)+"  ") {
				t.Errorf("%s: line %q, want setting %s", arg, lines[3+2*i], s.env)
			}
			if lines[4+2*i] != "      "+s.meaning {
				t.Errorf("%s: line %q, want the meaning of %s", arg, lines[4+2*i], s.env)
			}
		}
	}
}

func TestHelpRendersEmptyAndRequiredDefaults(t *testing.T) {
	table := []setting{
		{env: "SOME_TOKEN", required: true, meaning: "a secret", parse: func(string, *Options) error { return nil }},
		{env: "SOME_PREFIX", def: "", meaning: "prepended to names", parse: func(string, *Options) error { return nil }},
	}
	var out bytes.Buffer
	if _, err := loadOptions(table, []string{"-h"}, lookup(nil), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("error %v, want flag.ErrHelp", err)
	}
	want := "  SOME_TOKEN  --some-token  (required)\n      a secret\n" +
		"  SOME_PREFIX  --some-prefix  default: \"\"\n      prepended to names\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("help\n%s\nwant it to end with\n%s", out.String(), want)
	}
	_, err := loadOptions(table, nil, lookup(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SOME_TOKEN is required") || !strings.Contains(err.Error(), "--some-token") {
		t.Errorf("missing required setting: error %v", err)
	}
	if _, err := loadOptions(table, []string{"--some-token=x"}, lookup(nil), io.Discard); err != nil {
		t.Errorf("required setting given: %v", err)
	}
}

func TestSettingsTable(t *testing.T) {
	seen := map[string]bool{}
	var help bytes.Buffer
	writeUsage(&help, settings)
	for _, s := range settings {
		if seen[s.env] {
			t.Errorf("%s: two rows", s.env)
		}
		seen[s.env] = true
		if s.env != strings.ToUpper(s.env) || strings.ContainsAny(s.env, " -") {
			t.Errorf("%s: want an UPPER_SNAKE_CASE name", s.env)
		}
		if s.meaning == "" || strings.Contains(s.meaning, "\n") || s.parse == nil {
			t.Errorf("%s: want a one-line meaning and a parse step", s.env)
		}
		if n := strings.Count(help.String(), s.env); n != 1 {
			t.Errorf("%s: appears %d times in the help, want once", s.env, n)
		}
		// Every default is valid.
		var o Options
		if err := s.parse(s.def, &o); err != nil {
			t.Errorf("%s: default %q: %v", s.env, s.def, err)
		}
	}
	if got := flagName("GATEWAY_MAX_BODY_BYTES"); got != "gateway-max-body-bytes" {
		t.Errorf("flagName = %q", got)
	}
}

func TestTLSFilesComeInPairs(t *testing.T) {
	o, err := LoadOptions([]string{"--gateway-tls-cert-file=/s.pem", "--gateway-tls-key-file=/s.key",
		"--backend-tls-ca-file=/ca.pem", "--backend-tls-cert-file=/c.pem", "--backend-tls-key-file=/c.key"}, lookup(nil), io.Discard)
	if err != nil || o.TLSCertFile != "/s.pem" || o.TLSKeyFile != "/s.key" || o.BackendCAFile != "/ca.pem" ||
		o.BackendCertFile != "/c.pem" || o.BackendKeyFile != "/c.key" {
		t.Fatalf("options = %+v, %v", o, err)
	}
	for _, args := range [][]string{
		{"--gateway-tls-cert-file=/s.pem"},
		{"--gateway-tls-key-file=/s.key"},
		{"--backend-tls-ca-file=/ca.pem", "--backend-tls-cert-file=/c.pem"},
		{"--backend-tls-cert-file=/c.pem", "--backend-tls-key-file=/c.key"}, // no CA
	} {
		if _, err := LoadOptions(args, lookup(nil), io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
