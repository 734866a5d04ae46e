// Package metrics exposes the CSMS's Prometheus metrics: connected stations,
// OCPP calls by action and result with their latency, the calls waiting per
// station, and the store's latency per operation (Metrics.Store).
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openev/openev/ocpp"
)

// Metrics holds the collectors of one CSMS process.
type Metrics struct {
	registry *prometheus.Registry
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// storeLatency times the csms.Store calls made through Store.
	storeLatency *prometheus.HistogramVec
}

// New registers the metrics. server gives the connected stations and their
// call queues.
func New(server *ocpp.Server) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openev_ocpp_calls_total",
			Help: "OCPP calls handled, by direction (from_station, to_station), action and result (ok or the CALLERROR code).",
		}, []string{"direction", "action", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "openev_ocpp_call_duration_seconds",
			Help:    "Time to answer a station's call (from_station, including the store) or to get a station's answer (to_station).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"direction", "action"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "openev_store_duration_seconds",
			Help:    "Time of a store operation (op: the csms.Store method), until the write is committed; failed ones included.",
			Buckets: storeBuckets,
		}, []string{"op"}),
	}
	reg.MustRegister(m.calls, m.latency, m.storeLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "openev_stations_connected", Help: "Stations with an open OCPP connection.",
		}, func() float64 { return float64(server.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "openev_ocpp_calls_queued", Help: "Calls to stations waiting behind the one in flight, summed over stations.",
		}, func() float64 {
			n := 0
			for _, c := range server.Conns() {
				n += c.QueueLen()
			}
			return float64(n)
		}),
	)
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry is where other packages register their collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Observe records one call.
func (m *Metrics) Observe(direction, action string, err error, took time.Duration) {
	m.calls.WithLabelValues(direction, action, result(err)).Inc()
	m.latency.WithLabelValues(direction, action).Observe(took.Seconds())
}

func result(err error) string {
	var oe *ocpp.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &oe):
		return string(oe.Code)
	case errors.Is(err, ocpp.ErrTimeout):
		return "timeout"
	case errors.Is(err, ocpp.ErrClosed):
		return "closed"
	}
	return "error"
}

// WrapHandler wraps an ocpp.Handler so that every call from a station is counted
// and timed.
func (m *Metrics) WrapHandler(h ocpp.Handler) ocpp.Handler {
	return ocpp.HandlerFunc(func(ctx context.Context, c *ocpp.Conn, action string, payload json.RawMessage) (any, error) {
		start := time.Now()
		resp, err := h.ServeOCPP(ctx, c, action, payload)
		m.Observe("from_station", action, err, time.Since(start))
		return resp, err
	})
}
