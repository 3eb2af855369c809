package gateway

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Options configure the gateway. LoadOptions fills them from the environment and flags.
type Options struct {
	// ListenAddr is the HTTP address to serve on (GATEWAY_LISTEN).
	ListenAddr string
	// APIAddr is mds-api's gRPC address: PriceService and PollingService (MDS_API_ADDR).
	APIAddr string
	// ConsumerAddr is mds-consumer's gRPC address: MovingAverageService (MDS_CONSUMER_ADDR).
	// Empty means the consumer is not deployed: its routes answer 503 and /ready skips it.
	ConsumerAddr string
	// CORSAllowedOrigins lists the origins allowed by CORS; "*" allows any; none (the default)
	// turns CORS off: no Access-Control-* headers at all (CORS_ALLOWED_ORIGINS).
	CORSAllowedOrigins []string
	// MaxBodyBytes caps request bodies; larger ones get 413 (GATEWAY_MAX_BODY_BYTES).
	MaxBodyBytes int64
	// ShutdownTimeout bounds how long in-flight requests may finish after SIGTERM
	// (GATEWAY_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// ReadyTimeout bounds each backend health check of /ready.
	ReadyTimeout time.Duration
	// BackendTimeout is the deadline of every unary backend call (a REST client's Grpc-Timeout
	// header is dropped); streams get none (GATEWAY_BACKEND_TIMEOUT). Zero means the default, 30s.
	BackendTimeout time.Duration
	// TLSCertFile and TLSKeyFile (PEM), both set: the gateway serves HTTPS only
	// (GATEWAY_TLS_CERT_FILE, GATEWAY_TLS_KEY_FILE).
	TLSCertFile, TLSKeyFile string
	// BackendCAFile (PEM) set: calls to mds-api and mds-consumer use TLS and trust this CA
	// (BACKEND_TLS_CA_FILE); BackendCertFile and BackendKeyFile add a client certificate for
	// services that require one (BACKEND_TLS_CERT_FILE, BACKEND_TLS_KEY_FILE).
	BackendCAFile, BackendCertFile, BackendKeyFile string
	// LogFormat is "json" (one object a line, as the services write) or "text" (LOG_FORMAT).
	LogFormat string
}

const defaultBackendTimeout = 30 * time.Second

// setting is one row of the settings table: its environment variable (the flag is derived from
// it), its default, a one-line meaning for --help, and parse, which checks a value and stores it
// in the Options. An error from parse is the reason alone; LoadOptions names the setting.
type setting struct {
	env      string
	def      string
	required bool // no default: an empty value is an error
	meaning  string
	parse    func(value string, o *Options) error
}

// settings drives parsing, validation and --help; adding a setting is adding a row.
var settings = []setting{
	{env: "GATEWAY_LISTEN", def: ":8000", meaning: "HTTP listen address",
		parse: func(v string, o *Options) error {
			if err := checkListenAddr(v); err != nil {
				return err
			}
			o.ListenAddr = v
			return nil
		}},
	{env: "MDS_API_ADDR", def: "127.0.0.1:50051", meaning: "mds-api gRPC address (prices, polling)",
		parse: func(v string, o *Options) error {
			if err := checkBackendAddr(v); err != nil {
				return err
			}
			o.APIAddr = v
			return nil
		}},
	{env: "MDS_CONSUMER_ADDR", def: "127.0.0.1:50052",
		meaning: "mds-consumer gRPC address (moving averages); empty: not deployed",
		parse: func(v string, o *Options) error {
			if v = strings.TrimSpace(v); v != "" {
				if err := checkBackendAddr(v); err != nil {
					return err
				}
			}
			o.ConsumerAddr = v
			return nil
		}},
	{env: "CORS_ALLOWED_ORIGINS", def: "",
		meaning: "comma-separated origins allowed by CORS; empty: CORS off; * any",
		parse: func(v string, o *Options) error {
			o.CORSAllowedOrigins = nil
			for _, origin := range strings.Split(v, ",") {
				if origin = strings.TrimSpace(origin); origin == "" {
					continue
				}
				if origin != "*" && !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
					return fmt.Errorf("origin %q must be * or start with http:// or https://", origin)
				}
				o.CORSAllowedOrigins = append(o.CORSAllowedOrigins, strings.TrimRight(origin, "/"))
			}
			return nil
		}},
	{env: "GATEWAY_MAX_BODY_BYTES", def: "1048576", meaning: "largest accepted request body in bytes",
		parse: func(v string, o *Options) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n <= 0 {
				return errors.New("want a positive number of bytes")
			}
			o.MaxBodyBytes = n
			return nil
		}},
	{env: "GATEWAY_SHUTDOWN_TIMEOUT", def: "15s", meaning: "time in-flight requests get to finish on SIGTERM",
		parse: func(v string, o *Options) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < 0 {
				return errors.New("want a duration such as 15s")
			}
			o.ShutdownTimeout = d
			return nil
		}},
	{env: "GATEWAY_BACKEND_TIMEOUT", def: defaultBackendTimeout.String(),
		meaning: "deadline of every backend call but the streams (a REST client's Grpc-Timeout header is ignored)",
		parse: func(v string, o *Options) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				return errors.New("want a positive duration such as 30s")
			}
			o.BackendTimeout = d
			return nil
		}},
	{env: "GATEWAY_TLS_CERT_FILE", def: "", meaning: "PEM certificate chain; with its key file the gateway serves HTTPS only",
		parse: func(v string, o *Options) error { o.TLSCertFile = strings.TrimSpace(v); return nil }},
	{env: "GATEWAY_TLS_KEY_FILE", def: "", meaning: "PEM private key of the gateway's certificate",
		parse: func(v string, o *Options) error { o.TLSKeyFile = strings.TrimSpace(v); return nil }},
	{env: "BACKEND_TLS_CA_FILE", def: "", meaning: "PEM CA; set: calls to mds-api and mds-consumer use TLS and trust it",
		parse: func(v string, o *Options) error { o.BackendCAFile = strings.TrimSpace(v); return nil }},
	{env: "BACKEND_TLS_CERT_FILE", def: "", meaning: "PEM client certificate for services that require one (mutual TLS)",
		parse: func(v string, o *Options) error { o.BackendCertFile = strings.TrimSpace(v); return nil }},
	{env: "BACKEND_TLS_KEY_FILE", def: "", meaning: "PEM private key of the client certificate",
		parse: func(v string, o *Options) error { o.BackendKeyFile = strings.TrimSpace(v); return nil }},
	{env: "LOG_FORMAT", def: "json", meaning: "log lines as json (one object a line, the services' field names) or as text",
		parse: func(v string, o *Options) error {
			switch v = strings.TrimSpace(v); v {
			case "json", "text":
				o.LogFormat = v
				return nil
			}
			return errors.New("want json or text")
		}},
}

