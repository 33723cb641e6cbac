package metrics_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/adapters/metrics"
)

func TestPprofRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "192.168.1.20:6060", "10.0.0.1:6060",
		"example.com:6060", "localhost.example.com:6060", "127.0.0.1", "127.0.0.1:", "6060"} {
		if p, err := metrics.NewPprof(addr, nil); err == nil {
			t.Errorf("%q accepted (enabled %v)", addr, p.Enabled())
		}
	}
	for _, addr := range []string{"127.0.0.1:6060", "127.0.0.2:6060", "[::1]:6060", "localhost:6060"} {
		if err := metrics.CheckLoopback(addr); err != nil {
			t.Errorf("%q refused: %v", addr, err)
		}
	}
}

func TestPprofOffWithoutAddress(t *testing.T) {
	p, err := metrics.NewPprof("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Enabled() || p.Start(context.Background()) != nil || p.Addr() != "" || p.Stop(context.Background()) != nil {
		t.Fatalf("a pprof without address is not off: enabled %v addr %q", p.Enabled(), p.Addr())
	}
}

func TestPprofServesOnLoopback(t *testing.T) {
	p, err := metrics.NewPprof("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := "http://" + p.Addr()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/debug/pprof/cmdline": "metrics.test",
		"/debug/pprof/goroutine?debug=1": "goroutine profile"} {
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, res.StatusCode, want)
		}
	}
	// The API's routes are not there: only pprof is.
	if res, err := client.Get(base + "/metrics"); err != nil {
		t.Error(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the pprof listener: %d, want 404", res.StatusCode)
	}

	// A second server on the same port fails to start instead of failing in the background.
	again, _ := metrics.NewPprof(p.Addr(), nil)
	if err := again.Start(context.Background()); err == nil {
		t.Error("a second pprof started on a taken port")
		_ = again.Stop(context.Background())
	}

	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(base + "/debug/pprof/"); err == nil {
		t.Error("pprof still answers after Stop")
	}
}
