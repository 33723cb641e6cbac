package webhooksender

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrURLRefused is matched (errors.Is) by every URLError.
var ErrURLRefused = errors.New("webhook URL refused")

// URLError is an outgoing URL the sender will not deliver to. Its text says why, is safe to
// answer (a 422 detail) and names the field: "outgoing.url: crm.example.com resolves to
// 10.0.0.7, a private address".
type URLError struct{ Reason string }

func (e *URLError) Error() string { return "outgoing.url: " + e.Reason }

// Is makes errors.Is(err, ErrURLRefused) hold.
func (e *URLError) Is(target error) bool { return target == ErrURLRefused }

func refusedf(format string, args ...any) error {
	return &URLError{Reason: fmt.Sprintf(format, args...)}
}

// addrError is a connection the dialer's Control refused.
type addrError struct {
	addr   netip.Addr
	reason string
}

func (e *addrError) Error() string {
	return fmt.Sprintf("refused to connect to %s, %s", e.addr, e.reason)
}

// Resolver looks host names up; *net.Resolver is one. Tests inject their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// policy says which addresses may be connected to.
type policy struct {
	allowPrivate bool // KUPE_WEBHOOK_ALLOW_PRIVATE
	loopbackOnly bool // plain http, which AllowPrivate permits to loopback only
}

var (
	metadataAddrs = map[netip.Addr]bool{
		netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack, ...
		netip.MustParseAddr("fd00:ec2::254"):   true, // AWS over IPv6
		netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
		netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata
	}
	cgnat = netip.MustParsePrefix("100.64.0.0/10")
	// reserved are never a webhook receiver, whatever AllowPrivate says.
	reserved = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),       // "this network" (0.0.0.0 reaches the local host)
		netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
		netip.MustParsePrefix("192.0.2.0/24"),    // documentation
		netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
		netip.MustParsePrefix("198.51.100.0/24"), // documentation
		netip.MustParsePrefix("203.0.113.0/24"),  // documentation
		netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
		netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
		netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
		netip.MustParsePrefix("100::/64"),        // discard
		netip.MustParsePrefix("2001::/32"),       // Teredo: hides an IPv4 address
		netip.MustParsePrefix("2001:db8::/32"),   // documentation
	}
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixToFo = netip.MustParsePrefix("2002::/16")
)

// refusal says why ip may not be connected to under p, or "" when it may.
func (p policy) refusal(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	switch {
	case !ip.IsValid():
		return "not an IP address"
	case metadataAddrs[ip]:
		return "a cloud metadata address"
	case ip.IsUnspecified():
		return "the unspecified address"
	case ip.IsMulticast():
		return "a multicast address"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "a link-local address"
	}
	if ip.Is6() && (nat64.Contains(ip) || sixToFo.Contains(ip)) {
		// An IPv6 address that carries an IPv4 one reaches that one: judge it.
		b := ip.As16()
		v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if sixToFo.Contains(ip) {
			v4 = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		if r := p.refusal(v4); r != "" {
			return r + " (inside " + ip.String() + ")"
		}
		return p.plainHTTP(ip)
	}
	for _, r := range reserved {
		if r.Contains(ip) && !ip.IsLoopback() { // ::/96 holds ::1
			return "a reserved address"
		}
	}
	if !ip.IsGlobalUnicast() && !ip.IsLoopback() {
		return "not a public unicast address"
	}
	var private string
	switch {
	case ip.IsLoopback():
		private = "a loopback address"
	case ip.IsPrivate():
		private = "a private address"
	case cgnat.Contains(ip):
		private = "a shared (CGNAT) address"
	}
	if private != "" && !p.allowPrivate {
		return private
	}
	return p.plainHTTP(ip)
}

func (p policy) plainHTTP(ip netip.Addr) string {
	if p.loopbackOnly && !ip.IsLoopback() {
		return "not a loopback address (plain http is allowed to loopback only)"
	}
	return ""
}

// control is the dialer's Control: it runs on every connection, after the name was resolved
// and before connect(2), so an address that was public when the URL was checked and private
// now (DNS rebinding) is still refused.
func (p policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &addrError{reason: "not an IP address"}
	}
	if r := p.refusal(ap.Addr()); r != "" {
		return &addrError{addr: ap.Addr().Unmap(), reason: r}
	}
	return nil
}

// parseURL checks an outgoing URL's form against the policy: https (or http to loopback with
// AllowPrivate), a host written as a name or a standard IP address, no credentials.
func (s *Sender) parseURL(raw string) (*url.URL, policy, error) {
	p := policy{allowPrivate: s.allowPrivate}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Opaque != "" || !u.IsAbs() {
		return nil, p, refusedf("not a valid absolute URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !s.allowPrivate {
			return nil, p, refusedf("must use https")
		}
		p.loopbackOnly = true
	default:
		return nil, p, refusedf("must use https")
	}
	if u.User != nil {
		return nil, p, refusedf("must not hold a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return nil, p, refusedf("has no host")
	}
	if _, err := netip.ParseAddr(host); err != nil && numericHost(host) {
		// 2130706433, 0x7f.1, 0177.0.0.1 and the like: C resolvers read them as addresses.
		return nil, p, refusedf("host %q is neither a name nor an IP address in standard form", host)
	}
	return u, p, nil
}

// numericHost reports whether host's last label is a number (decimal, octal or 0x hex): no
// top-level domain is, so such a host is an address in a non-standard spelling.
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return true
	}
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

// CheckURL is the configuration-time check of an outgoing URL: its form (as parseURL), and every
// address its host resolves to. The error is a *URLError, whose text is the 422 detail. Send
// checks again at connect time, whatever CheckURL said.
func (s *Sender) CheckURL(ctx context.Context, raw string) error {
	u, p, err := s.parseURL(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	addrs, err := s.lookup(ctx, host)
	if err != nil {
		return refusedf("host %q does not resolve", host)
	}
	for _, a := range addrs {
		if r := p.refusal(a); r != "" {
			if ip, err := netip.ParseAddr(host); err == nil && ip == a {
				return refusedf("%s is %s", a.Unmap(), r)
			}
			return refusedf("host %q resolves to %s, %s", host, a.Unmap(), r)
		}
	}
	return nil
}

func (s *Sender) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	addrs, err := s.resolver.LookupNetIP(ctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, err
}

// dialContext resolves through the sender's resolver and connects to each address in turn with
// the policy's Control, which has the last word on every address.
func (s *Sender) dialContext(p policy) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: s.timeout, Control: p.control}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		addrs, err := s.lookup(ctx, host)
		if err != nil {
			return nil, err
		}
		var first error
		for _, a := range addrs {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		return nil, first
	}
}
