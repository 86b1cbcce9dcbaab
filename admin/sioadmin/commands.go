package sioadmin

import (
	"errors"
	"fmt"

	"github.com/noomrtc/noom/signaling"
)

// Commands of the Admin UI.
const (
	cmdJoin       = "join"
	cmdLeave      = "leave"
	cmdDisconnect = "_disconnect"
	cmdEmit       = "emit"
)

var errBadCommand = errors.New("sioadmin: malformed command")

// command is a parsed Admin UI command.
type command struct {
	name   string
	nsp    string
	room   string // join, leave
	close  bool   // _disconnect: close the whole connection
	filter string // a room or socket id; "" for the whole namespace
	event  string // emit
	args   []any  // emit
}

// parseCommand reads a command's arguments as the UI sends them:
//
//	join        nsp, room, filter?
//	leave       nsp, room, filter?
//	_disconnect nsp, close, filter?
//	emit        nsp, filter, event, ...args
//
// filter may be absent, null or a string.
func parseCommand(name string, args []any) (command, error) {
	c := command{name: name}
	str := func(i int, dst *string, optional bool) error {
		if i >= len(args) {
			if optional {
				return nil
			}
			return fmt.Errorf("%w: %s: argument %d missing", errBadCommand, name, i+1)
		}
		var p *string
		if err := signaling.Decode(args[i], &p); err != nil || (p == nil && !optional) {
			return fmt.Errorf("%w: %s: argument %d is not a string", errBadCommand, name, i+1)
		}
		if p != nil {
			*dst = *p
		}
		return nil
	}
	var err error
	switch name {
	case cmdJoin, cmdLeave:
		err = errors.Join(str(0, &c.nsp, false), str(1, &c.room, false), str(2, &c.filter, true))
		if err == nil && c.room == "" {
			err = fmt.Errorf("%w: %s: empty room", errBadCommand, name)
		}
	case cmdDisconnect:
		err = str(0, &c.nsp, false)
		if err == nil {
			if len(args) < 2 || signaling.Decode(args[1], &c.close) != nil {
				err = fmt.Errorf("%w: %s: argument 2 is not a boolean", errBadCommand, name)
			}
		}
		err = errors.Join(err, str(2, &c.filter, true))
	case cmdEmit:
		err = errors.Join(str(0, &c.nsp, false), str(1, &c.filter, true), str(2, &c.event, false))
		if len(args) > 3 {
			c.args = args[3:]
		}
	default:
		err = fmt.Errorf("%w: unknown command %q", errBadCommand, name)
	}
	if err != nil {
		return command{}, err
	}
	return c, nil
}

// registerCommands registers the commands on an admin socket.
func (a *Admin) registerCommands(s *signaling.Socket) {
	for _, name := range []string{cmdJoin, cmdLeave, cmdDisconnect, cmdEmit} {
		label := name
		if name == cmdDisconnect {
			label = "disconnect"
		}
		s.On(name, func(args []any, _ signaling.Ack) {
			err := a.run(name, args)
			result := "ok"
			if err != nil {
				result = "invalid"
				a.cfg.Logger.Debug("sioadmin: command refused", "command", name, "admin", s.ID(), "err", err)
			} else {
				a.cfg.Logger.Info("sioadmin: command", "command", name, "admin", s.ID(), "addr", a.cfg.ClientIP(s.Handshake()))
			}
			a.m.commands.WithLabelValues(label, result).Inc()
		})
	}
}

// run parses and carries out a command on every node the namespace spans.
// It never creates a namespace.
func (a *Admin) run(name string, args []any) error {
	c, err := parseCommand(name, args)
	if err != nil {
		return err
	}
	n := a.srv.Lookup(c.nsp)
	if n == nil {
		return fmt.Errorf("%w: no namespace %q", errBadCommand, c.nsp)
	}
	op := n.Except() // the whole namespace
	if c.filter != "" {
		op = n.In(c.filter)
	}
	switch c.name {
	case cmdJoin:
		return op.SocketsJoin(c.room)
	case cmdLeave:
		return op.SocketsLeave(c.room)
	case cmdDisconnect:
		return op.DisconnectSockets(c.close)
	default:
		return op.Emit(c.event, c.args...)
	}
}
