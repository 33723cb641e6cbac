package webhooksender_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/adapters/webhooksender"
)

// Every name resolves to loopback here, so only a URL naming a public address literally may
// pass CheckURL; the standard library's own classification cross-checks the policy.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://crm.example/x", "https://8.8.8.8/", "https://[2606:4700::1111]:8443/",
		"https://127.0.0.1/", "https://[::ffff:10.0.0.1]/", "https://[64:ff9b::7f00:1]/", "https://[2002:a00:1::]/",
		"https://[fe80::1%25eth0]/", "https://2130706433/", "http://8.8.8.8/", "https://0x7f.1/", "https://100.64.0.1/",
		"https://169.254.169.254/", "https://[fd00:ec2::254]/", "https://u@8.8.8.8/", "HTTPS://8.8.8.8./"} {
		f.Add(s)
	}
	snd := webhooksender.New(webhooksender.Options{Resolver: loopbackResolver{}})
	f.Fuzz(func(t *testing.T, raw string) {
		err := snd.CheckURL(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, webhooksender.ErrURLRefused) || !strings.HasPrefix(err.Error(), "outgoing.url: ") {
				t.Fatalf("error %v is not a URLError", err)
			}
			return
		}
		u, perr := url.Parse(strings.TrimSpace(raw))
		if perr != nil || u.Scheme != "https" || u.User != nil {
			t.Fatalf("accepted %q", raw)
		}
		ip, perr := netip.ParseAddr(u.Hostname())
		if perr != nil {
			t.Fatalf("accepted %q, whose host resolves to loopback", raw)
		}
		ip = ip.Unmap()
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() ||
			!ip.IsGlobalUnicast() || netip.MustParsePrefix("100.64.0.0/10").Contains(ip) || ip.Zone() != "" {
			t.Fatalf("accepted %q (%s)", raw, ip)
		}
	})
}

type loopbackResolver struct{}

func (loopbackResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}
