package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/noomrtc/noom/admin/source"
)

// Timing of the live stream.
const (
	sseHeartbeat    = 15 * time.Second // a comment line keeps proxies from closing an idle stream
	sseWriteTimeout = 10 * time.Second // a viewer that cannot take a write this long is dropped
	// sseBatch is the least time between two writes of live events: what
	// arrives meanwhile goes out in one write. Ten updates a second is
	// live to a person; a write per event would cost the hub a wakeup,
	// an encoding and a syscall each.
	sseBatch = 100 * time.Millisecond
)

// apiEvents is GET events: Server-Sent Events of the message flow with
// the flow's filters. It first sends the kept events matching the filter
// (those after ?since= or Last-Event-ID, when given), then live ones. When
// the viewer falls behind, its oldest waiting events are dropped and an
// "skipped" event says how many.
func (c *Console) apiEvents(w http.ResponseWriter, r *http.Request, u who) {
	f, _ := flowFilter(r)
	var since uint64
	s := r.URL.Query().Get("since")
	if s == "" {
		s = r.Header.Get("Last-Event-ID")
	}
	if s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since must be an event sequence number")
			return
		}
		since = n
	}
	v := c.stream.subscribe(f, c.cfg.ViewerBuffer, c.cfg.MaxViewers, c.cfg.ViewerRate)
	if v == nil {
		writeError(w, http.StatusServiceUnavailable, "too many live viewers")
		return
	}
	defer c.stream.unsubscribe(v)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	last := since
	write := func(events []source.Event, skipped uint64) bool {
		buf.Reset()
		if skipped > 0 {
			buf.WriteString("event: skipped\ndata: {\"skipped\":")
			buf.WriteString(strconv.FormatUint(skipped, 10))
			buf.WriteString("}\n\n")
		}
		for i := range events {
			e := &events[i]
			if e.Seq <= last {
				continue // already sent with the backlog
			}
			last = e.Seq
			buf.WriteString("id: ")
			buf.WriteString(strconv.FormatUint(e.Seq, 10))
			buf.WriteString("\ndata: ")
			enc.Encode(e) // ends with the newline that ends the data line
			buf.WriteString("\n")
		}
		if buf.Len() == 0 {
			return true
		}
		rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	var backlog []source.Event
	for _, e := range c.stream.recent(f, c.cfg.RingSize) {
		if e.Seq > since {
			backlog = append(backlog, e)
		}
	}
	buf.WriteString(": noom admin stream\nretry: 2000\n\n")
	if !write(backlog, 0) {
		return
	}
	if len(backlog) == 0 {
		rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		w.Write(buf.Bytes())
		if rc.Flush() != nil {
			return
		}
	}
	tick := time.NewTicker(sseHeartbeat)
	defer tick.Stop()
	var batch []source.Event
	var lastWrite time.Time
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.quit:
			return
		case <-tick.C:
			rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-v.ready:
			if wait := sseBatch - time.Since(lastWrite); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-r.Context().Done():
					t.Stop()
					return
				case <-c.quit:
					t.Stop()
					return
				case <-t.C:
				}
			}
			var skipped uint64
			batch, skipped = v.take(batch[:0])
			lastWrite = time.Now()
			if !write(batch, skipped) {
				return
			}
		}
	}
}
