package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

const premiumRate = "+19005550123"

// setLimits changes a user's limits in the rig's store.
func (r *rig) setLimits(userID string, fn func(*identity.Limits) error) {
	r.t.Helper()
	if _, err := r.store.UpdateLimits(context.Background(), userID, fn); err != nil {
		r.t.Fatal(err)
	}
}

// postWith sends a create_call with extra headers (each value its own header line).
func (r *rig) postWith(target, key string, headers map[string][]string) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, nil)
	req.Header.Set("x-api-key", key)
	for k, vs := range headers {
		req.Header[k] = vs
	}
	return serve(r, req)
}

// withLimits puts the in-process rate limiter, on a clock that stands still, and the given
// deployment limits into the rig.
func withLimits(limits createcall.CallLimits) rigOption {
	return func(d *httpapi.Deps, _ *httpapi.Config) {
		now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		d.CreateCall.Limiter = ratelimit.New(func() time.Time { return now })
		d.CreateCall.Limits = limits
	}
}

func idemKey(k string) map[string][]string { return map[string][]string{"Idempotency-Key": {k}} }

func TestCreateCallIdempotencyKeyReplays(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	target := callURL("phoneNumber", destination, "agent_id", a.agent.ID)
	first := r.postWith(target, a.key, idemKey("crm-job-7/attempt"))
	if first.Code != http.StatusOK || first.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v %s", first.Code, first.Header(), first.Body)
	}
	if m := decode(t, first); m["status"] != "success" {
		t.Fatalf("first body %s", first.Body)
	}
	for range 2 {
		again := r.postWith(target, a.key, idemKey("crm-job-7/attempt"))
		if again.Code != http.StatusOK || again.Header().Get("Idempotent-Replayed") != "true" ||
			again.Body.String() != first.Body.String() || again.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("replay: %d %v\n%s\nwant the first body byte for byte\n%s", again.Code, again.Header(), again.Body, first.Body)
		}
	}
	if r.carrier.Placed() != 1 || r.sessionCount(a.userID) != 1 {
		t.Fatalf("carrier placed %d calls, %d sessions stored; want 1 and 1", r.carrier.Placed(), r.sessionCount(a.userID))
	}

	// The same key with another destination is refused, and dials nothing.
	w := r.postWith(callURL("phoneNumber", "+14155550124", "agent_id", a.agent.ID), a.key, idemKey("crm-job-7/attempt"))
	wantDetail(t, w, http.StatusUnprocessableEntity,
		"Idempotency-Key was already used with a different request (destination, agent, workflow, phone number or variables)")
	// Another user's key of the same name is theirs.
	b := r.user(money.FromUnits(5), true)
	if w := r.postWith(callURL("phoneNumber", destination), b.key, idemKey("crm-job-7/attempt")); w.Code != http.StatusOK ||
		w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("another user's key: %d %v", w.Code, w.Header())
	}
	if r.carrier.Placed() != 2 {
		t.Fatalf("carrier placed %d calls, want 2", r.carrier.Placed())
	}

	// A failed dial is answered, and replayed, as it was.
	failed := r.postWith(callURL("phoneNumber", rejectedDest), a.key, idemKey("k-failed"))
	replay := r.postWith(callURL("phoneNumber", rejectedDest), a.key, idemKey("k-failed"))
	if failed.Code != http.StatusOK || decode(t, failed)["status"] != "failed" || replay.Body.String() != failed.Body.String() ||
		replay.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("failed dial %s, replay %s", failed.Body, replay.Body)
	}
}

func TestCreateCallIdempotencyKeyMalformed(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	const detail = "Idempotency-Key must be 1 to 255 printable ASCII characters"
	for name, values := range map[string][]string{
		"empty":        {""},
		"too long":     {strings.Repeat("x", 256)},
		"control byte": {"abc\x01def"},
		"not ASCII":    {"cl\u00e9"},
		"sent twice":   {"a", "b"},
	} {
		t.Run(name, func(t *testing.T) {
			w := r.postWith(callURL("phoneNumber", destination), a.key, map[string][]string{"Idempotency-Key": values})
			wantDetail(t, w, http.StatusUnprocessableEntity, detail)
		})
	}
	if r.carrier.Placed() != 0 || r.sessionCount(a.userID) != 0 {
		t.Fatalf("malformed keys placed %d calls", r.carrier.Placed())
	}
}

// holdingCarrier keeps every dial until release is closed, and says when one arrives.
type holdingCarrier struct {
	entered chan struct{}
	release chan struct{}
	dials   atomic.Int64
}

func newHoldingCarrier() *holdingCarrier {
	return &holdingCarrier{entered: make(chan struct{}, 64), release: make(chan struct{})}
}

