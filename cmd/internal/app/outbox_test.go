package app_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/application/callfinal"

	"github.com/kupe-voice/kupe/domain/call"
)

// finals records the sessions a call-final handler is told about.
type finals struct {
	mu  sync.Mutex
	ids map[string]int
	ch  chan string
}

func (f *finals) OnCallFinal(_ context.Context, id string) error {
	f.mu.Lock()
	f.ids[id]++
	f.mu.Unlock()
	f.ch <- id
	return nil
}

// TestCallFinalOutboxAsWired: with kupe serve's job engine, a call whose dial the carrier
// refuses (create_call records it failed) reaches every handler in the call_final group, once,
// while a call that was placed and has not ended reaches none.
func TestCallFinalOutboxAsWired(t *testing.T) {
	a, b := &finals{ids: map[string]int{}, ch: make(chan string, 10)}, &finals{ids: map[string]int{}, ch: make(chan string, 10)}
	provide := func(h callfinal.Handler) fx.Option {
		return fx.Provide(fx.Annotate(func() callfinal.Handler { return h }, fx.ResultTags(`group:"call_final"`)))
	}
	r := startApp(t, nil, []fx.Option{provide(a), provide(b)}, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)

	placed := r.createCall(c.key, "+14155550123", "")
	refused := r.createCall(c.key, "+14155550199", "") // the simulated carrier's refused number
	if placed.status != http.StatusOK || refused.status != http.StatusOK || refused.body["status"] != "failed" {
		t.Fatalf("create_call: %d %s; %d %s", placed.status, placed.raw, refused.status, refused.raw)
	}
	refusedID, _ := refused.body["call_session_id"].(string)
	for _, f := range []*finals{a, b} {
		select {
		case id := <-f.ch:
			if id != refusedID {
				t.Fatalf("handler told of session %s, want the refused one %s", id, refusedID)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no handler was told of the refused call")
		}
	}
	// The job is done once both handlers succeeded; nothing else is announced.
	select {
	case id := <-a.ch:
		t.Fatalf("handler told again, of %s", id)
	case <-time.After(300 * time.Millisecond):
	}
}
