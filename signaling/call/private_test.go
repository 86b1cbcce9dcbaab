package call_test

import (
	"strings"
	"testing"

	"github.com/noomrtc/noom/signaling/call"
)

// TestUnlistedRooms is finding 7 of issue 11 (every room was public): a
// meeting code, a join with unlisted: true, and every room when the list is
// hidden stay out of the list.
func TestUnlistedRooms(t *testing.T) {
	e := newEnv(t, call.Config{})
	home, a, b := e.dial(), e.dial(), e.dial()
	list := subscribe(t, home)
	code := "abcdefghijklmnopqrstuvwxyz"[:call.MeetingCodeLen-4] + "2345"
	if !call.IsMeetingCode(code) || call.IsMeetingCode(strings.ToUpper(code)) || call.IsMeetingCode(code[1:]) {
		t.Fatalf("IsMeetingCode(%q) is wrong", code)
	}
	if got := join(t, a, code, "A"); got.Listed {
		t.Errorf("a meeting code room is listed: %+v", got)
	}
	if got := mustOK(t, do(t, b, "join", map[string]any{"room": "secret plans", "name": "B", "unlisted": true})); got.Listed {
		t.Errorf("an unlisted room is listed: %+v", got)
	}
	// Only the listed room ever shows; pushes are in order, so once it is
	// there the others had their chance.
	if got := join(t, a, "lobby", "A"); !got.Listed {
		t.Errorf("a plain room is not listed: %+v", got)
	}
	list.waitFor(t, home, "lobby", func() bool { return list.rooms["lobby"] == 1 })
	if len(list.rooms) != 1 || list.total != 1 {
		t.Fatalf("list %v, total %d: only lobby should show", list.rooms, list.total)
	}
	// Joining the unlisted room later, without the flag, keeps it unlisted.
	if got := join(t, home, "secret plans", "H"); got.Listed {
		t.Errorf("second join made the room listed")
	}
	r := mustOK(t, do(t, home, "rooms", map[string]any{}))
	if len(r.Rooms) != 1 || r.Rooms[0].Name != "lobby" {
		t.Errorf("rooms %+v", r.Rooms)
	}
	if got := gauge(t, e.reg, "noom_call_rooms"); got != 3 {
		t.Errorf("noom_call_rooms = %v, want 3 (listed or not)", got)
	}
}

// TestHiddenRoomList: with HideRoomList, the list is unavailable, no room
// is listed, and rooms work as before.
func TestHiddenRoomList(t *testing.T) {
	e := newEnv(t, call.Config{HideRoomList: true})
	a := e.dial()
	mustFail(t, do(t, a, "rooms", map[string]any{}), call.CodeUnavailable)
	mustFail(t, do(t, a, "rooms:subscribe", map[string]any{}), call.CodeUnavailable)
	if got := join(t, a, "standup", "A"); got.Listed {
		t.Errorf("listed with HideRoomList: %+v", got)
	}
	if rooms := e.svc.Rooms(); len(rooms) != 0 {
		t.Errorf("Rooms() = %v", rooms)
	}
	if got := testutilCounter(t, e, "noom_call_errors_total", call.CodeUnavailable); got != 2 {
		t.Errorf("errors_total{code=unavailable} = %v, want 2", got)
	}
}

func testutilCounter(t *testing.T, e *env, name, label string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == name && len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return 0
}

// TestPasscode: the creator sets it; a join without it or with a wrong one
// gets bad_passcode, too many wrong ones from one IP get rate_limited
// (even with the right one), and the right one gets in.
func TestPasscode(t *testing.T) {
	e := newEnv(t, call.Config{PasscodeFailureBurst: 3, PasscodeFailuresPerMinute: 0.001})
	owner, guest, guesser := e.dial(), e.dial(), e.dial()
	a := mustOK(t, do(t, owner, "join", map[string]any{"room": "board", "name": "Owner", "passcode": "correct horse"}))
	if !a.Passcode {
		t.Fatalf("ack does not say the room has a passcode: %+v", a)
	}
	mustOK(t, do(t, guest, "join", map[string]any{"room": "board", "name": "Guest", "passcode": "correct horse"}))
	if _, err := owner.Next(ctx(t), "peer-joined"); err != nil {
		t.Fatal(err)
	}
	mustFail(t, do(t, guesser, "join", map[string]any{"room": "board", "name": "G"}), call.CodeBadPasscode)
	mustFail(t, do(t, guesser, "join", map[string]any{"room": "board", "name": "G", "passcode": "Correct horse"}), call.CodeBadPasscode)
	mustFail(t, do(t, guesser, "join", map[string]any{"room": "board", "name": "G", "passcode": "wrong"}), call.CodeBadPasscode)
	// Three failures from this IP: the next attempt is refused unchecked,
	// from any socket of the IP.
	mustFail(t, do(t, guesser, "join", map[string]any{"room": "board", "name": "G", "passcode": "correct horse"}), call.CodeRateLimited)
	mustFail(t, do(t, e.dial(), "join", map[string]any{"room": "board", "name": "G", "passcode": "correct horse"}), call.CodeRateLimited)
	// Rooms without a passcode still work for that IP.
	join(t, guesser, "open", "G")
	// The guesser never got in: the owner's next event is the sentinel.
	mustOK(t, do(t, guest, "chat", map[string]any{"room": "board", "text": "sentinel"}))
	noEventBefore(t, owner, "peer-joined", "chat")
	if got := testutilCounter(t, e, "noom_call_joins_total", call.CodeBadPasscode); got != 3 {
		t.Errorf("joins_total{result=bad_passcode} = %v, want 3", got)
	}
	// A passcode is text like a name.
	mustFail(t, do(t, e.dial(), "join", map[string]any{"room": "x", "name": "X", "passcode": strings.Repeat("p", 65)}), call.CodeBadRequest)
}

