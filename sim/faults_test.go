package sim

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// TestNoResponse: an action marked NoResponse is never answered, so the
// server's call times out; the station still works otherwise.
func TestNoResponse(t *testing.T) {
	c := newCSMS(t)
	s := c.station(t, Config{Version: ocpp.V16, Faults: Faults{NoResponse: map[string]bool{"GetConfiguration": true}}}, true)
	conn := c.conn(t, "CS1")
	ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancel()
	_, err := ocpp.Call(ctx, conn, &v16.GetConfigurationRequest{})
	if !errors.Is(err, ocpp.ErrTimeout) {
		t.Fatalf("GetConfiguration: %v, want a timeout", err)
	}
	if err := s.Heartbeat(testCtx(t)); err != nil {
		t.Errorf("the station's own calls still work: %v", err)
	}
}

// TestResponseDelay: the answer comes after the configured delay.
func TestResponseDelay(t *testing.T) {
	c := newCSMS(t)
	c.station(t, Config{Version: ocpp.V201, Faults: Faults{ResponseDelay: map[string]time.Duration{"*": 300 * time.Millisecond}}}, true)
	conn := c.conn(t, "CS1")
	start := time.Now()
	resp, err := ocpp.Call(testCtx(t), conn, &v201.TriggerMessageRequest{RequestedMessage: v201.MessageTriggerEnumHeartbeat})
	if err != nil || resp.Status != v201.TriggerMessageStatusEnumAccepted {
		t.Fatalf("TriggerMessage: %+v %v", resp, err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("answered after %v, want ~300 ms", d)
	}
}

// logBuffer is a concurrency-safe log sink for checking what the station's
// connection logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestMalformedFrame: a malformed frame and a schema-invalid CALL sent on
// purpose get the server's CALLERROR (which reaches the station's connection
// as an answer to no call of its own, and is logged there); with
// SkipValidation, Call sends a schema-invalid payload and returns the
// server's *ocpp.Error.
func TestMalformedFrame(t *testing.T) {
	c := newCSMS(t)
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := c.station(t, Config{Version: ocpp.V201, Logger: logger, Faults: Faults{SkipValidation: true}}, true)
	if err := s.SendRaw(`[2,"bad-1","Heartbeat",{"bogus":1}]`); err != nil {
		t.Fatal(err)
	}
	if err := s.SendRaw(`[2,"bad-2","Heartbeat"`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server's CALLERRORs", func() bool {
		return strings.Count(logs.String(), "matches no call") >= 2 && strings.Contains(logs.String(), "id=bad-1")
	})
	_, err := s.Call(testCtx(t), "Heartbeat", []byte(`{"bogus":1}`))
	var oe *ocpp.Error
	if !errors.As(err, &oe) || oe.Code == ocpp.InternalError {
		t.Fatalf("schema-invalid Heartbeat: %v, want the server's CALLERROR", err)
	}
	if !s.Connected() {
		t.Error("the connection did not survive")
	}
}

// TestQuirks: wrong-units sends kWh labelled Wh; overlong-fields and
// lowercase-enums produce messages a strict server refuses.
func TestQuirks(t *testing.T) {
	t.Run("wrong-units", func(t *testing.T) {
		c := newCSMS(t)
		cfg := fastSession(ocpp.V16)
		cfg.Faults.Quirks = []string{QuirkWrongUnits}
		s := c.station(t, cfg, true)
		ctx := testCtx(t)
		if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "meter values", func() bool { return c.count("MeterValues") >= 3 })
		if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
			t.Fatal(err)
		}
		wh := s.Snapshot().EVSEs[0].EnergyWh
		stop := c.all("StopTransaction")[0].Msg.(*v16.StopTransactionRequest)
		if stop.MeterStop != int(wh/1000) || wh < 1000 {
			t.Errorf("meterStop %d for %v Wh, want kWh", stop.MeterStop, wh)
		}
		for _, sv := range stop.TransactionData[0].SampledValue {
			if v, _ := strconv.ParseFloat(sv.Value, 64); sv.Measurand == MeasurandEnergy && (v > wh/999 || sv.Unit != "Wh") {
				t.Errorf("final reading %s %s for %v Wh", sv.Value, sv.Unit, wh)
			}
		}
	})
	t.Run("overlong-fields", func(t *testing.T) {
		c := newCSMS(t)
		s := c.station(t, Config{Version: ocpp.V16, Faults: Faults{Quirks: []string{QuirkOverlongFields}}}, false)
		_, err := s.Boot(testCtx(t))
		var oe *ocpp.Error
		if !errors.As(err, &oe) {
			t.Fatalf("Boot with over-long fields: %v, want a CALLERROR", err)
		}
	})
	t.Run("lowercase-enums", func(t *testing.T) {
		c := newCSMS(t)
		s := c.station(t, Config{Version: ocpp.V201, Faults: Faults{Quirks: []string{QuirkLowercaseEnums}}}, false)
		if _, err := s.Boot(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		err := s.Plug(testCtx(t), 1)
		var oe *ocpp.Error
		if !errors.As(err, &oe) {
			t.Fatalf("StatusNotification with lower-case status: %v, want a CALLERROR", err)
		}
	})
}

// TestConfigErrors: New refuses bad configurations with clear errors.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Identity: "CS1"}, "URL is required"},
		{Config{URL: "http://x/ocpp", Identity: "CS1"}, "ws:// or wss://"},
		{Config{URL: "ws://x/ocpp"}, "Identity is required"},
		{Config{URL: "ws://x/ocpp", Identity: "CS1", Version: ocpp.V21}, "not simulated"},
		{Config{URL: "ws://x/ocpp", Identity: "CS1", Measurands: []string{"Bogus"}}, `unknown measurand "Bogus"`},
		{Config{URL: "ws://x/ocpp", Identity: "CS1", Faults: Faults{Quirks: []string{"nope"}}}, `unknown quirk "nope"`},
		{Config{URL: "ws://x/ocpp", Identity: "CS1", Version: ocpp.V16, Dialer: &ocpp.Dialer{Versions: []ocpp.Version{ocpp.V201}}}, "Dialer offers 2.0.1"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	s, err := New(Config{URL: "ws://x/ocpp", Identity: "CS1"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Config()
	if cfg.Version != ocpp.V201 || len(cfg.EVSEs) != 1 || cfg.EVSEs[0].MaxPowerW != 22000 || cfg.EV.MaxPowerW != 11000 ||
		cfg.MeterInterval != time.Minute || cfg.IDTokens[0] != "SIMTAG01" || cfg.Speed != 1 {
		t.Errorf("defaults: %+v", cfg)
	}
	if err := s.Plug(context.Background(), 2); err == nil {
		t.Error("plugged into EVSE 2 of a one-EVSE station")
	}
}
