package main

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns how to find a request's client IP: the connection's
// remote address, unless that is a trusted proxy, in which case the
// X-Forwarded-For entries are read from the right (the ones the proxies
// appended) past every trusted proxy. A client can put anything on the
// left of that header, so nothing left of the first untrusted hop is used.
func clientIP(trusted []string) func(*http.Request) string {
	var prefixes []netip.Prefix
	for _, t := range trusted {
		prefixes = append(prefixes, netip.MustParsePrefix(t))
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range prefixes {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !isTrusted(ip) {
			return host
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := parseHop(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			if !isTrusted(a) {
				return a.Unmap().String()
			}
			ip = a
		}
		return ip.Unmap().String()
	}
}

// parseHop reads one X-Forwarded-For entry: an IP, or an IP with a port
// as some proxies write it ("203.0.113.7:5000", "[2001:db8::1]:5000").
func parseHop(h string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a, nil
	}
	ap, err := netip.ParseAddrPort(h)
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr(), nil
}
