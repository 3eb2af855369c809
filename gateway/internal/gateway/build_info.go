package gateway

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Version of the service set; mds-api and mds-consumer carry the same (services/common/metrics/build_info.h).
const Version = "1.0.0"

// revision may be set at link time: go build -ldflags "-X marketdata/gateway/internal/gateway.revision=<sha>".
var revision = ""

// buildRevision is the Git commit the binary was built from: the linker's value, else what the go
// tool recorded (builds with -buildvcs), else "unknown".
func buildRevision() string {
	if revision != "" {
		return revision
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// newBuildInfo is mds_build_info{service="gateway",version,revision} 1.
func newBuildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mds_build_info",
		Help: "Always 1; the labels say which build of which service runs.",
		ConstLabels: prometheus.Labels{
			"service": "gateway", "version": Version, "revision": buildRevision(),
		},
	})
	g.Set(1)
	return g
}
