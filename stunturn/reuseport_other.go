//go:build !linux

package stunturn

import "syscall"

// reusePort is not used off Linux: one UDP socket reads the port.
func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
