// Command gateway serves the market data REST API (/api/v1) in front of the gRPC services.
// Settings come from the environment, each overridable by a flag of the same name in kebab case
// (GATEWAY_LISTEN -> --gateway-listen=:8000); gateway --help lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"marketdata/gateway/internal/gateway"
	"marketdata/gateway/internal/logbuf"
)

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
	logger := slog.New(logbuf.FlushAtLevel(slog.NewJSONHandler(out, nil), out, slog.LevelWarn))
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
