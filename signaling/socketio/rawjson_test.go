package socketio

import (
	"encoding/json"
	"testing"
)

func TestRawJSON(t *testing.T) {
	got, atts, err := AppendArgs(nil, []any{RawJSON(`{"a":[1]}`), RawJSON(nil), []any{RawJSON(`2`)}}, nil)
	if err != nil || len(atts) != 0 || string(got) != `[{"a":[1]},null,[2]]` {
		t.Errorf("AppendArgs = %s, %v, %v", got, atts, err)
	}
	b, err := json.Marshal(map[string]any{"v": RawJSON(`true`), "n": RawJSON(nil)})
	if err != nil || string(b) != `{"n":null,"v":true}` {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
}
