package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kupe-voice/kupe/domain/call"
)

// Limits on a recipient record and on one upload. The variable limits are create_call's, since
// every row becomes a create_call with its variables.
const (
	MaxRecordsPerUpload = 10_000 // JSON; a CSV upload is streamed (see CSVReader.MaxRows)
	MaxVariables        = 64
	MaxVariableNameLen  = 64
	MaxVariableValueLen = 4096
)

// The record keys that are not variables.
const (
	PhoneField    = "to_phonenumber"
	TimeZoneField = "timezone"
)

// ErrTooManyRecords is an upload of more than MaxRecordsPerUpload JSON records.
var ErrTooManyRecords = fmt.Errorf("an upload holds at most %d records", MaxRecordsPerUpload)

// Reasons given in RecordError for rows refused as a whole.
const (
	ReasonDuplicate     = "duplicate to_phonenumber in this batch"
	ReasonMissingPhone  = "to_phonenumber is required"
	ReasonInvalidNumber = "invalid phone number"
)

// Recipient is one valid row of a batch: the number to call, the variables that fill the
// agent's {{placeholders}}, and the time zones its call window must hold in.
type Recipient struct {
	phone    call.PhoneNumber
	vars     map[string]string
	timezone string
	zones    []*time.Location
}

// NewRecipient validates a row: phone must be a valid E.164 number (call.ParsePhoneNumber),
// vars at most MaxVariables names of 1 to MaxVariableNameLen characters with values of at most
// MaxVariableValueLen, all valid UTF-8 without NUL (PostgreSQL's text refuses it), and timezone,
// when given, an IANA zone name. Without timezone the zones come from the number
// (ZonesForNumber). The error's text is fit for the API's "reason".
func NewRecipient(phone string, vars map[string]string, timezone string) (Recipient, error) {
	phone = strings.TrimSpace(phone)
	if phone == "" {
		return Recipient{}, errors.New(ReasonMissingPhone)
	}
	p, err := call.ParsePhoneNumber(phone)
	if err != nil {
		return Recipient{}, errors.New(ReasonInvalidNumber)
	}
	if len(vars) > MaxVariables {
		return Recipient{}, fmt.Errorf("at most %d variables", MaxVariables)
	}
	for k, v := range vars {
		if err := checkVariableName(k); err != nil {
			return Recipient{}, err
		}
		if len(v) > MaxVariableValueLen {
			return Recipient{}, fmt.Errorf("variable %q is longer than %d characters", k, MaxVariableValueLen)
		}
		if !cleanText(v) {
			return Recipient{}, fmt.Errorf("variable %q is not valid UTF-8 text", k)
		}
	}
	timezone = strings.TrimSpace(timezone)
	zones, err := RecipientZones(p, timezone)
	if err != nil {
		return Recipient{}, fmt.Errorf("timezone %q is not an IANA time zone", truncate(timezone, maxZoneName))
	}
	if len(vars) == 0 {
		vars = nil
	}
	return Recipient{phone: p, vars: vars, timezone: timezone, zones: zones}, nil
}

// checkVariableName refuses names a placeholder cannot be, and the record's own keys.
func checkVariableName(k string) error {
	switch {
	case k == "" || len(k) > MaxVariableNameLen:
		return fmt.Errorf("variable names must be 1 to %d characters", MaxVariableNameLen)
	case !cleanText(k) || strings.ContainsAny(k, "{}"):
		return fmt.Errorf("variable name %q is not valid", truncate(strings.ToValidUTF8(k, "?"), MaxVariableNameLen))
	case k == PhoneField || k == TimeZoneField:
		return fmt.Errorf("%q is not a variable name", k)
	}
	return nil
}

func cleanText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// Phone is the number to call.
func (r Recipient) Phone() call.PhoneNumber { return r.phone }

// Variables are the row's variables (nil for none). The map is the recipient's own: callers
// must not modify it.
func (r Recipient) Variables() map[string]string { return r.vars }

// TimeZone is the zone the row named, "" when its zones come from the number.
func (r Recipient) TimeZone() string { return r.timezone }

// Zones are the zones the call window must hold in; callers must not modify the slice.
func (r Recipient) Zones() []*time.Location { return r.zones }

