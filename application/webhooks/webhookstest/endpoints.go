// Package webhookstest holds the contract suites of the webhooks ports: every implementation
// of webhooks.EndpointStore and webhooks.DeliveryStore runs them from its own tests.
package webhookstest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// T0 is the suites' clock: a whole millisecond, which every store keeps exactly.
var T0 = time.Date(2027, 3, 4, 5, 6, 7, 8_000_000, time.UTC)

// Config builds a configuration every field of which is set, for round trips.
func Config(t testing.TB) webhook.Config {
	t.Helper()
	rc := 3
	cfg, err := webhook.NewConfig(webhook.ConfigInput{
		TriggerOnPhoneCall: true,
		Outgoing: webhook.OutgoingInput{Enabled: true, URL: "https://crm.example.com/hooks/kupe?x=1",
			Headers:  map[string]string{"x-crm-key": "k-123456789", "X-Tenant": "acme"},
			AuthType: "bearer", AuthToken: "tok_abcdefgh", RetryCount: &rc},
		Incoming: webhook.IncomingInput{Enabled: true, AttachedVariables: []webhook.AttachedVariable{
			{Name: "zeta", DefaultValue: "last"}, {Name: "alpha", DefaultValue: ""}, {Name: "mid", DefaultValue: "ü"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Secret is a fixed secret.
func Secret(t testing.TB, fill byte) webhook.Secret {
	t.Helper()
	s, err := webhook.NewSecret(bytes.NewReader(bytes.Repeat([]byte{fill}, webhook.SecretBytes)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// RunEndpointStoreSuite runs the EndpointStore contract on the stores newStore makes, a fresh
// empty one per call.
func RunEndpointStoreSuite(t *testing.T, newStore func(t *testing.T) webhooks.EndpointStore) {
	ctx := context.Background()

	t.Run("MissingIsNotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Endpoint(ctx, uuid.NewString()); !errors.Is(err, webhooks.ErrEndpointNotFound) {
			t.Fatalf("Endpoint of an agent without one: %v, want ErrEndpointNotFound", err)
		}
		if _, err := s.Endpoint(ctx, "not-a-uuid"); !errors.Is(err, webhooks.ErrEndpointNotFound) {
			t.Fatalf("Endpoint of a malformed id: %v, want ErrEndpointNotFound", err)
		}
		m, err := s.UserEndpoints(ctx, uuid.NewString())
		if err != nil || len(m) != 0 {
			t.Fatalf("UserEndpoints of a user without any: %v, %v", m, err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		agent, user := uuid.NewString(), uuid.NewString()
		want := webhooks.Endpoint{
			AgentID: agent, UserID: user, Config: Config(t), Secret: Secret(t, 7),
			Health: webhook.Health{FailingSince: T0, LastFailure: T0.Add(time.Hour), LastDelivered: T0.Add(-time.Hour),
				Failures: 4},
			DisabledReason: "disabled: because", DisabledAt: T0.Add(2 * time.Hour),
			CreatedAt: T0, UpdatedAt: T0.Add(3 * time.Hour),
		}
		got, err := s.PutEndpoint(ctx, agent, user, func(e *webhooks.Endpoint, found bool) error {
			if found {
				t.Error("a new endpoint reads as found")
			}
			if e.AgentID != agent || e.UserID != user {
				t.Errorf("a new endpoint comes as agent %q user %q", e.AgentID, e.UserID)
			}
			*e = want
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		same(t, "PutEndpoint's answer", got, want)
		read, err := s.Endpoint(ctx, agent)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Endpoint", read, want)
		all, err := s.UserEndpoints(ctx, user)
		if err != nil || len(all) != 1 {
			t.Fatalf("UserEndpoints: %v, %v", all, err)
		}
		same(t, "UserEndpoints", all[agent], want)

		// Clearing: no token, no headers, no variables, no health, no reason.
		empty, err := webhook.NewConfig(webhook.ConfigInput{})
		if err != nil {
			t.Fatal(err)
		}
		got, err = s.PutEndpoint(ctx, agent, user, func(e *webhooks.Endpoint, found bool) error {
			if !found {
				t.Error("a stored endpoint reads as new")
			}
			same(t, "the stored endpoint fn is given", *e, want)
			e.Config, e.Health, e.DisabledReason, e.DisabledAt = empty, webhook.Health{}, "", time.Time{}
			e.UpdatedAt = T0.Add(4 * time.Hour)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		cleared := want
		cleared.Config, cleared.Health, cleared.DisabledReason, cleared.DisabledAt = empty, webhook.Health{}, "", time.Time{}
		cleared.UpdatedAt = T0.Add(4 * time.Hour)
		same(t, "cleared", got, cleared)
		read, err = s.Endpoint(ctx, agent)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "cleared, read back", read, cleared)
	})

	t.Run("FnErrorStoresNothing", func(t *testing.T) {
		s := newStore(t)
		agent, user := uuid.NewString(), uuid.NewString()
		boom := errors.New("boom")
		_, err := s.PutEndpoint(ctx, agent, user, func(e *webhooks.Endpoint, _ bool) error {
			e.Secret = Secret(t, 1)
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("PutEndpoint: %v, want fn's error", err)
		}
		if _, err := s.Endpoint(ctx, agent); !errors.Is(err, webhooks.ErrEndpointNotFound) {
			t.Fatalf("after a failed create: %v", err)
		}
		put(t, s, agent, user, func(e *webhooks.Endpoint) { e.Secret = Secret(t, 1) })
		_, err = s.PutEndpoint(ctx, agent, user, func(e *webhooks.Endpoint, _ bool) error {
			e.Secret = Secret(t, 2)
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("PutEndpoint: %v, want fn's error", err)
		}
		if e, err := s.Endpoint(ctx, agent); err != nil || e.Secret.Reveal() != Secret(t, 1).Reveal() {
			t.Fatalf("after a failed change: %v (secret changed: %v)", err, e.Secret.Reveal() != Secret(t, 1).Reveal())
		}
	})

	t.Run("AnotherUsersIsNotFound", func(t *testing.T) {
		s := newStore(t)
		agent, owner, other := uuid.NewString(), uuid.NewString(), uuid.NewString()
		put(t, s, agent, owner, func(e *webhooks.Endpoint) { e.Secret = Secret(t, 3) })
		_, err := s.PutEndpoint(ctx, agent, other, func(e *webhooks.Endpoint, _ bool) error {
			e.Secret = Secret(t, 4)
			return nil
		})
		if !errors.Is(err, webhooks.ErrEndpointNotFound) {
			t.Fatalf("PutEndpoint of another user's: %v, want ErrEndpointNotFound", err)
		}
		if e, err := s.Endpoint(ctx, agent); err != nil || e.UserID != owner || e.Secret.Reveal() != Secret(t, 3).Reveal() {
			t.Fatalf("the owner's endpoint changed: %+v, %v", e, err)
		}
		if m, err := s.UserEndpoints(ctx, other); err != nil || len(m) != 0 {
			t.Fatalf("UserEndpoints of the other user: %v, %v", m, err)
		}
	})

	t.Run("ConcurrentPutsAllLand", func(t *testing.T) {
		s := newStore(t)
		agent, user := uuid.NewString(), uuid.NewString()
		put(t, s, agent, user, func(e *webhooks.Endpoint) { e.Secret = Secret(t, 5) })
		const n = 12
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.PutEndpoint(ctx, agent, user, func(e *webhooks.Endpoint, _ bool) error {
					e.Health.Failures++
					return nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if e, err := s.Endpoint(ctx, agent); err != nil || e.Health.Failures != n {
			t.Fatalf("after %d concurrent increments: %d, %v", n, e.Health.Failures, err)
		}
	})
}

func put(t *testing.T, s webhooks.EndpointStore, agent, user string, fn func(*webhooks.Endpoint)) webhooks.Endpoint {
	t.Helper()
	e, err := s.PutEndpoint(context.Background(), agent, user, func(e *webhooks.Endpoint, found bool) error {
		if !found {
			e.CreatedAt, e.UpdatedAt = T0, T0
		}
		fn(e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// same compares endpoints field by field, the secret and token by value.
func same(t *testing.T, what string, got, want webhooks.Endpoint) {
	t.Helper()
	if got.AgentID != want.AgentID || got.UserID != want.UserID {
		t.Errorf("%s: agent %q user %q, want %q %q", what, got.AgentID, got.UserID, want.AgentID, want.UserID)
	}
	if !reflect.DeepEqual(got.Config.Input(), want.Config.Input()) {
		t.Errorf("%s: config\n got %+v\nwant %+v", what, got.Config.Input(), want.Config.Input())
	}
	if got.Secret.Reveal() != want.Secret.Reveal() {
		t.Errorf("%s: the secret differs", what)
	}
	if !sameHealth(got.Health, want.Health) {
		t.Errorf("%s: health %+v, want %+v", what, got.Health, want.Health)
	}
	if got.DisabledReason != want.DisabledReason || !got.DisabledAt.Equal(want.DisabledAt) {
		t.Errorf("%s: disabled %q at %v, want %q at %v", what, got.DisabledReason, got.DisabledAt, want.DisabledReason, want.DisabledAt)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: created %v updated %v, want %v %v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func sameHealth(a, b webhook.Health) bool {
	return a.FailingSince.Equal(b.FailingSince) && a.LastFailure.Equal(b.LastFailure) &&
		a.LastDelivered.Equal(b.LastDelivered) && a.Failures == b.Failures
}
