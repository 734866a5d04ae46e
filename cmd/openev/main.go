// Command openev is the openEV command line. Each subcommand lives in a file
// of its own: `openev sim` (sim.go) simulates charging stations; the hidden
// `openev sim-target` (simtarget.go) is an accept-all CSMS for benchmarks and
// tests. `openev serve` (serve.go) runs the CSMS. `openev ocpi` (ocpi.go) is a command-line OCPI 2.2.1 client.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit statuses. Scripts tell a failed expectation from a mistake in how the
// simulator was called.
const (
	exitOK     = 0 // the scenario's expectations held
	exitFailed = 1 // an expectation failed, or the stations could not connect
	exitUsage  = 2 // bad flags or a bad scenario file: nothing was run
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitError carries an exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as a usage mistake (exit status 2).
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// run executes the command line args and returns the exit status. Tests call
// it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run with a context whose end stops long-running commands
// (serve, load runs) as Ctrl-C does.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "openev:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Cobra's own errors: unknown flags, commands or bad flag values.
	return exitUsage
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "openev",
		Short: "openEV: an open-source EV charging backend",
		// Errors are printed once, by run, with the exit status they carry.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCmd(stdout, stderr), newSimCmd(stdout, stderr), newSimTargetCmd(stdout, stderr))
	root.AddCommand(newOCPICmd(stdout, stderr))
	return root
}