// flagName is the setting's flag without its leading dashes: GATEWAY_LISTEN -> gateway-listen.
func flagName(env string) string {
	return strings.ToLower(strings.ReplaceAll(env, "_", "-"))
}

// LoadOptions reads the environment (through lookupEnv, e.g. os.LookupEnv) and then args, which
// override it (--gateway-listen=:9000 or --gateway-listen :9000; one dash works too). The error
// names the offending setting in one line. For -h or --help the usage is written to usageOut and
// flag.ErrHelp is returned: the caller should exit 0.
func LoadOptions(args []string, lookupEnv func(string) (string, bool), usageOut io.Writer) (Options, error) {
	return loadOptions(settings, args, lookupEnv, usageOut)
}

func loadOptions(table []setting, args []string, lookupEnv func(string) (string, bool), usageOut io.Writer) (Options, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	values := make([]string, len(table))
	for i, s := range table {
		values[i] = s.def
		if v, ok := lookupEnv(s.env); ok {
			values[i] = v
		}
		fs.StringVar(&values[i], flagName(s.env), values[i], s.meaning)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(usageOut, table)
			return Options{}, err
		}
		return Options{}, fmt.Errorf("bad command line: %v (flags take the form --setting-name=value; --help lists them)", err)
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("bad command line: unexpected argument %q", fs.Arg(0))
	}

	opts := Options{ReadyTimeout: time.Second}
	for i, s := range table {
		if s.required && strings.TrimSpace(values[i]) == "" {
			return Options{}, fmt.Errorf("%s is required (environment variable or flag --%s)", s.env, flagName(s.env))
		}
		if err := s.parse(values[i], &opts); err != nil {
			return Options{}, fmt.Errorf("invalid %s (flag --%s) %q: %v", s.env, flagName(s.env), values[i], err)
		}
	}
	for _, pair := range [][2]string{{"GATEWAY_TLS_CERT_FILE", "GATEWAY_TLS_KEY_FILE"}, {"BACKEND_TLS_CERT_FILE", "BACKEND_TLS_KEY_FILE"}} {
		a, b := pairValue(table, values, pair[0]), pairValue(table, values, pair[1])
		if (a == "") != (b == "") {
			return Options{}, fmt.Errorf("%s and %s go together: set both or neither", pair[0], pair[1])
		}
	}
	if opts.BackendCertFile != "" && opts.BackendCAFile == "" {
		return Options{}, errors.New("BACKEND_TLS_CERT_FILE needs BACKEND_TLS_CA_FILE: a client certificate is only sent over TLS")
	}
	return opts, nil
}

func pairValue(table []setting, values []string, env string) string {
	for i, s := range table {
		if s.env == env {
			return strings.TrimSpace(values[i])
		}
	}
	return ""
}

// writeUsage prints the --help text in the format the C++ services print: a heading, then per
// setting in table order a line of two spaces, NAME, two spaces, --flag-name, two spaces and
// `default: value` (`default: ""` when empty, `(required)` when there is none), and a line of
// six spaces and the meaning.
func writeUsage(w io.Writer, table []setting) {
	var b strings.Builder
	b.WriteString("Usage: gateway [--setting-name=value ...]\n")
	b.WriteString("Every setting is read from its environment variable; a flag of the same name in kebab case overrides it.\n\n")
	for _, s := range table {
		def := "default: " + s.def
		switch {
		case s.required:
			def = "(required)"
		case s.def == "":
			def = `default: ""`
		}
		fmt.Fprintf(&b, "  %s  --%s  %s\n      %s\n", s.env, flagName(s.env), def, s.meaning)
	}
	_, _ = io.WriteString(w, b.String())
}

func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port or :port")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return errors.New("port must be a number from 0 to 65535")
	}
	return nil
}

// checkBackendAddr accepts host:port (dialled through gRPC's default resolver) or a gRPC target
// with a scheme such as unix:///run/mds.sock or dns:///mds-api:50051.
func checkBackendAddr(addr string) error {
	if strings.Contains(addr, "://") || strings.HasPrefix(addr, "unix:") {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return errors.New("want host:port")
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return errors.New("port must be a number from 1 to 65535")
	}
	return nil
}
