//go:build unix

package ocpp

import (
	"net"
	"syscall"

	"github.com/lesismal/nbio"
)

// nbioConn moves tcp to a descriptor of nbio's own (a dup; tcp is closed).
// The dup is made close-on-exec under ForkLock, as the net package does for
// its sockets: a child process must not inherit a station's socket, which
// would keep it open, and keep it registered in nbio's epoll after nbio
// closed it (whose events would then hit the next connection given that
// descriptor number).
func nbioConn(tcp *net.TCPConn) (*nbio.Conn, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nbc, err := nbio.NBConn(tcp)
	if err != nil {
		return nil, err
	}
	rc, _ := nbc.SyscallConn()
	rc.Control(func(fd uintptr) { syscall.CloseOnExec(int(fd)) })
	return nbc, nil
}

// nbioShutdown ends the connection without closing its descriptor: the
// poller sees the end and closes it. nbio finds connections by descriptor
// number, and an event it has already taken from epoll for a descriptor
// closed meanwhile on another goroutine would hit the next connection given
// that number (a fresh station closed at once); closes made on the poller
// cannot race with its own events. Data already in the socket (our close
// frame) is still sent, before the FIN.
func nbioShutdown(nbc *nbio.Conn) error {
	nbc.Lock()
	defer nbc.Unlock()
	if closed, _ := nbc.IsClosed(); closed {
		return nil
	}
	var err error
	rc, _ := nbc.SyscallConn()
	rc.Control(func(fd uintptr) { err = syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
	return err
}