func (c *holdingCarrier) Dial(ctx context.Context, _ createcall.DialRequest) (string, error) {
	n := c.dials.Add(1)
	c.entered <- struct{}{}
	select {
	case <-c.release:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return "HOLD" + string(rune('0'+n%10)), nil
}

func TestCreateCallIdempotencyKeyInProgress(t *testing.T) {
	carrier := newHoldingCarrier()
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.CreateCall.Carriers = createcall.CarrierSet{call.ProviderSimulated: carrier}
	})
	a := r.user(money.FromUnits(5), true)
	target := callURL("phoneNumber", destination)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- r.postWith(target, a.key, idemKey("k")) }()
	select {
	case <-carrier.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first request never reached the carrier")
	}
	w := r.postWith(target, a.key, idemKey("k"))
	wantDetail(t, w, http.StatusConflict, "A request with this Idempotency-Key is still in progress; retry shortly")
	if w.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After = %q, want 1", w.Header().Get("Retry-After"))
	}
	close(carrier.release)
	first := <-done
	if first.Code != http.StatusOK {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	replay := r.postWith(target, a.key, idemKey("k"))
	if replay.Body.String() != first.Body.String() || replay.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay after the first finished: %s", replay.Body)
	}
	if n := carrier.dials.Load(); n != 1 {
		t.Fatalf("carrier dialled %d times, want 1", n)
	}
}

func TestCreateCallRateLimited(t *testing.T) {
	r := newRig(t, withLimits(createcall.CallLimits{DefaultRequestsPerSecond: 1}))
	a := r.user(money.FromUnits(5), true)
	for i := range 2 { // the burst: two seconds' worth
		if w := r.post(callURL("phoneNumber", destination), a.key, ""); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	w := r.post(callURL("phoneNumber", destination), a.key, "")
	wantDetail(t, w, http.StatusTooManyRequests, "Rate limit exceeded: 1 requests per second")
	if w.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After = %q, want 1", w.Header().Get("Retry-After"))
	}
	// Another user has a bucket of their own.
	b := r.user(money.FromUnits(5), true)
	if w := r.post(callURL("phoneNumber", destination), b.key, ""); w.Code != http.StatusOK {
		t.Fatalf("another user: %d %s", w.Code, w.Body)
	}
	if r.sessionCount(a.userID) != 2 {
		t.Fatalf("%d sessions, want the 2 allowed", r.sessionCount(a.userID))
	}
}

func TestCreateCallConcurrencyLimited(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	r.setLimits(a.userID, func(l *identity.Limits) error { l.MaxConcurrentCalls = 1; return nil })
	if w := r.post(callURL("phoneNumber", destination), a.key, ""); w.Code != http.StatusOK {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	w := r.post(callURL("phoneNumber", destination), a.key, "")
	wantDetail(t, w, http.StatusTooManyRequests, "Concurrent call limit reached: this account may have at most 1 active calls")
	if w.Header().Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// A failed dial holds no slot.
	r.setLimits(a.userID, func(l *identity.Limits) error { l.MaxConcurrentCalls = 2; return nil })
	for range 3 {
		if w := r.post(callURL("phoneNumber", rejectedDest), a.key, ""); w.Code != http.StatusOK || decode(t, w)["status"] != "failed" {
			t.Fatalf("failed dial: %d %s", w.Code, w.Body)
		}
	}
}

func TestCreateCallDestinationGuards(t *testing.T) {
	usOnly, err := call.NewDestinationPolicy([]string{"US"}, createcall.DefaultBlockedNumberTypes())
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, withLimits(createcall.CallLimits{Destinations: &usOnly}))
	r.secrets = append(r.secrets, premiumRate, "+919876543210")
	a := r.user(money.FromUnits(5), true)
	wantDetail(t, r.post(callURL("phoneNumber", premiumRate), a.key, ""), http.StatusUnprocessableEntity,
		"Destination not allowed: premium_rate numbers are refused")
	wantDetail(t, r.post(callURL("phoneNumber", "+919876543210"), a.key, ""), http.StatusUnprocessableEntity,
		"Destination not allowed: country IN is not on the allow-list")
	if r.carrier.Placed() != 0 {
		t.Fatalf("refused destinations placed %d calls", r.carrier.Placed())
	}
	if w := r.post(callURL("phoneNumber", destination), a.key, ""); w.Code != http.StatusOK {
		t.Fatalf("an allowed destination: %d %s", w.Code, w.Body)
	}
}

func TestCreateCallDailySpendCap(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	m := decode(t, r.post(callURL("phoneNumber", destination), a.key, ""))
	if _, err := r.store.ChargeSession(context.Background(), m["call_session_id"].(string), a.userID, money.FromUnits(3), 60, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.setLimits(a.userID, func(l *identity.Limits) error { c := money.Amount(2_500_000); l.DailySpendCap = &c; return nil })
	w := r.post(callURL("phoneNumber", destination), a.key, "")
	wantDetail(t, w, http.StatusPaymentRequired, "Daily spend cap reached: this account's calls may be charged at most 2.5 a day (UTC)")
	if r.carrier.Placed() != 1 {
		t.Fatalf("carrier placed %d calls, want 1", r.carrier.Placed())
	}
}