// MissingVariable names the first of names the row has no value for; ok is false when it has
// them all. Batches declare variable_names; rows that lack one would call with a placeholder
// showing.
func (r Recipient) MissingVariable(names []string) (name string, missing bool) {
	for _, n := range names {
		if _, ok := r.vars[n]; !ok {
			return n, true
		}
	}
	return "", false
}

// ParseJSONRecord reads one record of upload-json: to_phonenumber, an optional timezone, and
// every other key a variable. Values may be strings, numbers or booleans (as their JSON text)
// or null (empty); objects and arrays are refused, since a placeholder cannot show them.
func ParseJSONRecord(rec map[string]any) (Recipient, error) {
	if len(rec) > MaxVariables+2 {
		return Recipient{}, fmt.Errorf("at most %d variables", MaxVariables)
	}
	var phone, tz string
	vars := make(map[string]string, len(rec))
	for k, v := range rec {
		s, ok := scalarString(v)
		if !ok {
			return Recipient{}, fmt.Errorf("%q must be a string, number or boolean", truncate(strings.ToValidUTF8(k, "?"), MaxVariableNameLen))
		}
		switch k {
		case PhoneField:
			phone = s
		case TimeZoneField:
			tz = s
		default:
			vars[k] = s
		}
	}
	return NewRecipient(phone, vars, tz)
}

func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case nil:
		return "", true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case json.Number:
		return v.String(), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

// Row is a valid recipient and its place in the upload (0-based: the index of the JSON record,
// or of the CSV data row after the header).
type Row struct {
	Index int
	Recipient
}

// RecordError is a row of an upload that was not taken, as the API reports it in "failed".
// Number is the row's to_phonenumber as it was sent (cut to 32 characters); it is the
// customer's own data, for their answer only: logs mask it (call.MaskNumber).
type RecordError struct {
	Index  int
	Number string
	Reason string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d: %s", e.Index, e.Reason)
}

func recordError(index int, number string, reason string) *RecordError {
	number = strings.TrimSpace(number)
	if len(number) > 32 {
		number = number[:32]
	}
	return &RecordError{Index: index, Number: strings.ToValidUTF8(number, "?"), Reason: reason}
}

// ParseJSONRecords validates an upload-json body's records: the valid ones in order, and one
// RecordError for each refused one, duplicates within the upload and of seen included (the
// duplicate is the later row). seen may be nil; it is given the numbers that are kept, so one
// Deduper can span the uploads of a batch. More than MaxRecordsPerUpload records is
// ErrTooManyRecords, and nothing is taken.
func ParseJSONRecords(records []map[string]any, seen *Deduper) ([]Row, []RecordError, error) {
	if len(records) > MaxRecordsPerUpload {
		return nil, nil, ErrTooManyRecords
	}
	if seen == nil {
		seen = NewDeduper()
	}
	rows := make([]Row, 0, len(records))
	var failed []RecordError
	for i, rec := range records {
		r, err := ParseJSONRecord(rec)
		if err != nil {
			phone, _ := scalarString(rec[PhoneField])
			failed = append(failed, *recordError(i, phone, err.Error()))
			continue
		}
		if !seen.Add(r.Phone()) {
			failed = append(failed, *recordError(i, r.Phone().String(), ReasonDuplicate))
			continue
		}
		rows = append(rows, Row{Index: i, Recipient: r})
	}
	return rows, failed, nil
}

// Deduper remembers the numbers of a batch so that each is taken once. It holds one entry per
// number: for numbers already stored, the store's unique index on (batch, number) is the check
// that scales, and the Deduper spares it the duplicates within one upload.
type Deduper struct {
	seen map[string]struct{}
}

// NewDeduper starts with the numbers (E.164) already in the batch.
func NewDeduper(existing ...string) *Deduper {
	d := &Deduper{seen: make(map[string]struct{}, len(existing))}
	for _, e := range existing {
		d.seen[e] = struct{}{}
	}
	return d
}

// Add records p and reports whether it was new.
func (d *Deduper) Add(p call.PhoneNumber) bool {
	if _, dup := d.seen[p.String()]; dup {
		return false
	}
	d.seen[p.String()] = struct{}{}
	return true
}

// Check is Add for a row: nil when the row's number is new, else the duplicate's RecordError.
func (d *Deduper) Check(r Row) *RecordError {
	if d.Add(r.Phone()) {
		return nil
	}
	return recordError(r.Index, r.Phone().String(), ReasonDuplicate)
}
