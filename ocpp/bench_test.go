package ocpp

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openev/openev/ocpp/v201"
)

// BenchmarkHeartbeatRoundTrip measures one station's Heartbeat round trip
// over a real loopback websocket, typed handler and strict validation
// included; run with -cpuprofile to see where the server's time goes.
func BenchmarkHeartbeatRoundTrip(b *testing.B) {
	for _, tr := range []Transport{TransportNbio, TransportGorilla} {
		b.Run(fmt.Sprint(tr), func(b *testing.B) {
			r := NewRouter()
			now := time.Now().UTC()
			Handle(r, func(ctx context.Context, c *Conn, req *v201.HeartbeatRequest) (*v201.HeartbeatResponse, error) {
				return &v201.HeartbeatResponse{CurrentTime: now}, nil
			})
			base, _ := startServer(b, &Server{Handler: r, Transport: tr, Options: Options{Logger: quietLogger}})
			ws, _, err := (&websocket.Dialer{Subprotocols: []string{"ocpp2.0.1"}}).Dial(base+"/BENCH", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			frame := []byte(`[2,"1","Heartbeat",{}]`)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
					b.Fatal(err)
				}
				if _, _, err := ws.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
