package createcall

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	// Done is set once the Result is stored; until then the first request is still running (or
	// died).
	Done bool
	// Result is what the first request was told, once Done (Replayed and Unrecorded unset).
	Result    Result
	CreatedAt time.Time
	ExpiresAt time.Time
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
// two different requests share an encoding. A scalar variable counts as the text it renders
// (0.10 and "0.10" are the same call). The keys in composite held an object or an array: a
// request with any is fingerprinted as create_call/2, where each variable also says which kind
// it is, so JSON is never taken for a string of the same text; a request without keeps the
// create_call/1 fingerprint that records stored before objects and arrays were accepted hold.
func requestHash(to string, req call.LineRequest, vars map[string]string, composite map[string]bool, opts call.Options) string {
	b := make([]byte, 0, 256)
	field := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	tagged := len(composite) > 0
	if tagged {
		field("create_call/2")
	} else {
		field("create_call/1")
	}
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
		if tagged {
			kind := byte('t') // text: a string or a scalar
			if composite[k] {
				kind = 'j' // an object or an array, as compact JSON
			}
			b = append(b, kind)
		}
		field(vars[k])
	}
	// Options only when asked for, so that the hash of a request without any (every record
	// written before they existed) stays what it was.
	if opts != (call.Options{}) {
		field("options")
		field(strconv.FormatInt(int64(opts.RingTimeout), 10))
		field(strconv.FormatInt(int64(opts.MaxDuration), 10))
		field(opts.MachineDetection.String())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// replay answers a request whose key the user already holds a live record for.
func (h *Handler) replay(ctx context.Context, rec *IdempotencyRecord, hash string, now time.Time) (Result, error) {
	if rec.RequestHash != hash {
		return Result{}, &LimitError{Err: ErrIdempotencyMismatch,
			Detail: "Idempotency-Key was already used with a different request (destination, agent, workflow, phone number or variables)"}
	}
	if rec.Done {
		res := rec.Result
		res.Replayed, res.Unrecorded = true, nil
		return res, nil
	}
	if now.Sub(rec.CreatedAt) < orDuration(h.Limits.IdempotencyPendingTimeout, DefaultIdempotencyPendingTimeout) {
		return Result{}, inProgressError()
	}
	// The first request died between writing its session and storing its Result. Its session is
	// the truth: answer from it as it stands. Once the session has left dialing (the carrier's
	// events or the reconciler settled it) that answer is final and stored, so every later retry
	// is told the same.
	s, err := h.Sessions.Session(ctx, rec.SessionID)
	if err != nil {
		return Result{}, err
	}
	var res Result
	switch st := s.Status(); {
	case st == call.StatusDialing:
		res = resultOf(s, false, reasonUnfinished)
	case st == call.StatusFailed && s.LegID == "":
		detail := s.Detail
		if detail == "" {
			detail = DialRejected.DefaultReason()
		}
		res = resultOf(s, false, detail)
	default:
		// The carrier took the dial: that was the first answer, whatever the call did since.
		res = resultOf(s, true, "")
	}
	if s.Status() != call.StatusDialing {
		if err := h.Sessions.CompleteIdempotency(ctx, rec.UserID, rec.Key, res); err != nil {
			res.Unrecorded = fmt.Errorf("store the result of session %s for its idempotency key: %w", s.ID, err)
		}
	}
	res.Replayed = true
	return res, nil
}

// inProgressError answers a retry that came while the first request with its key still runs
// (or may: another replica may have written the key a moment ago).
func inProgressError() error {
	return &LimitError{Err: ErrIdempotencyInProgress, RetryAfter: inProgressRetryAfter,
		Detail: "A request with this Idempotency-Key is still in progress; retry shortly"}
}

const reasonUnfinished = "Outcome unknown: the request that placed this call did not finish; the call may or may not have connected"
