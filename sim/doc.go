// Package sim simulates OCPP charging stations that talk to any OCPP-J
// server (CSMS): one station poked by hand, or tens of thousands in one
// process (the load mode of cmd/openev builds on it).
//
// A [Station] is made from a [Config] with [New], connected with
// [Station.Connect] and booted with [Station.Boot]; after that it heartbeats
// at the interval the server gave and reacts to the server like a charger:
//
//	st, err := sim.New(sim.Config{URL: "ws://127.0.0.1:8080/ocpp", Identity: "CS1", Version: ocpp.V16})
//	err = st.Connect(ctx)
//	res, err := st.Boot(ctx)                      // Accepted: heartbeats start
//	err = st.Plug(ctx, 1)                         // StatusNotification Preparing / Occupied
//	txID, err := st.StartTransaction(ctx, 1, "")  // StartTransaction / TransactionEvent Started
//	err = st.StopTransaction(ctx, 1, "Local")     // StopTransaction / TransactionEvent Ended
//	err = st.Unplug(ctx, 1)
//
// # Model
//
// A station has EVSEs (Config.EVSEs), each with connectors. OCPP 1.6 has no
// EVSEs: there each EVSE is one connector whose connectorId is the EVSE
// number, and connector 0 is the station (its status is sent after boot and
// after a station-wide ChangeAvailability). 2.0.1 sends a StatusNotification
// for every connector of an EVSE.
//
// The meter of each EVSE integrates power over simulated time (real time ×
// Config.Speed). Power is min(EV maximum, EVSE maximum, charging-profile
// limit) and tapers linearly from 80 % state of charge to a trickle at
// 100 %. The supply is three phases at 230 V: Current.Import is
// P / (3 · 230 V) per phase, Voltage is 230 V per phase. Charging profiles
// (Set/ClearChargingProfile, and one given with a remote start) are
// evaluated at every integration step: the station maximum profile caps the
// transaction profile, which replaces the default profile; limits in A are
// turned into W with 230 V and the period's number of phases (default 3).
//
// # Messages
//
// 1.6: BootNotification, Heartbeat, StatusNotification (connector 0 and each
// connector), Authorize, StartTransaction (meterStart in Wh), MeterValues
// with transactionId at the meter interval, StopTransaction with meterStop,
// reason and the final reading as transactionData.
//
// 2.0.1: BootNotification (reason PowerUp, RemoteReset after a Reset,
// Triggered), Heartbeat, StatusNotification, Authorize, TransactionEvent
// Started / Updated / Ended with seqNo counted per transaction from 0,
// triggerReason (Authorized or RemoteStart; MeterValuePeriodic or
// ChargingStateChanged; StopAuthorized, RemoteStop, EVDeparted,
// ResetCommand, Deauthorized, ...), transactionInfo (transactionId = a UUID,
// chargingState, stoppedReason, remoteStartId), evse and idToken on Started.
//
// The station answers: 1.6 RemoteStartTransaction, RemoteStopTransaction,
// Reset, ChangeAvailability, UnlockConnector, TriggerMessage,
// GetConfiguration, ChangeConfiguration, SetChargingProfile,
// ClearChargingProfile, DataTransfer; 2.0.1 RequestStartTransaction,
// RequestStopTransaction, Reset, ChangeAvailability, UnlockConnector,
// TriggerMessage, GetVariables, SetVariables, SetChargingProfile,
// ClearChargingProfile, DataTransfer. Every other action gets NotSupported
// (NotImplemented if the version has no such action). Actions that make the
// station do something (start, stop, reset, trigger, status changes) act
// just after the answer has gone out (20 ms later; a Reset 250 ms later).
// Reset stops running transactions,
// drops the connection, stays offline for Config.RebootDelay, reconnects and
// boots again. DataTransfer is answered Accepted for the vendorIds in
// Config.DataTransferVendors and UnknownVendorId otherwise.
//
// Configuration: 1.6 keys and 2.0.1 variables are two names for one set of
// values (Snapshot().Config lists them); HeartbeatInterval (OCPPCommCtrlr),
// MeterValueSampleInterval (SampledDataCtrlr.TxUpdatedInterval),
// MeterValuesSampledData (SampledDataCtrlr.TxUpdatedMeasurands),
// AuthorizeRemoteTxRequests (AuthCtrlr.AuthorizeRemoteStart),
// StopTransactionOnEVSideDisconnect (TxCtrlr.StopTxOnEVSideDisconnect),
// ClockAlignedDataInterval (AlignedDataCtrlr.Interval) and
// MeterValuesAlignedData (AlignedDataCtrlr.Measurands) take effect; the
// others are stored and reported. Clock-aligned readings (Sample.Clock) go
// out on the clock: within a transaction as 1.6 MeterValues with its
// transactionId or a 2.0.1 TransactionEvent (MeterValueClock), otherwise as
// MeterValues.
//
// # Offline behaviour
//
// While disconnected, transaction messages (StartTransaction, MeterValues of
// a transaction, StopTransaction, TransactionEvent) are queued and replayed
// in order after the reconnection (2.0.1 with offline=true); every other
// call fails at once with [ErrOffline]. A 1.6 transaction started offline
// has the id "local-N" until the replayed StartTransaction returns the
// server's transactionId, which the replayed MeterValues and
// StopTransaction then carry. A message that was on the wire when the
// connection went is sent again (at least once: a 2.0.1 server may see a
// seqNo twice, the second time with offline=true). Status changes made
// offline are reported after the reconnection.
//
// # Faults
//
// Faults.ResponseDelay and Faults.NoResponse make the station answer the
// server's CALLs late or never ("*" = every action). A never-answered CALL
// holds up the server's later CALLs on that connection, as on a hung
// charger. [Station.SendRaw] sends any frame as it is;
// [Station.DropConnection] loses the connection for a while. Faults.Quirks
// names vendor quirks:
//
//   - "overlong-fields": BootNotification's vendor, model and serial number
//     are padded past the schema's maxLength (1.6 chargePointVendor > 20
//     characters, ...), which a strict server must refuse.
//   - "wrong-units": energy readings are sent in kWh while labelled Wh
//     (sampled values of Energy.Active.Import.Register, and 1.6 meterStart
//     and meterStop), so the server sees a thousandth of the energy.
//   - "lowercase-enums": connector statuses (StatusNotification), 1.6 stop
//     reasons and 2.0.1 triggerReasons are sent in lower case ("charging").
//
// Quirks that break the schema (overlong-fields, lowercase-enums) and
// Faults.SkipValidation turn the station's own schema validation off for
// its connections, so that the invalid messages do go out.
//
// # Cost
//
// Stations are built to run by the ten thousand: a connected idle station
// has no goroutine besides its connection's read loop (heartbeats, meter
// values and reconnections are time.AfterFunc timers; the loss of a
// connection is noticed with context.AfterFunc), shares its dialer (and its
// pinger goroutine) with the other stations of its version, and allocates no
// logger or configuration map until one is needed. BenchmarkIdleStations
// measures the memory per connected idle station: about 11.6 KB (7.5 KB of
// heap, of which 4 KB is the websocket read buffer of ocpp.Dialer and about
// 1 KB the Station itself, plus the read loop's 4 KB stack) and one
// goroutine, so 15 000 stations hold about 175 MB.
//
// # Additions to the contract
//
// Config.MinBackoff, MaxBackoff, RebootDelay and DataTransferVendors;
// Faults.SkipValidation;
// Station.Config, Station.Conn, Station.QueueLen; the Quirk* and Measurand*
// constants; [ErrOffline] and [ErrClosed]. Connect does not retry a failed
// first connection (it returns the error); the background reconnection
// starts after the first success.
package sim
