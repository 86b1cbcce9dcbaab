package stunturn

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

var errNoPrimaryAddress = errors.New("no interface has a usable IPv4 address; set PublicIP and Addr")

// primaryIPv4 finds the host's primary IPv4 address without sending a
// packet: the address of the interface that carries the IPv4 default route
// (from /proc/net/route), else the first global unicast IPv4 address of an
// interface that is up, else of any interface that is up (loopback last).
func primaryIPv4() (netip.Addr, error) {
	if f, err := os.Open("/proc/net/route"); err == nil {
		name := defaultRouteInterface(f)
		_ = f.Close()
		if name != "" {
			if ifc, err := net.InterfaceByName(name); err == nil {
				if ip, ok := firstIPv4(ifc, true); ok {
					return ip, nil
				}
			}
		}
	}
	ifcs, err := net.Interfaces()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, global := range []bool{true, false} {
		for i := range ifcs {
			if ifcs[i].Flags&net.FlagUp == 0 || (global && ifcs[i].Flags&net.FlagLoopback != 0) {
				continue
			}
			if ip, ok := firstIPv4(&ifcs[i], global); ok {
				return ip, nil
			}
		}
	}
	return netip.Addr{}, errNoPrimaryAddress
}

// firstIPv4 returns the first IPv4 address of ifc; global asks for a
// global unicast one (private ranges count as global unicast).
func firstIPv4(ifc *net.Interface, global bool) (netip.Addr, bool) {
	addrs, err := ifc.Addrs()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.Is4() && (!global || ip.IsGlobalUnicast()) {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// defaultRouteInterface reads a Linux /proc/net/route table and returns the
// interface of the IPv4 default route (destination and mask 0, flag RTF_UP)
// with the lowest metric, or "".
func defaultRouteInterface(r io.Reader) string {
	const rtfUp = 0x1
	best, bestMetric := "", uint64(1<<63)
	sc := bufio.NewScanner(r)
	for first := true; sc.Scan(); first = false {
		fields := strings.Fields(sc.Text())
		if first || len(fields) < 8 {
			continue // header line, or not a route line
		}
		flags, err1 := strconv.ParseUint(fields[3], 16, 32)
		metric, err2 := strconv.ParseUint(fields[6], 10, 63)
		if err1 != nil || err2 != nil || fields[1] != "00000000" || fields[7] != "00000000" || flags&rtfUp == 0 {
			continue
		}
		if metric < bestMetric {
			best, bestMetric = fields[0], metric
		}
	}
	return best
}

// interfaceIPs lists the IP addresses of every interface, unmapped.
func interfaceIPs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var ips []netip.Addr
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
				ips = append(ips, ip.Unmap())
			}
		}
	}
	return ips
}

func netipParse(host string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(host)
	return ip.Unmap(), err
}

func joinHostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
