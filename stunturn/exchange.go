package stunturn

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/pion/stun/v3"
)

// inflight follows the request that pion is handling on one socket or
// connection, to count it by result. pion handles the messages of a reader
// one at a time: it reads, answers (or not), then reads again. So the
// request returned by the last read is answered by the next response
// written with its transaction ID, and is unanswered if the reader comes
// back first.
//
// mu guards the fields: the reader sets them, and writers (the reader's
// goroutine for responses, allocation goroutines for relayed data) look.
type inflight struct {
	mu     sync.Mutex
	active bool
	txID   [stun.TransactionIDSize]byte
	method reqMethod
	src    net.Addr // the client, for the quota settlement of Allocate
	dst    net.Addr // the server address it reached
	cached bool     // the gate put a key for src in Server.keys
}

// begin notes that pion is about to handle the request v from src to dst,
// and leaves the key the gate derived for pion's AuthHandler.
func (s *Server) begin(f *inflight, v *verdict, src, dst net.Addr) {
	if v.key != nil {
		s.keys.put(srcKeyOf(src), *v.key)
	}
	f.mu.Lock()
	f.active, f.txID, f.method, f.src, f.dst, f.cached = true, v.txID, v.method, src, dst, v.key != nil
	f.mu.Unlock()
}

// end clears f; the caller holds f.mu.
func (s *Server) endLocked(f *inflight) {
	if f.cached {
		s.keys.drop(srcKeyOf(f.src))
	}
	f.active, f.src, f.dst, f.cached = false, nil, nil, false
}

// finish closes the accounts of the request pion was handling, if its
// answer was never written: pion dropped it.
func (s *Server) finish(f *inflight, tr transport) {
	f.mu.Lock()
	active, method, src := f.active, f.method, f.src
	if active {
		s.endLocked(f)
	}
	f.mu.Unlock()
	if !active {
		return
	}
	s.m.requests[tr][method][resultDropped].Inc()
	if method == methodAllocate {
		s.st.settle(srcKeyOf(src))
	}
}

// observeWrite looks at a message pion writes to a client. A STUN
// response (success class 0b10, error 0b11: bits 0x0100 and 0x0010 of the
// type) that answers the request in flight is counted.
func (s *Server) observeWrite(f *inflight, b []byte, tr transport) {
	if len(b) < stunHeaderSize || b[0]&0xC0 != 0 || binary.BigEndian.Uint16(b[0:2])&0x0100 == 0 {
		return // ChannelData, an indication (Data) or a request
	}
	isError := binary.BigEndian.Uint16(b[0:2])&0x0010 != 0
	f.mu.Lock()
	match := f.active && string(f.txID[:]) == string(b[8:stunHeaderSize])
	method, src, dst := f.method, f.src, f.dst
	if match {
		s.endLocked(f)
	}
	f.mu.Unlock()
	if !match {
		return
	}
	result := resultSuccess
	if isError {
		result = resultError
	}
	s.m.requests[tr][method][result].Inc()
	if method == methodRefresh && !isError {
		// A Refresh to LIFETIME 0 deleted the allocation: no record left.
		s.notifyAllocation(keyOf(src, dst), func(o *Observer) func(AllocationInfo) { return o.AllocationRefreshed })
	}
	if method != methodAllocate {
		return
	}
	s.st.settle(srcKeyOf(src)) // after creation (which took the slot) or failure
	if isError {
		if r, ok := allocFailureOf(b); ok {
			s.m.allocFailures[r].Inc()
		}
	}
}

// allocFailureOf maps the error code of pion's error response to an
// Allocate onto a failure reason. 401 (the challenge every client meets
// first) and 438 (stale nonce, retried at once) are no failures; the gate
// counts its own 401s.
func allocFailureOf(b []byte) (allocFailure, bool) {
	var m stun.Message
	m.Raw = append([]byte(nil), b...)
	var code stun.ErrorCodeAttribute
	if m.Decode() != nil || code.GetFrom(&m) != nil {
		return allocFailOther, true
	}
	switch code.Code {
	case stun.CodeUnauthorized, stun.CodeStaleNonce:
		return 0, false
	case stun.CodeAllocQuotaReached:
		return allocFailQuota, true
	case stun.CodeInsufficientCapacity:
		return allocFailCapacity, true
	case stun.CodeAllocMismatch:
		return allocFailMismatch, true
	case stun.CodeBadRequest:
		return allocFailBadRequest, true
	case stun.CodeUnsupportedTransProto:
		return allocFailUnsupportedTransport, true
	case stun.CodeAddrFamilyNotSupported:
		return allocFailAddressFamily, true
	case stun.CodeUnknownAttribute:
		return allocFailUnknownAttribute, true
	}
	return allocFailOther, true
}

// countReply counts a request that the gate answered itself.
func (s *Server) countReply(v *verdict, tr transport) {
	if v.request {
		s.m.requests[tr][v.method][resultError].Inc()
	}
}
