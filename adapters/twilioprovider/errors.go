package twilioprovider

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/twilio/twilio-go/client"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Twilio error codes the adapter tells apart (https://www.twilio.com/docs/api/errors).
const (
	codeAuthenticate       = 20003
	codeTooManyRequests    = 20429
	codeFromNotVerified    = 21210
	codeInvalidTo          = 21211
	codeInvalidFrom        = 21212
	codeToNotReachable     = 21214
	codeGeoPermission      = 21215
	codeToNotValid         = 21217
	codeSDKInvalidUsername = 21222 // twilio-go's own check, before sending
	codeSDKInvalidPassword = 21224 // idem
)

// Customer-facing reasons: no vendor name, no carrier payload, no credential.
const (
	reasonRateLimited        = "The carrier is rate limiting calls from this line; the call was not placed, try again shortly"
	reasonUnavailable        = "The carrier is unavailable right now; the call was not placed"
	reasonNotReached         = "The carrier could not be reached; the call was not placed"
	reasonBadCredentials     = "The carrier refused the line's account id or auth token"
	reasonRejectedWithStatus = "The carrier refused the call (HTTP status %d)"
	reasonRejectedWithCode   = "The carrier refused the call (carrier error %d)"
)

// nonJSONError matches the error twilio-go returns for an error answer whose body is not JSON
// (an HTML 503 page from a load balancer, say): it cannot decode a *client.TwilioRestError and
// instead wraps the decoding error, with the HTTP status only in the message:
//
//	error decoding the response for an HTTP error code: 503: invalid character '<' looking for beginning of value
var nonJSONError = regexp.MustCompile(`error decoding the response for an HTTP error code: (\d{3})`)

// classify turns a CreateCall error into a DialError (without Err) and says whether the create
// may be sent again because the carrier provably did not act on it.
func classify(err error) (de *createcall.DialError, retry bool) {
	mk := func(k createcall.DialErrorKind, reason string) *createcall.DialError {
		if reason == "" {
			reason = k.DefaultReason()
		}
		return &createcall.DialError{Kind: k, Reason: reason}
	}
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		switch te.Code {
		case codeInvalidTo:
			return mk(createcall.DialInvalidDestination, "The destination number is not a valid phone number"), false
		case codeToNotReachable:
			return mk(createcall.DialInvalidDestination, "The destination number cannot be reached"), false
		case codeGeoPermission:
			return mk(createcall.DialInvalidDestination, "The line's carrier account may not call this destination's country or region"), false
		case codeToNotValid:
			return mk(createcall.DialInvalidDestination, "The destination number does not appear to be a valid phone number"), false
		case codeFromNotVerified:
			return mk(createcall.DialCallerNotAllowed, "The line's number is not verified with the carrier as a caller id"), false
		case codeInvalidFrom:
			return mk(createcall.DialCallerNotAllowed, "The line's number is not a valid caller id for the carrier"), false
		case codeAuthenticate, codeSDKInvalidUsername, codeSDKInvalidPassword:
			return mk(createcall.DialBadCredentials, reasonBadCredentials), false
		case codeTooManyRequests:
			return mk(createcall.DialRateLimited, reasonRateLimited), true
		}
		return classifyStatus(te.Status, te.Code)
	}
	if m := nonJSONError.FindStringSubmatch(err.Error()); m != nil {
		status, _ := strconv.Atoi(m[1])
		return classifyStatus(status, 0)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		// Refused at connect: nothing was sent.
		return mk(createcall.DialUnavailable, reasonNotReached), true
	}
	var oe *net.OpError
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	if (errors.As(err, &oe) && oe.Op == "dial") || errors.As(err, &dns) || errors.As(err, &cert) {
		// No connection was made (no such host, no route, a dial timeout, a certificate
		// refused): nothing was sent. Not retried, though: none of these heals in a few hundred
		// milliseconds.
		return mk(createcall.DialUnavailable, reasonNotReached), false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// The request may have reached the carrier and the call may be placed.
		return mk(createcall.DialUnknown, ""), false
	}
	// Anything else (a dropped connection, an answer we cannot read) may have come after the
	// carrier acted.
	return mk(createcall.DialUnknown, ""), false
}

// classifyStatus classifies an error answer by its HTTP status; code is the carrier's error
// code when there was one.
func classifyStatus(status, code int) (*createcall.DialError, bool) {
	k := func(k createcall.DialErrorKind, reason string) *createcall.DialError {
		return &createcall.DialError{Kind: k, Reason: reason}
	}
	switch {
	case status == 429:
		return k(createcall.DialRateLimited, reasonRateLimited), true
	case status == 401:
		return k(createcall.DialBadCredentials, reasonBadCredentials), false
	case status >= 500 && status <= 599:
		return k(createcall.DialUnavailable, reasonUnavailable), false
	case code != 0:
		return k(createcall.DialRejected, fmt.Sprintf(reasonRejectedWithCode, code)), false
	case status >= 400 && status <= 499:
		return k(createcall.DialRejected, fmt.Sprintf(reasonRejectedWithStatus, status)), false
	}
	// An error answer that names neither a status nor a code: still an error answer, so
	// nothing was placed.
	return k(createcall.DialRejected, createcall.DialRejected.DefaultReason()), false
}

// redact copies err's message for DialError.Err with the auth token removed and the phone
// numbers masked, so the error can be logged whole. The copy still answers errors.Is for the
// sentinels in err's chain (syscall.ECONNREFUSED, context.DeadlineExceeded), but does not
// unwrap: errors.As cannot reach the original, whose text could hold the token (a carrier or
// proxy echoing it back).
func redact(err error, token string, numbers ...string) error {
	msg := err.Error()
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[redacted]")
	}
	for _, n := range numbers {
		if len(n) > 4 {
			msg = strings.ReplaceAll(msg, n, call.MaskNumber(n))
		}
	}
	return &redactedError{msg: msg, cause: err}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }
