// Package load runs many simulated charging stations against one CSMS: it
// starts them at a given ramp, has each run a scenario for a duration, holds
// them to a target message rate, and measures what the server gives back
// (calls per second, errors by kind, latency percentiles per action) and
// what the simulator itself costs (memory and CPU per station).
//
// Measuring must not slow the stations down: [Stats] is the stations'
// sim.Observer and takes no lock on the hot path (atomic counters and a
// log-linear histogram per action).
package load
