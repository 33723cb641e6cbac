package accounts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// The operator's reads name any user or session, and check the ids they are given.
func TestOperatorReads(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	acc := &accounts.Accounts{Store: store, Now: func() time.Time { at = at.Add(time.Second); return at }}
	var users []identity.User
	for _, email := range []string{"ada@example.com", "bob@example.com", "cy@example.com"} {
		u, err := acc.CreateUser(ctx, email, money.FromUnits(1))
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	p, err := acc.ListUsers(ctx, 2, 2)
	if err != nil || p.Total != 3 || len(p.Items) != 1 || p.Items[0].ID != users[2].ID || p.Page != 2 || p.PageSize != 2 {
		t.Fatalf("ListUsers(2, 2) = %+v, %v", p, err)
	}
	var inv *fault.InvalidInputError
	if _, err := acc.ListUsers(ctx, 1, accounts.MaxPageSize+1); !errors.As(err, &inv) {
		t.Fatalf("ListUsers over the page size = %v", err)
	}
	if u, err := acc.User(ctx, users[1].ID); err != nil || u.Email != "bob@example.com" {
		t.Fatalf("User = %+v, %v", u, err)
	}
	if _, err := acc.User(ctx, "x"); !errors.As(err, &inv) {
		t.Fatalf("User(x) = %v", err)
	}
	if _, err := acc.User(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("User(unknown) = %v", err)
	}

	limits := &accounts.UserLimits{Store: store}
	n := 7
	if _, err := limits.Set(ctx, accounts.SetLimits{UserID: users[0].ID, MaxConcurrentCalls: &n}); err != nil {
		t.Fatal(err)
	}
	if l, err := limits.Get(ctx, users[0].ID); err != nil || l.MaxConcurrentCalls != 7 {
		t.Fatalf("Get = %+v, %v", l, err)
	}
	if _, err := limits.Get(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v", err)
	}

	logs := &accounts.CallLogs{Sessions: store}
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: users[2].ID,
		Provider: call.ProviderSimulated, From: "+14155550100", To: "+14155550123"}, time.Now())
	if err := store.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, err := logs.Session(ctx, s.ID); err != nil || got.UserID != users[2].ID {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if _, err := logs.Session(ctx, uuid.NewString()); !errors.Is(err, call.ErrSessionNotFound) {
		t.Fatalf("Session(unknown) = %v", err)
	}
}
