package stunturn

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ICEServer is one entry of RTCConfiguration.iceServers, as JSON for the
// browser.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEServers returns the ICE servers a browser should use to reach this
// server, with a fresh credential for user from the Issuer (valid for
// CredentialTTL). host is the host the browser reached (an HTTP Host, a
// port is ignored).
//
// stun: and turn: URLs name PublicIP when it is set, else host, else the
// relay IP. turns: (when TLS is on) names host whenever it is given, since
// the certificate names the host, not an IP. The TURN entry lists UDP,
// then TCP, then TLS.
func (s *Server) ICEServers(host, user string) []ICEServer {
	name := hostOnly(host)
	plain := name
	if s.cfg.PublicIP.IsValid() || plain == "" {
		plain = s.addrs.Relay.String()
	}
	if name == "" {
		name = plain
	}
	username, password, _ := s.issuer.Issue(user)
	turnURLs := []string{
		"turn:" + hostPort(plain, s.addrs.UDP.Port()) + "?transport=udp",
		"turn:" + hostPort(plain, s.addrs.TCP.Port()) + "?transport=tcp",
	}
	if s.addrs.TLS.IsValid() {
		turnURLs = append(turnURLs, "turns:"+hostPort(name, s.addrs.TLS.Port())+"?transport=tcp")
	}
	return []ICEServer{
		{URLs: []string{"stun:" + hostPort(plain, s.addrs.UDP.Port())}},
		{URLs: turnURLs, Username: username, Credential: password},
	}
}

// hostOnly returns the host of an HTTP Host value (port and IPv6 brackets
// removed), or "" when it is not a plausible host name or IP address.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.WithZone("").String()
	}
	if host == "" || len(host) > 253 {
		return ""
	}
	for _, c := range []byte(host) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return ""
		}
	}
	return host
}

func hostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
