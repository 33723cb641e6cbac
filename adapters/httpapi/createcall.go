package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
)

// publicProvider is the only telephony label a response carries: Kupe never names the vendor.
const publicProvider = "pstn"

var createCallKeys = []string{"phoneNumber", "agent_id", "workflow_id", "phone_number_id",
	call.OptionRingTimeout, call.OptionMaxDuration, call.OptionMachineDetection}

const (
	qPhone = iota
	qAgent
	qWorkflow
	qLine
	qRingTimeout
	qMaxDuration
	qMachineDetection
)

// createCall serves POST /api/call/create_call. Once the use case has stored a session the
// answer is a 200 carrying its ids, whatever happened after: the client must be able to trace
// the call.
func (s *server) createCall(c *gin.Context) {
	var (
		values [7]string
		found  [7]bool
	)
	q := queryParams{keys: createCallKeys, values: values[:], found: found[:]}
	if err := q.parse(c.Request.URL.RawQuery); err != nil {
		s.failAuthenticated(c, err)
		return
	}
	vars, err := s.readVariables(c.Request)
	if err != nil {
		s.failAuthenticated(c, err)
		return
	}
	key, err := idempotencyKey(c.Request.Header)
	if err != nil {
		s.failAuthenticated(c, err)
		return
	}
	cmd := createcall.Command{
		To:             values[qPhone],
		AgentID:        values[qAgent],
		WorkflowID:     values[qWorkflow],
		LineID:         values[qLine],
		VariableValues: vars,
		IdempotencyKey: key,

		RingTimeoutSeconds: values[qRingTimeout],
		MaxDurationSeconds: values[qMaxDuration],
		MachineDetection:   values[qMachineDetection],
	}
	if plain, ok := deferredKey(c); ok {
		cmd.KeyHash = identity.HashAPIKey(plain)
	} else {
		p, _ := principal(c)
		cmd.UserID = p.UserID
	}
	res, err := s.deps.CreateCall.Handle(c.Request.Context(), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	if res.Unrecorded != nil {
		// The call was dialled (or refused) but its outcome could not be written: the client
		// still gets the ids, and the log says which session needs a look.
		note(c, res.Unrecorded, zap.String("call_session_id", res.SessionID), zap.String("call_request_id", res.RequestID),
			zap.String("to", call.MaskNumber(res.To)))
	}
	if res.Replayed {
		c.Writer.Header()[headerIdempotentReplayed] = []string{"true"}
	}
	// A replay renders the stored Result through the same encoder as the first answer, so the
	// bytes are the same (TestCreateCallReplayIsByteForByte).
	b := getBuf()
	b.b = AppendCreateCallResponse(b.b, res)
	writeJSONBytes(c, http.StatusOK, b.b)
	putBuf(b)
}

// Idempotency headers of create_call.
const (
	headerIdempotencyKey     = "Idempotency-Key" // canonical form
	headerIdempotentReplayed = "Idempotent-Replayed"
)

// idempotencyKey reads the optional Idempotency-Key header. A header sent empty or twice is
// refused here; the use case checks the key's length and characters.
func idempotencyKey(h http.Header) (string, error) {
	v, ok := h[headerIdempotencyKey]
	if !ok {
		return "", nil
	}
	if len(v) != 1 || v[0] == "" {
		return "", invalid("Idempotency-Key must be 1 to 255 printable ASCII characters")
	}
	return v[0], nil
}

// AppendCreateCallResponse appends the JSON that create_call answers with for res: Kupe's
// CreateOutboundCallSuccess or CreateOutboundCallFailed. A Result without a session (none comes
// from Handle) is written as status and detail only.
func AppendCreateCallResponse(dst []byte, res createcall.Result) []byte {
	if res.SessionID == "" {
		dst = append(dst, `{"status":"failed","detail":`...)
		dst = appendJSONString(dst, res.Detail)
		return append(dst, '}')
	}
	if res.Success {
		dst = append(dst, `{"status":"success","request_id":`...)
	} else {
		dst = append(dst, `{"status":"failed","request_id":`...)
	}
	dst = appendJSONString(dst, res.RequestID)
	dst = append(dst, `,"call_session_id":`...)
	dst = appendJSONString(dst, res.SessionID)
	dst = append(dst, `,"user_id":`...)
	dst = appendJSONString(dst, res.UserID)
	dst = append(dst, `,"telephony_provider":"`+publicProvider+`","target_number":`...)
	dst = appendJSONString(dst, res.To)
	if res.Success {
		dst = append(dst, `,"from_phone_number":`...)
		dst = appendJSONString(dst, res.From)
		if res.LegID != "" {
			dst = append(dst, `,"telephony_leg_id":`...)
			dst = appendJSONString(dst, res.LegID)
		}
	} else {
		dst = append(dst, `,"detail":`...)
		dst = appendJSONString(dst, res.Detail)
	}
	return append(dst, '}')
}

// createCallBody is the optional JSON body of create_call. variable_values is decoded as any so
// that a value of the wrong kind is told apart from a malformed body.
type createCallBody struct {
	VariableValues any `json:"variable_values"`
}

// readVariables reads the optional body: nothing, or a JSON object whose variable_values is an
// object or null. Any Content-Type is accepted (curl -d sends a form type) and numbers stay
// json.Number, so 0.10 is passed on as written.
func (s *server) readVariables(r *http.Request) (map[string]any, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	max := s.cfg.MaxBodyBytes
	if r.ContentLength > max {
		return nil, errBodyTooLarge
	}
	b := getBuf()
	defer putBuf(b)
	var err error
	if b.b, err = readAtMost(r.Body, b.b, max); err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(b.b)
	if len(body) == 0 {
		return nil, nil
	}
	if body[0] != '{' {
		return nil, invalid("Request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v createCallBody
	if err := dec.Decode(&v); err != nil {
		return nil, malformedBody(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("Request body must hold one JSON object and nothing after it")
	}
	if len(body) > maxVariableValuesBytes && variablesTooLarge(body) {
		return nil, errVariablesTooLarge
	}
	switch vv := v.VariableValues.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return vv, nil
	default:
		return nil, invalid("variable_values must be a JSON object")
	}
}

func malformedBody(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return invalid("Request body is not valid JSON (at byte " + strconv.FormatInt(syn.Offset, 10) + ")")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("Request body is not valid JSON (it ends too early)")
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field == "" {
		return invalid("Request body must be a JSON object")
	}
	return invalid("Request body is not valid JSON")
}

// readAtMost appends what r holds to dst, refusing more than max bytes.
func readAtMost(r io.Reader, dst []byte, max int64) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > max {
			return dst, errBodyTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return dst, errBodyTooLarge
			}
			return dst, errors.Join(errBodyUnreadable, err)
		}
	}
}
