//go:build !unix

package ocpp

import (
	"net"

	"github.com/lesismal/nbio"
)

// nbioConn hands tcp to nbio (which serves it with a goroutine of its own
// outside unix).
func nbioConn(tcp *net.TCPConn) (*nbio.Conn, error) { return nbio.NBConn(tcp) }

func nbioShutdown(nbc *nbio.Conn) error { return nbc.Close() }
