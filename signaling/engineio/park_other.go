//go:build !linux

package engineio

// parker is Linux only (epoll): elsewhere an idle connection keeps its
// parked reader goroutine.
type parker struct{}

func newParker() *parker                            { return nil }
func (p *parker) park(s *Conn, rd *wsReader) bool   { return false }
func (p *parker) unpark(s *Conn, rd *wsReader) bool { return false }
func (p *parker) isParked(rd *wsReader) bool        { return false }
func (p *parker) count() int64                      { return 0 }
func (p *parker) close()                            {}
