package stunturn

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"
)

// The gate looks at every STUN message from a client before pion does. It
// does what pion v4 does wrongly or not at all, from outside (doc.go lists
// these): it checks credentials and answers 401 to bad ones (pion: 400),
// refuses forbidden peers with 403 (pion: no ERROR-CODE, or 401), answers
// 437 to requests without an allocation (pion: silence), 442 to TCP relay
// requests (pion: a UDP relay) and 440 to IPv6 relay requests (pion: an
// IPv4 relay), and holds permissions and channels per allocation to
// MaxPermissions. It also feeds the request and auth metrics.

const (
	stunHeaderSize   = 20
	protoUDP         = 17
	familyIPv6       = 0x02
	attrReqAddrFam   = stun.AttrRequestedAddressFamily
	attrReqTransport = stun.AttrRequestedTransport
)

var errBadPeer = errors.New("stunturn: bad XOR-PEER-ADDRESS")

// verdict is what the gate decided about one message.
type verdict struct {
	reply   []byte // send this to the client and drop the message
	drop    bool   // drop the message silently
	request bool   // a STUN request that pion will answer (or not)
	method  reqMethod
	txID    [stun.TransactionIDSize]byte
	key     *cachedKey // the credential's key, for pion's AuthHandler
}

// gateScratch is the per-reader memory of the gate, so that inspecting a
// message does not allocate. Only the reading goroutine uses it.
type gateScratch struct {
	msg stun.Message
}

func methodOf(m stun.Method) reqMethod {
	switch m {
	case stun.MethodBinding:
		return methodBinding
	case stun.MethodAllocate:
		return methodAllocate
	case stun.MethodRefresh:
		return methodRefresh
	case stun.MethodCreatePermission:
		return methodCreatePermission
	case stun.MethodChannelBind:
		return methodChannelBind
	}
	return methodOther
}

// inspect judges one message b that src sent to local over tr.
func (s *Server) inspect(b []byte, src, local net.Addr, tr transport, sc *gateScratch) verdict {
	var v verdict
	if len(b) < stunHeaderSize || b[0]&0xC0 != 0 || !stun.IsMessage(b) {
		return v // ChannelData, or something pion will drop
	}
	var mt stun.MessageType
	mt.ReadValue(binary.BigEndian.Uint16(b[0:2]))
	copy(v.txID[:], b[8:stunHeaderSize])

	switch {
	case mt.Class == stun.ClassRequest:
		v.request = true
		v.method = methodOf(mt.Method)
		switch v.method {
		case methodBinding, methodOther:
			return v
		}
	case mt.Class == stun.ClassIndication && mt.Method == stun.MethodSend:
		return s.inspectSend(b, src, local, sc)
	default:
		return v
	}

	// A TURN request. Let pion answer what it answers right: no
	// MESSAGE-INTEGRITY (401 with a nonce), a missing USERNAME, REALM or
	// NONCE (400), a message it cannot decode (silence).
	m := &sc.msg
	m.Raw = append(m.Raw[:0], b...)
	if m.Decode() != nil || !m.Contains(stun.AttrMessageIntegrity) {
		return v
	}
	var username stun.Username
	var realm stun.Realm
	var nonce stun.Nonce
	if username.GetFrom(m) != nil || realm.GetFrom(m) != nil || nonce.GetFrom(m) != nil {
		return v
	}

	user, key, res := s.authenticate(m, username.String(), realm.String())
	s.m.auth[res].Inc()
	if res != authOK {
		if v.method == methodAllocate {
			s.m.allocFailures[allocFailAuth].Inc()
		}
		s.authFailed(user, username.String(), src, tr, v.method, authReasonNames[res])
		// RFC 8489 §9.2.4: 401 with REALM and NONCE. The client's own
		// nonce goes back: pion's nonces are pion's to mint, and a client
		// with wrong credentials gains nothing from a fresh one.
		v.reply = s.errorReply(m, stun.CodeUnauthorized, nil, stun.NewRealm(s.cfg.Realm), nonce)
		return v
	}
	integrity := stun.MessageIntegrity(key)
	fail := func(code stun.ErrorCode, extra ...stun.Setter) verdict {
		v.reply = s.errorReply(m, code, integrity, extra...)
		return v
	}
	absent := func() verdict {
		s.authFailed(user, username.String(), src, tr, v.method, AuthAbsent)
		return fail(stun.CodeForbidden)
	}
	// pion asks for the key next: it is derived already.
	v.key = &cachedKey{username: username.String(), realm: realm.String(), key: key}

	switch v.method {
	case methodAllocate:
		if a, err := m.Get(attrReqTransport); err == nil && len(a) == 4 && a[0] != protoUDP {
			s.m.allocFailures[allocFailUnsupportedTransport].Inc()
			return fail(stun.CodeUnsupportedTransProto)
		}
		if a, err := m.Get(attrReqAddrFam); err == nil && len(a) == 4 && a[0] == familyIPv6 {
			s.m.allocFailures[allocFailAddressFamily].Inc()
			return fail(stun.CodeAddrFamilyNotSupported)
		}
		if s.presence != nil && !s.presence.allocate(user) {
			s.m.allocFailures[allocFailPresence].Inc()
			return absent()
		}
		return v

	case methodRefresh:
		if a, _ := s.st.lookup(keyOf(src, local)); a == nil {
			return fail(stun.CodeAllocMismatch)
		}
		// Deallocating (LIFETIME 0) is always allowed.
		if lt, err := m.Get(stun.AttrLifetime); (err != nil || len(lt) != 4 || binary.BigEndian.Uint32(lt) != 0) &&
			s.presence != nil && !s.presence.use(user) {
			return absent()
		}
		return v
	}

	// CreatePermission or ChannelBind.
	a, channels := s.st.lookup(keyOf(src, local))
	if a == nil {
		return fail(stun.CodeAllocMismatch)
	}
	if s.presence != nil && !s.presence.use(user) {
		return absent()
	}
	var peers []netip.Addr
	bad := false
	_ = m.ForEach(stun.AttrXORPeerAddress, func(m *stun.Message) error {
		var pa stun.XORMappedAddress
		if err := pa.GetFromAs(m, stun.AttrXORPeerAddress); err != nil {
			bad = true
			return err
		}
		ip, ok := netip.AddrFromSlice(pa.IP)
		if !ok {
			bad = true
			return errBadPeer
		}
		peers = append(peers, ip.Unmap())
		return nil
	})
	if bad || len(peers) == 0 {
		return v // pion answers 400 (or an error response without a code)
	}
	for _, ip := range peers {
		if r := s.filter.check(ip); r != denyNone {
			s.peerDenied(a.user, a.key.src, ip, r)
			if r == denyFamily {
				return fail(stun.CodePeerAddrFamilyMismatch)
			}
			return fail(stun.CodeForbidden)
		}
	}

	// Limits. Refreshing what exists is always allowed.
	added := 0
	seen := make(map[netip.Addr]bool, len(peers))
	for _, ip := range peers {
		if !a.permitted(ip) && !seen[ip] {
			added++
		}
		seen[ip] = true
	}
	if added > 0 && len(*a.perms.Load())+added > s.cfg.MaxPermissions {
		s.peerDenied(a.user, a.key.src, peers[0], denyPermissions)
		return fail(stun.CodeInsufficientCapacity)
	}
	if v.method == methodChannelBind {
		if num, err := m.Get(stun.AttrChannelNumber); err == nil && len(num) >= 2 {
			if _, ok := channels[binary.BigEndian.Uint16(num)]; !ok && len(channels) >= s.cfg.MaxPermissions {
				s.peerDenied(a.user, a.key.src, peers[0], denyPermissions)
				return fail(stun.CodeInsufficientCapacity)
			}
		}
	}
	return v
}

