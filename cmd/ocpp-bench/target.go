package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openev/openev/interop/peer"
)

// A target is a server under test, running in a process of its own so that
// its resident memory and CPU time are its own.
type target interface {
	// URL is where the station with that identity connects.
	URL(identity string) string
	// PID is the server's process, for /proc.
	PID() int
	// Connected is the number of stations the server itself counts.
	Connected(ctx context.Context) (int, error)
	Close() error
}

// The names of the servers, as -servers takes them.
const (
	openevName        = "openev"         // ocpp.Server on its default transport
	openevGorillaName = "openev-gorilla" // ocpp.Server on TransportGorilla
	peerName          = "ocpp-rpc"
	bareName          = "bare"      // the floor: bare gorilla websocket, no OCPP library (bare.go)
	bareNbioName      = "bare-nbio" // the floor of openev's default transport: bare nbio (bare_nbio.go)
)

// serverNames are the servers -servers knows.
var serverNames = []string{openevName, openevGorillaName, peerName, bareName, bareNbioName}

// isOpenEV says whether the named server is an ocpp.Server.
func isOpenEV(name string) bool { return name == openevName || name == openevGorillaName }

func startTarget(ctx context.Context, name string, cfg config) (target, error) {
	switch name {
	case openevName, openevGorillaName, bareName, bareNbioName:
		return startGoServer(ctx, name, append(cfg.ServerEnv, pingEnv+"="+cfg.Ping.String()))
	case peerName:
		return startPeer(ctx, cfg.Protocol, cfg.Ping)
	}
	return nil, fmt.Errorf("unknown server %q in -servers (want one of %s)", name, strings.Join(serverNames, ", "))
}

// goServer is this binary re-executed in the hidden server mode (serve.go),
// serving openev (on either transport) or the bare floor.
type goServer struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	port  int
	mu    sync.Mutex // one command at a time
}

// startGoServer starts the named server with extra environment variables
// env (KEY=VALUE, e.g. GOGC=200) on top of this process's own.
func startGoServer(ctx context.Context, name string, env []string) (*goServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s server: cannot find this program to re-execute it: %w", name, err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), env...), serveEnv+"="+name)
	cmd.Stderr = os.Stderr // net/http's accept errors, panics
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s server: %w", name, err)
	}
	s := &goServer{name: name, cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	started := make(chan error, 1)
	go func() {
		if !s.out.Scan() {
			started <- fmt.Errorf("%s server exited before listening (%v)", name, s.out.Err())
			return
		}
		port, ok := strings.CutPrefix(s.out.Text(), "listening ")
		n, perr := strconv.Atoi(port)
		if !ok || perr != nil {
			started <- fmt.Errorf("%s server: unexpected first line %q", name, s.out.Text())
			return
		}
		s.port = n
		started <- nil
	}()
	select {
	case err = <-started:
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("%s server did not listen within 30 s", name)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *goServer) URL(identity string) string {
	return "ws://127.0.0.1:" + strconv.Itoa(s.port) + "/ocpp/" + identity
}

func (s *goServer) PID() int { return s.cmd.Process.Pid }

// command sends one command line to the server process and decodes its
// one-line JSON answer into reply.
func (s *goServer) command(line string, reply any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		return fmt.Errorf("%s server: %s: %w", s.name, line, err)
	}
	if !s.out.Scan() {
		return fmt.Errorf("%s server: %s: no answer; the process has exited (%v)", s.name, line, s.out.Err())
	}
	var e struct{ Error string }
	if json.Unmarshal(s.out.Bytes(), &e) == nil && e.Error != "" {
		return fmt.Errorf("%s server: %s: %s", s.name, line, e.Error)
	}
	return json.Unmarshal(s.out.Bytes(), reply)
}

func (s *goServer) Connected(context.Context) (int, error) {
	var r struct{ Conns int }
	err := s.command("conns", &r)
	return r.Conns, err
}

// goMem returns the server's Go runtime memory, after a full GC if gc.
func (s *goServer) goMem(gc bool) (goMem, error) {
	var m goMem
	line := "memstats"
	if gc {
		line = "memstats-gc"
	}
	err := s.command(line, &m)
	return m, err
}

// gcStats reads the server's allocation and GC counters.
func (s *goServer) gcStats() (gcStats, error) {
	var g gcStats
	err := s.command("gcstats", &g)
	return g, err
}

// heapProfile makes the server write a pprof heap profile to path.
func (s *goServer) heapProfile(path string) error {
	var ok struct{}
	return s.command("heapprofile "+path, &ok)
}

// cpuProfile starts (path != "") or stops (path == "") a CPU profile of the server.
func (s *goServer) cpuProfile(path string) error {
	var ok struct{}
	if path == "" {
		return s.command("cpuprofile-stop", &ok)
	}
	return s.command("cpuprofile "+path, &ok)
}

// Close ends the server (closing stdin tells it to) and waits for it.
func (s *goServer) Close() error {
	s.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		return <-done
	}
}

// peerServer is the independent implementation: an ocpp-rpc RPCServer in
// node, in strict mode like ours, with its per-connection events silenced.
type peerServer struct{ *peer.Server }

func startPeer(ctx context.Context, protocol string, ping time.Duration) (*peerServer, error) {
	if err := peer.NodeAvailable(); err != nil {
		return nil, fmt.Errorf("the ocpp-rpc server cannot start: %w (or measure openev alone with -servers %s)", err, openevName)
	}
	s, err := peer.StartServer(ctx, peer.ServerOptions{Quiet: true, Protocols: []string{protocol}, PingInterval: ping})
	if err != nil {
		return nil, fmt.Errorf("ocpp-rpc server: %w", err)
	}
	return &peerServer{s}, nil
}

func (s *peerServer) URL(identity string) string { return s.Server.URL() + "/ocpp/" + identity }

func (s *peerServer) Connected(ctx context.Context) (int, error) {
	st, err := s.Stats(ctx)
	return st.Connected, err
}
