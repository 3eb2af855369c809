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
	// CORSAllowedOrigins lists the origins allowed by CORS; "*" allows any (CORS_ALLOWED_ORIGINS).
	CORSAllowedOrigins []string
	// MaxBodyBytes caps request bodies; larger ones get 413 (GATEWAY_MAX_BODY_BYTES).
	MaxBodyBytes int64
	// ShutdownTimeout bounds how long in-flight requests may finish after SIGTERM
	// (GATEWAY_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// ReadyTimeout bounds each backend health check of /ready.
	ReadyTimeout time.Duration
}

// setting is one option: its environment variable, its flag, its default.
type setting struct {
	env, flag, def, usage string
	value                 *string
}

// LoadOptions reads the environment (through lookupEnv, e.g. os.LookupEnv) and then args, which
// override it. The error names the offending setting in one line. flag.ErrHelp is returned, after
// the usage is written to usageOut, for -h.
func LoadOptions(args []string, lookupEnv func(string) (string, bool), usageOut io.Writer) (Options, error) {
	var listen, api, consumer, origins, maxBody, shutdown string
	settings := []setting{
		{"GATEWAY_LISTEN", "listen", ":8000", "HTTP listen address", &listen},
		{"MDS_API_ADDR", "api-addr", "127.0.0.1:50051", "mds-api gRPC address (prices, polling)", &api},
		{"MDS_CONSUMER_ADDR", "consumer-addr", "127.0.0.1:50052", "mds-consumer gRPC address (moving averages); empty: not deployed", &consumer},
		{"CORS_ALLOWED_ORIGINS", "cors-allowed-origins", "*", "comma-separated allowed CORS origins, * for any, empty for none", &origins},
		{"GATEWAY_MAX_BODY_BYTES", "max-body-bytes", "1048576", "largest accepted request body in bytes", &maxBody},
		{"GATEWAY_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "time in-flight requests get to finish on SIGTERM", &shutdown},
	}
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	byFlag := make(map[string]setting, len(settings))
	for _, s := range settings {
		def := s.def
		if v, ok := lookupEnv(s.env); ok {
			def = v
		}
		fs.StringVar(s.value, s.flag, def, fmt.Sprintf("%s (env %s)", s.usage, s.env))
		byFlag[s.flag] = s
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(usageOut)
			fmt.Fprintln(usageOut, "usage: gateway [flags]; every flag defaults to its environment variable")
			fs.PrintDefaults()
			return Options{}, err
		}
		return Options{}, fmt.Errorf("bad command line: %v", err)
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("bad command line: unexpected argument %q", fs.Arg(0))
	}
	bad := func(flagName, why string) error {
		s := byFlag[flagName]
		return fmt.Errorf("invalid %s (flag -%s) %q: %s", s.env, s.flag, *s.value, why)
	}

	opts := Options{ReadyTimeout: time.Second}
	if err := checkListenAddr(listen); err != nil {
		return Options{}, bad("listen", err.Error())
	}
	opts.ListenAddr = listen
	if err := checkBackendAddr(api); err != nil {
		return Options{}, bad("api-addr", err.Error())
	}
	opts.APIAddr = api
	if consumer = strings.TrimSpace(consumer); consumer != "" {
		if err := checkBackendAddr(consumer); err != nil {
			return Options{}, bad("consumer-addr", err.Error())
		}
	}
	opts.ConsumerAddr = consumer
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return Options{}, bad("cors-allowed-origins", fmt.Sprintf("origin %q must be * or start with http:// or https://", o))
		}
		opts.CORSAllowedOrigins = append(opts.CORSAllowedOrigins, strings.TrimRight(o, "/"))
	}
	n, err := strconv.ParseInt(strings.TrimSpace(maxBody), 10, 64)
	if err != nil || n <= 0 {
		return Options{}, bad("max-body-bytes", "want a positive number of bytes")
	}
	opts.MaxBodyBytes = n
	d, err := time.ParseDuration(strings.TrimSpace(shutdown))
	if err != nil || d < 0 {
		return Options{}, bad("shutdown-timeout", "want a duration such as 15s")
	}
	opts.ShutdownTimeout = d
	return opts, nil
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
