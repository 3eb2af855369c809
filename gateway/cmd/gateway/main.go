// Command gateway serves the market data REST API (/api/v1) in front of the gRPC services.
// Settings come from the environment, each overridable by a flag of the same name in kebab case
// (GATEWAY_LISTEN -> --gateway-listen=:8000); gateway --help lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"marketdata/gateway/internal/gateway"
	"marketdata/gateway/internal/logbuf"
)

// logHandler writes the services' line format: `time` in UTC with milliseconds (slog's default is
// local time with nanoseconds), and the same field names.
func logHandler(out io.Writer, format string) slog.Handler {
	options := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 && a.Value.Kind() == slog.KindTime {
			var b [len("2006-01-02T15:04:05.000Z")]byte
			return slog.String(slog.TimeKey, string(a.Value.Time().UTC().AppendFormat(b[:0], "2006-01-02T15:04:05.000Z")))
		}
		return a
	}}
	if format == "text" {
		return slog.NewTextHandler(out, options)
	}
	return slog.NewJSONHandler(out, options)
}

func main() {
	opts, err := gateway.LoadOptions(os.Args[1:], os.LookupEnv, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0) // the usage went to stdout
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(2)
	}
	// The heap is small and short-lived (a few KiB per request); collecting less often is a
	// measurable share of CPU at high request rates. GOGC, when set, still decides.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	// Request lines are written out in batches every 100 ms; warnings and errors at once.
	out := logbuf.New(os.Stderr, 100*time.Millisecond, 64<<10)
	logger := slog.New(logbuf.FlushAtLevel(logHandler(out, opts.LogFormat), out, slog.LevelWarn)).
		With(slog.String("service", "gateway"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = gateway.Run(ctx, opts, logger)
	stop()
	if err != nil {
		logger.Error("gateway stopped", "error", err.Error())
	}
	_ = out.Close()
	if err != nil {
		os.Exit(1)
	}
}