// TestNameTaken: nobody joins under the name of someone in the room, in
// any case.
func TestNameTaken(t *testing.T) {
	e := newEnv(t, call.Config{})
	a, b := e.dial(), e.dial()
	join(t, a, "r", "Alice")
	mustFail(t, do(t, b, "join", map[string]any{"room": "r", "name": "Alice"}), call.CodeNameTaken)
	mustFail(t, do(t, b, "join", map[string]any{"room": "r", "name": "ALICE"}), call.CodeNameTaken)
	join(t, b, "r", "Alice B")
	// The name is free again once she leaves.
	mustOK(t, do(t, a, "leave", map[string]any{"room": "r"}))
	join(t, e.dial(), "r", "alice")
}

// TestFailedJoinKeepsName is from finding 8: a failed join renamed the
// socket in its other rooms. Names are per room now.
func TestFailedJoinKeepsName(t *testing.T) {
	e := newEnv(t, call.Config{MaxRoomSize: 2})
	alice, bob, x, y := e.dial(), e.dial(), e.dial(), e.dial()
	join(t, alice, "home", "Alice")
	join(t, bob, "home", "Bob")
	join(t, x, "full", "X")
	join(t, y, "full", "Y")
	mustFail(t, do(t, alice, "join", map[string]any{"room": "full", "name": "Mallory"}), call.CodeRoomFull)
	mustOK(t, do(t, alice, "join", map[string]any{"room": "elsewhere", "name": "Al"}))
	mustOK(t, do(t, alice, "chat", map[string]any{"room": "home", "text": "who am I?"}))
	ev, err := bob.Next(ctx(t), "chat")
	if err != nil {
		t.Fatal(err)
	}
	if m := arg(t, ev); m["name"] != "Alice" {
		t.Fatalf("chat in home signed %v, want Alice", m["name"])
	}
	// Joining a room again keeps the name it has there.
	if a := join(t, alice, "home", "Other"); a.Name != "Alice" || len(a.Peers) != 1 {
		t.Fatalf("rejoin %+v", a)
	}
}

// TestControlCharacters is from finding 8: bidi and other control
// characters in names, room names and chat.
func TestControlCharacters(t *testing.T) {
	e := newEnv(t, call.Config{})
	a, b := e.dial(), e.dial()
	join(t, b, "r", "B")
	bad := []string{"\u202E", "\u202A", "\u2066", "\u2067", "\u2068", "\u2069", "\u200E", "\u200F", "\u061C", "\uFEFF", "\u00AD", "\x00", "\x1b[31m", "\u0085", "\u2028"}
	for _, c := range bad {
		mustFail(t, do(t, a, "join", map[string]any{"room": "r", "name": "gnp" + c + "exe"}), call.CodeBadRequest)
		mustFail(t, do(t, a, "join", map[string]any{"room": "ro" + c + "om", "name": "A"}), call.CodeBadRequest)
	}
	join(t, a, "r", "A 👩‍👩‍👧 café")
	for _, c := range append(bad, "\n", "\t") {
		mustFail(t, do(t, a, "chat", map[string]any{"room": "r", "text": "hi " + c + " there"}), call.CodeBadRequest)
	}
	mustOK(t, do(t, a, "chat", map[string]any{"room": "r", "text": "👩‍👩‍👧 non\u00A0breaking, می‌خواهم"}))
	// None of the refused messages reached b: the accepted one is first.
	ev := noEventBefore(t, b, "", "chat")
	if m := arg(t, ev); m["text"] != "👩‍👩‍👧 non\u00A0breaking, می‌خواهم" {
		t.Fatalf("first chat %v", m)
	}
}
