package views

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	for got, want := range map[string]string{
		Int(0): "0", Int(1234567): "1,234,567", Int(-1000): "-1,000", Int(uint64(999)): "999",
		Bytes(999): "999 B", Bytes(1500): "1.5 kB", Bytes(2_500_000): "2.5 MB", Bytes(7e12): "7000.0 GB",
		Duration(12 * time.Second): "12 s", Duration(184 * time.Second): "3 min 4 s", Duration(7500 * time.Second): "2 h 5 min",
		Duration(-time.Second): "0 s", Rate(2.25): "2.2", Rate(1234.4): "1,234", Percent(0.874): "87 %",
		NsSegment("/"): "_", NsSegment("/chat"): "chat", NsSegment("/a/b"): "a%2Fb",
		string(RoomURL("/", "a/b c")): "/admin/rooms/_/a%2Fb%20c",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if p := Polyline([]float64{0, 5, 10}, 300, 80, 10); p != "0.0,80.0 150.0,40.0 300.0,0.0" {
		t.Errorf("polyline %q", p)
	}
}
