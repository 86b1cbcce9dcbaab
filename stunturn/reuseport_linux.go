package stunturn

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort is a net.ListenConfig.Control that sets SO_REUSEPORT, so that
// several UDP sockets share one port and the kernel spreads clients over
// them by address hash.
func reusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
