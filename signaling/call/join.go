package call

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/noomrtc/noom/signaling"
)

type joinRequest struct {
	Room     string `json:"room"`
	Name     string `json:"name"`
	Passcode string `json:"passcode"`
	Unlisted bool   `json:"unlisted"`
}

// refusals are the messages of the registry's refusals.
var refusals = map[string]string{
	CodeBadPasscode: "this room needs its passcode",
	CodeRoomFull:    "the room is full",
	CodeNameTaken:   "someone in this room has that name: pick another",
	CodeRateLimited: "too many joins: wait a moment",
}

func (p *peer) roomLocked(name string) *joined {
	for _, j := range p.rooms {
		if j.room == name {
			return j
		}
	}
	return nil
}

func (svc *Service) join(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req joinRequest
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	if !validText(req.Room, MaxRoomNameLen) {
		return nil, errorf(CodeBadRequest, "room: 1 to 64 printable characters")
	}
	if !validText(req.Name, MaxNameLen) {
		return nil, errorf(CodeBadRequest, "name: 1 to 32 printable characters")
	}
	if req.Passcode != "" && !validText(req.Passcode, MaxPasscodeLen) {
		return nil, errorf(CodeBadRequest, "passcode: 1 to 64 printable characters")
	}
	if e := svc.roomNameFree(req.Room); e != nil {
		return nil, e
	}
	now := time.Now()
	svc.mu.Lock()
	j, e := svc.admitLocked(p, req.Room)
	svc.mu.Unlock()
	if e != nil {
		return nil, e
	}
	if j != nil {
		return svc.rejoin(p, j)
	}
	res, err := svc.decide(p, req, now)
	if res.Code != "" || err != nil {
		svc.mu.Lock()
		p.joining = false
		svc.mu.Unlock()
	}
	if err != nil {
		return nil, errorf(CodeUnavailable, "the room registry did not answer: try again")
	}
	if res.Code != "" {
		return nil, svc.refused(p, res, now)
	}
	// The join limits were checked as the registry decided; take them now.
	p.joins.allow(now)
	p.client.joins.allow(now)
	if res.Created {
		p.client.creates.allow(now)
	}
	j = &joined{room: req.Room, name: req.Name, passcode: res.Passcode, listed: res.Listed}
	svc.mu.Lock()
	p.joining = false
	gone := p.gone
	if !gone {
		svc.addLocked(p, j)
	}
	svc.mu.Unlock()
	if gone {
		svc.forget(p.id, j)
		return nil, errorf(CodeUnavailable, "disconnecting")
	}
	if j.listed {
		svc.changed()
	}
	if err := s.Join(req.Room); err != nil {
		svc.mu.Lock()
		if p.roomLocked(j.room) == j {
			svc.removeLocked(p, j)
		}
		svc.mu.Unlock()
		svc.forget(p.id, j)
		if errors.Is(err, signaling.ErrTooManyRooms) {
			return nil, errorf(CodeTooManyRooms, err.Error())
		}
		return nil, errorf(CodeUnavailable, err.Error())
	}
	s.To(req.Room).Emit("peer-joined", Member{ID: p.id, Name: req.Name})
	svc.metrics.joins["ok"].Inc()
	return svc.joinAck(p, j, res.Peers), nil
}

// roomNameFree refuses a room name that is a socket's id: the socket's
// own hub room would receive the call room's events. A name of the shape
// of an id is looked for on every node.
func (svc *Service) roomNameFree(room string) *Error {
	taken := svc.nsp.Socket(room) != nil
	if !taken && socketIDShaped(room) {
		ctx, cancel := regCtx()
		defer cancel()
		socks, err := svc.nsp.In(room).FetchSockets(ctx)
		if err != nil {
			return errorf(CodeUnavailable, "could not check the room name: try again")
		}
		taken = slices.ContainsFunc(socks, func(s *signaling.RemoteSocket) bool { return s.ID == room })
	}
	if taken {
		return errorf(CodeBadRequest, "room: that name is taken")
	}
	return nil
}

