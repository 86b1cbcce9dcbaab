package call

import (
	"encoding/json"
	"slices"
	"strings"
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

// label returns v if set has it, else "other", and its index in set
// followed by "other".
func label(v string, set []string) (string, int) {
	if i := slices.Index(set, v); i >= 0 {
		return v, i
	}
	return "other", len(set)
}

// callStats keeps the socket's latest report per peer, for at most
// Config.MaxStatsPeers peers; the reports go with the socket.
func (svc *Service) callStats(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var st Stats
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, errorf(CodeBadRequest, "malformed call-stats: "+err.Error())
	}
	if st.Peer == "" || len(st.Peer) > 64 || st.RTTMs < 0 || st.RTTMs > 600_000 || st.BytesSent < 0 || st.BytesReceived < 0 {
		return nil, errorf(CodeBadRequest, "call-stats takes {peer, state, candidateType, protocol, rttMs, bytesSent, bytesReceived}")
	}
	var si, ci, pi int
	st.SID, st.Time = s.ID(), time.Now()
	st.State, si = label(st.State, states)
	st.CandidateType, ci = label(st.CandidateType, candidateTypes)
	st.Protocol, pi = label(st.Protocol, protocols)
	p.mu.Lock()
	_, known := p.stats[st.Peer]
	full := !known && len(p.stats) >= svc.cfg.MaxStatsPeers
	if !full {
		if p.stats == nil {
			p.stats = make(map[string]Stats)
		}
		p.stats[st.Peer] = st
	}
	p.mu.Unlock()
	if full {
		return nil, errorf(CodeBadRequest, "call-stats: reports for too many peers")
	}
	svc.metrics.statsReports[si][ci][pi].Inc()
	if st.State == "connected" && st.RTTMs > 0 {
		svc.metrics.rtt[ci].Observe(st.RTTMs / 1000)
	}
	return nil, nil
}

// Stats returns the latest call-quality report of every socket connected
// now, for each peer it reported on, sorted by socket and peer; for the
// admin UI.
func (svc *Service) Stats() []Stats {
	svc.mu.RLock()
	peers := make([]*peer, 0, len(svc.peers))
	for _, p := range svc.peers {
		peers = append(peers, p)
	}
	svc.mu.RUnlock()
	var out []Stats
	for _, p := range peers {
		p.mu.Lock()
		for _, st := range p.stats {
			out = append(out, st)
		}
		p.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Stats) int {
		if c := strings.Compare(a.SID, b.SID); c != 0 {
			return c
		}
		return strings.Compare(a.Peer, b.Peer)
	})
	return out
}
