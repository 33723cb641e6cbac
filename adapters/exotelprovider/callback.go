package exotelprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/call"
)

// ErrCallbackBody is a status callback body that is neither the JSON nor the form Exotel posts.
var ErrCallbackBody = errors.New("exotel status callback: want a JSON, multipart or urlencoded body")

// statuses maps Exotel's call Status values onto the session lifecycle. Exotel reports
// "in-progress" on its answered event and a terminal status on its terminal event.
var statuses = map[string]call.Status{
	"queued":      call.StatusInitiated,
	"ringing":     call.StatusRinging,
	"in-progress": call.StatusInProgress,
	"answered":    call.StatusInProgress,
	"completed":   call.StatusCompleted,
	"busy":        call.StatusBusy,
	"no-answer":   call.StatusNoAnswer,
	"failed":      call.StatusFailed,
	"canceled":    call.StatusCanceled,
	"cancelled":   call.StatusCanceled,
}

// MapStatus reads an Exotel call status; ok is false for a value it does not know.
func MapStatus(s string) (st call.Status, ok bool) {
	s = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
	st, ok = statuses[s]
	return st, ok
}

// maxMultipartMemory bounds what a multipart callback may hold in memory; the whole body is
// bounded by the HTTP layer already.
const maxMultipartMemory = 1 << 20

// ParseStatusCallback reads one of Exotel's status callbacks: JSON (the connect request asks for
// it), or the multipart (or urlencoded) form Exotel posts otherwise. It reads Status (or, on an
// answered event that has none, EventType), CallSid as the leg id and ConversationDuration
// (seconds of talk); field names match in any case. Exotel's times carry no zone, so the event
// takes the time it arrives. The caller sets the event's session and provider.
func ParseStatusCallback(contentType string, body []byte) (callevents.CarrierEvent, error) {
	f, err := callbackFields(contentType, body)
	if err != nil {
		return callevents.CarrierEvent{}, err
	}
	var ev callevents.CarrierEvent
	st, ok := MapStatus(f["status"])
	if !ok && strings.EqualFold(f["eventtype"], "answered") {
		st = call.StatusInProgress
	}
	ev.Status = st
	if sid := f["callsid"]; carrierhttp.ValidID(sid) {
		ev.LegID = sid
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(f["conversationduration"]), 10, 64); err == nil {
		ev.Duration, _ = carrierhttp.CallDuration(n)
	}
	return ev, nil
}

// callbackFields reads a callback's top-level fields, by lower-case name.
func callbackFields(contentType string, body []byte) (map[string]string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = ""
	}
	out := map[string]string{}
	add := func(k, v string) {
		if k = strings.ToLower(k); out[k] == "" {
			out[k] = strings.TrimSpace(v)
		}
	}
	switch {
	case mt == "application/json" || mt == "" && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		var m map[string]carrierhttp.Text
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, ErrCallbackBody
		}
		for k, v := range m {
			add(k, string(v))
		}
	case mt == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, ErrCallbackBody
		}
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxMultipartMemory)
		if err != nil {
			return nil, ErrCallbackBody
		}
		defer form.RemoveAll()
		for k, v := range form.Value {
			add(k, v[0])
		}
	case mt == "application/x-www-form-urlencoded" || mt == "":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, ErrCallbackBody
		}
		for k, v := range form {
			add(k, v[0])
		}
	default:
		return nil, ErrCallbackBody
	}
	return out, nil
}
