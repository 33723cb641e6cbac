package entstore_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/secretbox"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Line credentials are sealed at rest: the column holds neither their names nor their values,
// only the key they were sealed with opens them, and a store without a key refuses them while
// everything else works.
func TestCredentialsAreSealedAtRest(t *testing.T) {
	t.Parallel()
	for dialect, url := range map[string]func(testing.TB) string{
		entstore.SQLite:   entstoretest.SQLiteURL,
		entstore.Postgres: entstoretest.PostgresURL,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := url(t)
			s := entstoretest.Open(t, dsn)
			must(t, s.Migrate(ctx))
			u := newUser(t, s)
			const token, sid = "f00dfacef00dfacef00dfacef00dface", "AC0123456789abcdef"
			l := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550123", Provider: call.ProviderTwilio,
				Active: true, CreatedAt: base, Credentials: call.Credentials{"account_sid": sid, "auth_token": token}}
			must(t, s.CreateLine(ctx, l))

			var stored []byte
			must(t, entstore.QueryRow(ctx, s, "SELECT credentials FROM phone_numbers WHERE id = $1", l.ID).Scan(&stored))
			for _, plain := range []string{token, sid, "auth_token", "account_sid"} {
				if bytes.Contains(stored, []byte(plain)) {
					t.Fatalf("stored credentials hold %q in the clear", plain)
				}
			}
			if len(stored) == 0 || stored[0] != 1 {
				t.Fatalf("stored credentials do not start with the version byte: %x", stored[:min(len(stored), 4)])
			}
			got, err := s.Line(ctx, l.ID)
			must(t, err)
			if got.Credentials["auth_token"] != token || got.Credentials["account_sid"] != sid {
				t.Fatal("credentials did not survive the round trip")
			}
			plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{}})
			must(t, err)
			if len(plan.Lines) != 1 || plan.Lines[0].Credentials["auth_token"] != token {
				t.Fatal("the dial plan's line lacks its credentials")
			}

			// Another key does not open them, and says so without showing any of it.
			wrong := openWith(t, dsn, entstore.WithSecretsKey(secretbox.NewKey()))
			_, err = wrong.Line(ctx, l.ID)
			if !errors.Is(err, secretbox.ErrWrongKey) {
				t.Fatalf("Line under another key = %v, want ErrWrongKey", err)
			}
			if _, err := wrong.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{}}); !errors.Is(err, secretbox.ErrWrongKey) {
				t.Fatalf("DialPlan under another key = %v, want ErrWrongKey", err)
			}

			// Without a key: credentials are refused both ways, everything else works.
			keyless := openWith(t, dsn)
			if _, err := keyless.Line(ctx, l.ID); !errors.Is(err, entstore.ErrNoSecretsKey) {
				t.Fatalf("Line without a key = %v, want ErrNoSecretsKey", err)
			}
			withCreds := l
			withCreds.ID, withCreds.Number = uuid.NewString(), "+14155550124"
			if err := keyless.CreateLine(ctx, withCreds); !errors.Is(err, entstore.ErrNoSecretsKey) {
				t.Fatalf("CreateLine with credentials without a key = %v, want ErrNoSecretsKey", err)
			}
			other := newUser(t, keyless)
			bare := call.Line{ID: uuid.NewString(), UserID: other.ID, Number: "+14155550125", Provider: call.ProviderSimulated,
				Active: true, CreatedAt: base}
			must(t, keyless.CreateLine(ctx, bare))
			if got, err := keyless.Line(ctx, bare.ID); err != nil || got.Credentials != nil {
				t.Fatalf("a line without credentials, without a key: %v, %v", got.Credentials, err)
			}
			if plan, err := keyless.DialPlan(ctx, createcall.DialPlanQuery{UserID: other.ID, Requested: call.Target{}}); err != nil || len(plan.Lines) != 1 {
				t.Fatalf("DialPlan of a user without credentials, without a key: %d lines, %v", len(plan.Lines), err)
			}
			if _, err := keyless.User(ctx, u.ID); err != nil {
				t.Fatalf("User without a key: %v", err)
			}
		})
	}
}

func TestOpenRefusesAShortSecretsKey(t *testing.T) {
	t.Parallel()
	s, err := entstore.Open(ctx, entstoretest.SQLiteURL(t), entstore.WithSecretsKey(make([]byte, 16)))
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a 16-byte secrets key")
	}
}

// openWith opens another store on dsn (already migrated), closed when the test ends.
func openWith(t *testing.T, dsn string, opts ...entstore.Option) *entstore.Store {
	t.Helper()
	s, err := entstore.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