// inspectSend drops Send indications to peers that the filter refuses.
// pion would drop them too, for want of a permission; this counts them.
func (s *Server) inspectSend(b []byte, src, local net.Addr, sc *gateScratch) verdict {
	m := &sc.msg
	m.Raw = append(m.Raw[:0], b...)
	if m.Decode() != nil {
		return verdict{}
	}
	var pa stun.XORMappedAddress
	if pa.GetFromAs(m, stun.AttrXORPeerAddress) != nil {
		return verdict{}
	}
	ip, ok := netip.AddrFromSlice(pa.IP)
	if !ok {
		return verdict{}
	}
	ip = ip.Unmap()
	if r := s.filter.check(ip); r != denyNone {
		user := ""
		if s.observed() {
			if a, _ := s.st.lookup(keyOf(src, local)); a != nil {
				user = a.user
			}
		}
		s.peerDenied(user, addrPort(src), ip, r)
		return verdict{drop: true}
	}
	return verdict{}
}

// peerDenied counts a refused peer and tells the observers.
func (s *Server) peerDenied(user string, client netip.AddrPort, peer netip.Addr, r denyReason) {
	s.m.peersDenied[r].Inc()
	s.notifyPeerDenied(func() PeerDeniedEvent {
		return PeerDeniedEvent{User: user, Client: client, Peer: peer, Reason: string(r), Time: time.Now()}
	})
}

// authFailed tells the observers of a refused request.
func (s *Server) authFailed(user, username string, src net.Addr, tr transport, method reqMethod, reason string) {
	s.notifyAuthFailed(func() AuthEvent {
		return AuthEvent{
			User: user, Username: username, Client: addrPort(src), Transport: tr.String(),
			Method: methodNames[method], Reason: reason, Time: time.Now(),
		}
	})
}

// errorReply builds an error response to request m, with
// MESSAGE-INTEGRITY when integrity is not nil.
func (s *Server) errorReply(m *stun.Message, code stun.ErrorCode, integrity stun.MessageIntegrity, extra ...stun.Setter) []byte {
	setters := make([]stun.Setter, 0, 4+len(extra))
	setters = append(setters,
		stun.NewTransactionIDSetter(m.TransactionID),
		stun.NewType(m.Type.Method, stun.ClassErrorResponse),
		code,
	)
	setters = append(setters, extra...)
	if integrity != nil {
		setters = append(setters, integrity)
	}
	out, err := stun.Build(setters...)
	if err != nil {
		s.log.Warn("stunturn: building an error response failed", "err", err)
		return nil
	}
	return out.Raw
}
