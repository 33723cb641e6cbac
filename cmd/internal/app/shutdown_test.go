package app_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// heldCarrier answers each dial only when the test releases it.
type heldCarrier struct {
	entered chan createcall.DialRequest
	release chan struct{}
}

func (c *heldCarrier) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	c.entered <- req
	<-c.release
	return "LEG-HELD", nil
}

// TestGracefulShutdown stops the app while a create_call waits in the carrier: /ready fails at
// once (while /health stays 200), the call completes with 200 and its outcome is written, the
// reconciler stops, and only then does the database close.
func TestGracefulShutdown(t *testing.T) {
	carrier := &heldCarrier{entered: make(chan createcall.DialRequest, 1), release: make(chan struct{})}
	var (
		ev      events
		dialled createcall.DialRequest
		r       *running
	)
	probe := fx.Module("probe", fx.Invoke(func(lc fx.Lifecycle, s *entstore.Store) {
		// Appended after the store's own hook and before the reconciler's and the server's: it
		// runs after they stopped, just before the database closes.
		lc.Append(fx.StopHook(func() {
			ev.add("store closing")
			if r.logs.FilterMessage("reconciler stopped").Len() != 1 {
				t.Error("the database closes before the reconciler stopped")
			}
			sess, err := s.Session(context.Background(), dialled.SessionID)
			if err != nil || sess.Status() != call.StatusInitiated || sess.LegID != "LEG-HELD" {
				t.Errorf("when the database closes, the in-flight call's session is %+v (%v); want initiated with its leg id", sess, err)
			}
		}))
	}))
	r = startApp(t, map[string]string{"KUPE_HTTP_DRAIN_DELAY": "1s", "KUPE_HTTP_SHUTDOWN_TIMEOUT": "10s"},
		[]fx.Option{probe},
		[]fx.Option{fx.Decorate(func(createcall.Carriers) createcall.Carriers {
			return createcall.CarrierSet{call.ProviderSimulated: carrier}
		})})
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	if a := r.do(http.MethodGet, "/ready", "", ""); a.status != http.StatusOK || a.body["status"] != "ready" {
		t.Fatalf("/ready before shutdown: %d %s", a.status, a.raw)
	}

	answered := make(chan answer, 1)
	go func() {
		a := r.createCall(c.key, "+14155550123", `{"variable_values":{"name":"Ada"}}`)
		ev.add("create_call answered")
		answered <- a
	}()
	dialled = <-carrier.entered

	stopped := make(chan error, 1)
	stopStart := time.Now()
	go func() { stopped <- r.stop() }()

	// During the drain the listener is still open: /ready fails, /health (liveness) does not.
	deadline := time.Now().Add(5 * time.Second)
	for {
		a := r.do(http.MethodGet, "/ready", "", "")
		if a.status == http.StatusServiceUnavailable {
			if a.body["detail"] != "Service is shutting down" || len(a.body) != 1 {
				t.Fatalf("/ready while draining: %s", a.raw)
			}
			ev.add("ready failing")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ready still answers %d %v during shutdown", a.status, a.err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a := r.do(http.MethodGet, "/health", "", ""); a.status != http.StatusOK {
		t.Fatalf("/health while draining: %d %s", a.status, a.raw)
	}

	close(carrier.release)
	a := <-answered
	if a.err != nil || a.status != http.StatusOK || a.body["status"] != "success" || a.body["telephony_leg_id"] != "LEG-HELD" {
		t.Fatalf("the in-flight create_call: %d %s %v", a.status, a.raw, a.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	took := time.Since(stopStart)

	order := ev.all()
	if iReady, iAnswer, iClose := ev.index("ready failing"), ev.index("create_call answered"), ev.index("store closing"); iReady < 0 ||
		iAnswer < iReady || iClose < iAnswer {
		t.Fatalf("events %v; want /ready failing, then the call answered, then the database closing", order)
	}
	if err := r.store.Ping(context.Background()); err == nil {
		t.Fatal("the database is still open after Stop")
	}
	if conn, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("the server still accepts connections after Stop")
	}
	if took > 1*time.Second+10*time.Second {
		t.Fatalf("Stop took %v", took)
	}
}

// A request that outlives KUPE_HTTP_SHUTDOWN_TIMEOUT does not hold the stop past that bound.
func TestShutdownIsBounded(t *testing.T) {
	carrier := &heldCarrier{entered: make(chan createcall.DialRequest, 1), release: make(chan struct{})}
	defer close(carrier.release)
	r := startApp(t, map[string]string{"KUPE_HTTP_DRAIN_DELAY": "0s", "KUPE_HTTP_SHUTDOWN_TIMEOUT": "300ms"}, nil,
		[]fx.Option{fx.Decorate(func(createcall.Carriers) createcall.Carriers {
			return createcall.CarrierSet{call.ProviderSimulated: carrier}
		})})
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	go r.createCall(c.key, "+14155550123", "")
	<-carrier.entered
	start := time.Now()
	err := r.stop()
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Stop took %v with a shutdown timeout of 300ms", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the shutdown deadline reported", err)
	}
}
