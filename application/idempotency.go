package application

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Errors of create_call's Idempotency-Key, each reaching the caller inside a *LimitError.
var (
	// ErrIdempotencyInProgress: the first request with the key has not finished yet.
	ErrIdempotencyInProgress = errors.New("a request with this idempotency key is in progress")
	// ErrIdempotencyMismatch: the key was used with a different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
)

// MaxIdempotencyKeyLen bounds an Idempotency-Key, as the idempotency_keys table does.
const MaxIdempotencyKeyLen = 255

// IdempotencyKeyTTL is how long a key is kept: a retry within it replays the first answer; after
// it the key may be used afresh.
const IdempotencyKeyTTL = 24 * time.Hour

// IdempotencyRecord is what a store keeps of a create_call sent with an Idempotency-Key, scoped
// to the user.
type IdempotencyRecord struct {
	UserID string
	Key    string
	// RequestHash fingerprints what was asked: destination, agent, workflow, line, variables.
	RequestHash string
	SessionID   string
	// Done is set once the answer is stored; until then the first request is still running (or
	// died).
	Done           bool
	ResponseStatus int
	Response       []byte
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// BeginCall is a session to write under its user's active-call cap.
type BeginCall struct {
	// Session is new, in status dialing.
	Session *call.Session
	// Idempotency, when set, is the pending record of the request's key, written with the session.
	Idempotency *IdempotencyRecord
	// MaxActive is the user's cap on active sessions (dialing, initiated, ringing, in progress).
	MaxActive int
	// ActiveSince: sessions created before it no longer count, whatever their status, so that a
	// call that never got a final carrier event cannot hold a slot for ever.
	ActiveSince time.Time
}

// CallStore is what create_call writes through.
type CallStore interface {
	SessionStore
	// BeginCall writes the session and, when given, its pending idempotency record, in one
	// transaction, provided the user has fewer than MaxActive active sessions created after
	// ActiveSince; the check and the write are atomic across every process using the database.
	// Otherwise nothing is written and it returns ErrConcurrencyLimit, or
	// ErrIdempotencyInProgress when the user already holds a live record for the key. An expired
	// record for the key is replaced.
	BeginCall(ctx context.Context, b BeginCall) error
	// CompleteIdempotency stores the answer of the request that holds the user's key: the record
	// becomes done with that status and body. fault.ErrNotFound when there is no such record.
	CompleteIdempotency(ctx context.Context, userID, key string, status int, body []byte) error
}

// IdempotencyPurger deletes expired idempotency records, which no request reads any more.
type IdempotencyPurger interface {
	// PurgeIdempotencyKeys deletes at most limit records that expired at or before before, and
	// says how many it deleted.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time, limit int) (int, error)
}

// checkIdempotencyKey accepts 1 to 255 printable ASCII characters.
func checkIdempotencyKey(k string) error {
	if len(k) == 0 || len(k) > MaxIdempotencyKeyLen {
		return invalidIdempotencyKey
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return invalidIdempotencyKey
		}
	}
	return nil
}

var invalidIdempotencyKey = &fault.InvalidInputError{Detail: "Idempotency-Key must be 1 to 255 printable ASCII characters"}

// requestHash fingerprints a create_call as normalised: the E.164 destination, the ids as the
// request named them, and the variables sorted by name. Every field is length-prefixed, so no
// two different requests share an encoding.
func requestHash(to string, req call.LineRequest, vars map[string]string) string {
	b := make([]byte, 0, 256)
	field := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	field("create_call/1")
	field(to)
	field(req.Target.AgentID)
	field(req.Target.WorkflowID)
	field(req.LineID)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	slices.Sort(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		field(k)
		field(vars[k])
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// replay answers a request whose key the user already holds a live record for.
func (h *CreateCallHandler) replay(ctx context.Context, rec *IdempotencyRecord, hash string, encode func(CreateCallResult) []byte, now time.Time) (CreateCallResult, error) {
	if rec.RequestHash != hash {
		return CreateCallResult{}, &LimitError{Err: ErrIdempotencyMismatch,
			Detail: "Idempotency-Key was already used with a different request (destination, agent, workflow, phone number or variables)"}
	}
	if rec.Done {
		return CreateCallResult{Replayed: true, ResponseStatus: rec.ResponseStatus, Response: rec.Response}, nil
	}
	if now.Sub(rec.CreatedAt) < orDuration(h.Limits.IdempotencyPendingTimeout, DefaultIdempotencyPendingTimeout) {
		return CreateCallResult{}, inProgressError()
	}
	// The first request died between writing its session and storing its answer. Its session is
	// the truth: answer from it as it stands. Once the session has left dialing (the carrier's
	// events or the reconciler settled it) that answer is final and stored, so every later retry
	// gets the same bytes.
	s, err := h.Sessions.Session(ctx, rec.SessionID)
	if err != nil {
		return CreateCallResult{}, err
	}
	res := CreateCallResult{Session: s, Replayed: true, ResponseStatus: StatusAnswered}
	switch st := s.Status(); {
	case st == call.StatusDialing:
		res.Detail = reasonUnfinished
	case st == call.StatusFailed && s.LegID == "":
		res.Detail = s.Detail
		if res.Detail == "" {
			res.Detail = DialRejected.DefaultReason()
		}
	default:
		// The carrier took the dial: that was the first answer, whatever the call did since.
		res.Success = true
	}
	res.Response = encode(res)
	if s.Status() != call.StatusDialing {
		if err := h.Sessions.CompleteIdempotency(ctx, rec.UserID, rec.Key, res.ResponseStatus, res.Response); err != nil {
			return res, err
		}
	}
	return res, nil
}

// inProgressError answers a retry that came while the first request with its key still runs
// (or may: another replica may have written the key a moment ago).
func inProgressError() error {
	return &LimitError{Err: ErrIdempotencyInProgress, RetryAfter: inProgressRetryAfter,
		Detail: "A request with this Idempotency-Key is still in progress; retry shortly"}
}

const reasonUnfinished = "Outcome unknown: the request that placed this call did not finish; the call may or may not have connected"
