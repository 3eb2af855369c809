package gateway

import (
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
		o.MaxBodyBytes != 1<<20 || len(o.CORSAllowedOrigins) != 1 || o.CORSAllowedOrigins[0] != "*" ||
		o.ShutdownTimeout != 15*time.Second {
		t.Errorf("defaults = %+v", o)
	}
}

func TestLoadOptionsEnvThenFlags(t *testing.T) {
	env := lookup(map[string]string{
		"GATEWAY_LISTEN":         "127.0.0.1:9000",
		"MDS_API_ADDR":           "api:50051",
		"MDS_CONSUMER_ADDR":      "",
		"CORS_ALLOWED_ORIGINS":   "https://a.example, https://b.example/",
		"GATEWAY_MAX_BODY_BYTES": "2048",
	})
	o, err := LoadOptions([]string{"-max-body-bytes=100", "-api-addr", "other:1"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.ListenAddr != "127.0.0.1:9000" || o.APIAddr != "other:1" || o.ConsumerAddr != "" || o.MaxBodyBytes != 100 ||
		strings.Join(o.CORSAllowedOrigins, " ") != "https://a.example https://b.example" {
		t.Errorf("options = %+v", o)
	}
}

func TestLoadOptionsNamesTheBadSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"GATEWAY_MAX_BODY_BYTES": "lots"}, nil, "GATEWAY_MAX_BODY_BYTES"},
		{map[string]string{"GATEWAY_MAX_BODY_BYTES": "0"}, nil, "GATEWAY_MAX_BODY_BYTES"},
		{nil, []string{"-max-body-bytes=-1"}, "GATEWAY_MAX_BODY_BYTES"},
		{map[string]string{"MDS_API_ADDR": "nohostport"}, nil, "MDS_API_ADDR"},
		{map[string]string{"MDS_CONSUMER_ADDR": "host:notaport"}, nil, "MDS_CONSUMER_ADDR"},
		{map[string]string{"GATEWAY_LISTEN": "8000"}, nil, "GATEWAY_LISTEN"},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "example.com"}, nil, "CORS_ALLOWED_ORIGINS"},
		{map[string]string{"GATEWAY_SHUTDOWN_TIMEOUT": "soon"}, nil, "GATEWAY_SHUTDOWN_TIMEOUT"},
		{nil, []string{"-no-such-flag"}, "no-such-flag"},
	}
	for _, c := range cases {
		_, err := LoadOptions(c.args, lookup(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("env %v args %v: error %v, want one line naming %s", c.env, c.args, err, c.want)
		}
	}
}