// socketIDShaped tells whether name could be a socket id: 20 characters
// of unpadded base64url.
func socketIDShaped(name string) bool {
	if len(name) != 20 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// admitLocked returns the room when p is in it already, or holds a room
// slot for a join the registry will decide (p.joining), or tells why not.
func (svc *Service) admitLocked(p *peer, room string) (*joined, *Error) {
	if p.gone {
		return nil, errorf(CodeUnavailable, "disconnecting")
	}
	if j := p.roomLocked(room); j != nil {
		return j, nil
	}
	if p.joining {
		return nil, errorf(CodeUnavailable, "another join is being decided")
	}
	if len(p.rooms) >= svc.cfg.MaxRoomsPerSocket {
		return nil, errorf(CodeTooManyRooms, "in too many rooms: leave one first")
	}
	p.joining = true
	return nil, nil
}

// decide asks the registry. The rate limits are read here and taken only
// if the join succeeds, so two sockets of one IP joining at the same
// moment may both pass the last token: the limits are rates, not quotas.
func (svc *Service) decide(p *peer, req joinRequest, now time.Time) (JoinResult, error) {
	ctx, cancel := regCtx()
	defer cancel()
	return svc.reg.Join(ctx, JoinRequest{
		Room: req.Room, SID: p.id, Name: req.Name, Passcode: req.Passcode,
		Listed: !svc.cfg.HideRoomList && !req.Unlisted && !IsMeetingCode(req.Room),
		Cap:    svc.cfg.MaxRoomSize,

		SpentPasscodes: !p.client.passcodes.has(now),
		SpentJoins:     !p.joins.has(now) || !p.client.joins.has(now),
		SpentCreates:   !p.client.creates.has(now),
	})
}

// refused counts a refused join and words its error.
func (svc *Service) refused(p *peer, res JoinResult, now time.Time) *Error {
	msg := refusals[res.Code]
	switch {
	case res.Code == CodeBadPasscode:
		p.client.passcodes.allow(now)
	case res.Code == CodeRateLimited && res.Passcode && !p.client.passcodes.has(now):
		msg = "too many wrong passcodes: wait a minute"
	}
	if c, ok := svc.metrics.joins[res.Code]; ok {
		c.Inc()
	}
	return errorf(res.Code, msg)
}

// rejoin answers a join of a room p is in: nothing changes.
func (svc *Service) rejoin(p *peer, j *joined) (map[string]any, *Error) {
	ctx, cancel := regCtx()
	defer cancel()
	members, err := svc.reg.Members(ctx, j.room)
	if err != nil {
		return nil, errorf(CodeUnavailable, "the room registry did not answer: try again")
	}
	return svc.joinAck(p, j, slices.DeleteFunc(members, func(m Member) bool { return m.ID == p.id })), nil
}

func (svc *Service) joinAck(p *peer, j *joined, peers []Member) map[string]any {
	if peers == nil {
		peers = []Member{}
	}
	return map[string]any{
		"id": p.id, "room": j.room, "name": j.name, "peers": peers,
		"passcode": j.passcode, "listed": j.listed,
		"iceServers": svc.iceFor(p),
	}
}

// addLocked records that p is in j.room.
func (svc *Service) addLocked(p *peer, j *joined) {
	p.rooms = append(p.rooms, j)
	svc.local[j.room]++
	svc.participants++
}

// removeLocked records that p left j.room.
func (svc *Service) removeLocked(p *peer, j *joined) {
	p.rooms = slices.DeleteFunc(p.rooms, func(x *joined) bool { return x == j })
	if svc.local[j.room]--; svc.local[j.room] <= 0 {
		delete(svc.local, j.room)
	}
	svc.participants--
}

// forget takes sid out of j.room in the registry.
func (svc *Service) forget(sid string, j *joined) {
	ctx, cancel := regCtx()
	defer cancel()
	if err := svc.reg.Leave(ctx, j.room, sid); err != nil {
		svc.cfg.Logger.Warn("call: the room registry did not record a leave", "err", err)
	}
	if j.listed {
		svc.changed()
	}
}

func (svc *Service) leave(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req struct{ Room string }
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	svc.mu.Lock()
	j := p.roomLocked(req.Room)
	if j != nil {
		svc.removeLocked(p, j)
	}
	svc.mu.Unlock()
	if j == nil {
		return nil, errorf(CodeNotInRoom, "not in that room")
	}
	svc.forget(p.id, j)
	s.Leave(req.Room)
	s.To(req.Room).Emit("peer-left", map[string]any{"id": p.id})
	return nil, nil
}

// disconnecting forgets the socket: its rooms (telling them), its
// subscription, its stats. O(its rooms).
func (svc *Service) disconnecting(p *peer) {
	svc.mu.Lock()
	p.gone = true
	rooms := slices.Clone(p.rooms)
	for _, j := range rooms {
		svc.removeLocked(p, j)
	}
	if p.subscribed {
		p.subscribed = false
		svc.metrics.subscribers.Dec()
	}
	delete(svc.peers, p.id)
	p.client.sockets--
	svc.mu.Unlock()
	for _, j := range rooms {
		svc.forget(p.id, j)
		p.sock.To(j.room).Emit("peer-left", map[string]any{"id": p.id})
	}
}
