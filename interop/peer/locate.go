package peer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// NodeDirEnv overrides where interop/node (peer.js and its node_modules) is.
const NodeDirEnv = "OPENEV_INTEROP_NODE_DIR"

const setupHint = "run `bash scripts/setup-node.sh` from the repository root"

// nodeDir is interop/node, found next to this source file so that tests of any
// package, run from any directory, find the same peer.
func nodeDir() (string, error) {
	if dir := os.Getenv(NodeDirEnv); dir != "" {
		return dir, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("peer: cannot locate interop/node; set %s", NodeDirEnv)
	}
	return filepath.Join(filepath.Dir(file), "..", "node"), nil
}

// NodeAvailable reports why peers cannot be started, or nil if they can:
// node must be in PATH and ocpp-rpc installed in interop/node/node_modules.
func NodeAvailable() error {
	_, _, err := locate()
	return err
}

// locate returns the node binary and the peer.js script.
func locate() (node, script string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("peer: node not found in PATH (%v); %s", err, setupHint)
	}
	dir, err := nodeDir()
	if err != nil {
		return "", "", err
	}
	for _, f := range []string{"peer.js", "node_modules/ocpp-rpc/package.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", "", fmt.Errorf("peer: %s missing in %s; %s", f, dir, setupHint)
		}
	}
	return node, filepath.Join(dir, "peer.js"), nil
}

// Require makes a test that needs peers skip when they are unavailable on a
// developer machine, but fail under CI (CI set to anything but "" or "false"),
// where a missing peer is a broken setup rather than an optional extra.
func Require(t testing.TB) {
	t.Helper()
	err := NodeAvailable()
	if err == nil {
		return
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" {
		t.Fatalf("interop peer unavailable under CI: %v", err)
	}
	t.Skipf("interop peer unavailable: %v", err)
}

// ErrExited is wrapped by every error caused by the peer process being gone.
var ErrExited = errors.New("peer: node process exited")
