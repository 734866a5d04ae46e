package sim_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/sim"
)

// A station that boots, charges for a while at 60× speed and stops.
// (Compiled, not run: it needs a CSMS at the URL.)
func Example() {
	ctx := context.Background()
	st, err := sim.New(sim.Config{
		URL:           "ws://127.0.0.1:8080/ocpp",
		Identity:      "CS1",
		Version:       ocpp.V16,
		Speed:         60,
		MeterInterval: 10 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := st.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := st.Boot(ctx); err != nil {
		log.Fatal(err)
	}
	txID, err := st.StartTransaction(ctx, 1, "") // plugs the EV in first
	if err != nil {
		log.Fatal(err)
	}
	time.Sleep(30 * time.Second) // half an hour of simulated charging
	if err := st.StopTransaction(ctx, 1, "Local"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(txID, st.Snapshot().EVSEs[0].EnergyWh)
}
