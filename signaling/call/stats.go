package call

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/noomrtc/noom/signaling"
)

// Stats is one call-quality report: how a socket sees its connection to
// one peer.
type Stats struct {
	SID           string    `json:"sid"`
	Peer          string    `json:"peer"`
	State         string    `json:"state"`
	CandidateType string    `json:"candidateType"`
	Protocol      string    `json:"protocol"`
	RTTMs         float64   `json:"rttMs"`
	BytesSent     int64     `json:"bytesSent"`
	BytesReceived int64     `json:"bytesReceived"`
	Time          time.Time `json:"time"`
}

// Closed sets of reported values; anything else is counted as "other".
var (
	states         = []string{"new", "connecting", "connected", "disconnected", "failed", "closed"}
	candidateTypes = []string{"host", "srflx", "prflx", "relay"}
	protocols      = []string{"udp", "tcp"}
)

func label(v string, set []string) string {
	if slices.Contains(set, v) {
		return v
	}
	return "other"
}

func (svc *Service) callStats(s *signaling.Socket, _ *peer, raw json.RawMessage) (map[string]any, *Error) {
	var st Stats
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, errorf(CodeBadRequest, "malformed call-stats: "+err.Error())
	}
	if st.Peer == "" || len(st.Peer) > 64 || st.RTTMs < 0 || st.RTTMs > 600_000 || st.BytesSent < 0 || st.BytesReceived < 0 {
		return nil, errorf(CodeBadRequest, "call-stats takes {peer, state, candidateType, protocol, rttMs, bytesSent, bytesReceived}")
	}
	st.SID, st.Time = s.ID(), time.Now()
	st.State = label(st.State, states)
	st.CandidateType = label(st.CandidateType, candidateTypes)
	st.Protocol = label(st.Protocol, protocols)
	svc.mu.Lock()
	if _, ok := svc.stats[st.SID+"/"+st.Peer]; ok || len(svc.stats) < 100_000 {
		svc.stats[st.SID+"/"+st.Peer] = st
	}
	svc.mu.Unlock()
	svc.metrics.statsReports.WithLabelValues(st.State, st.CandidateType, st.Protocol).Inc()
	if st.State == "connected" && st.RTTMs > 0 {
		svc.metrics.rtt.WithLabelValues(st.CandidateType).Observe(st.RTTMs / 1000)
	}
	return nil, nil
}

// Stats returns the latest call-quality report of every pair of connected
// peers, for the admin UI.
func (svc *Service) Stats() []Stats {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	out := make([]Stats, 0, len(svc.stats))
	for _, st := range svc.stats {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Stats) int {
		if a.SID+a.Peer < b.SID+b.Peer {
			return -1
		}
		return 1
	})
	return out
}
