// Package scenario is the simulator's script language: a scenario is a list
// of steps (connect, boot, heartbeat, plug, authorize, start, charge, stop,
// unplug, call, raw, drop, wait, idle, repeat) that one simulated charging
// station carries out, with expectations on the answers.
//
// Scenarios are written in YAML or JSON (the same schema; see
// docs/simulator.md). [Parse] turns a file into a [Scenario] and reports a
// mistake with the step and the field it is in; [Runner] executes a scenario
// on a *sim.Station and collects every failed expectation with its step
// number, so that a run can say exactly what did not hold. The built-in
// scenarios boot, heartbeat, charge and idle are YAML files embedded from
// builtin/.
package scenario
