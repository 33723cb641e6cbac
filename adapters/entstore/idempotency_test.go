package entstore_test

import (
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/createcall"
)

// A record written before the store kept Results holds the HTTP answer, with its status: it is
// read back as the Result that answer described, so a retry across the upgrade is still told
// the same.
func TestLegacyIdempotencyRecordIsReadAsItsResult(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			u := newUser(t, s)
			l := newLine(t, s, u.ID, "+14155550123")
			for key, tc := range map[string]struct {
				body string
				want createcall.Result
			}{
				"ok": {`{"status":"success","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+919876543210","from_phone_number":"+14155550123","telephony_leg_id":"CA1"}`,
					createcall.Result{Success: true, RequestID: "r-1", SessionID: "s-1", UserID: "u-1", To: "+919876543210", From: "+14155550123", LegID: "CA1"}},
				"refused": {`{"status":"failed","request_id":"r-2","call_session_id":"s-2","user_id":"u-1","telephony_provider":"pstn","target_number":"+919876543210","detail":"The carrier refused the call"}`,
					createcall.Result{RequestID: "r-2", SessionID: "s-2", UserID: "u-1", To: "+919876543210", Detail: "The carrier refused the call"}},
			} {
				cs := newSession(u.ID, l, base)
				must(t, s.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: 5, ActiveSince: base.Add(-time.Hour),
					Idempotency: &createcall.IdempotencyRecord{UserID: u.ID, Key: key, RequestHash: "h", SessionID: cs.ID,
						CreatedAt: base, ExpiresAt: base.Add(createcall.IdempotencyKeyTTL)}}))
				must(t, entstore.Exec(ctx, s, `UPDATE idempotency_keys SET state = 'done', response_status = 200, response_body = $1 WHERE "key" = $2`,
					[]byte(tc.body), key))
				p, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Now: base.Add(time.Minute), IdempotencyKey: key})
				must(t, err)
				if r := p.Idempotency; r == nil || !r.Done || r.Result != tc.want {
					t.Fatalf("%s: legacy record = %+v, want the result %+v", key, r, tc.want)
				}
			}
		})
	}
}
