package exotelprovider_test

import (
	"bytes"
	"mime/multipart"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/exotelprovider"
	"github.com/kupe-voice/kupe/domain/call"
)

func multipartBody(t *testing.T, fields map[string]string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.Bytes()
}

func TestParseStatusCallback(t *testing.T) {
	mpType, mpBody := multipartBody(t, map[string]string{"CallSid": "b6cfaf5d6a1a4e", "EventType": "terminal",
		"Status": "completed", "ConversationDuration": "62", "DateUpdated": "2026-11-28 14:31:12"})
	tests := []struct {
		name        string
		contentType string
		body        string
		want        call.Status
		leg         string
		duration    time.Duration
	}{
		{"JSON terminal", "application/json", `{"CallSid":"b6cfaf5d6a1a4e","EventType":"terminal","Status":"completed",
			"ConversationDuration":62,"Legs":[{"OnCallDuration":62}],"CustomField":"s1"}`, call.StatusCompleted, "b6cfaf5d6a1a4e", 62 * time.Second},
		{"JSON answered without a status", "application/json; charset=utf-8", `{"CallSid":"x1","EventType":"answered"}`, call.StatusInProgress, "x1", 0},
		{"JSON lower-case names, string duration", "application/json", `{"callsid":"x2","status":"no-answer","conversationduration":"0"}`, call.StatusNoAnswer, "x2", 0},
		{"multipart terminal", mpType, string(mpBody), call.StatusCompleted, "b6cfaf5d6a1a4e", 62 * time.Second},
		{"urlencoded busy", "application/x-www-form-urlencoded", "CallSid=x3&Status=busy", call.StatusBusy, "x3", 0},
		{"no Content-Type, JSON", "", `{"CallSid":"x4","Status":"failed"}`, call.StatusFailed, "x4", 0},
		{"unknown status", "application/json", `{"CallSid":"x5","Status":"paused"}`, 0, "x5", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := exotelprovider.ParseStatusCallback(tt.contentType, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Status != tt.want || ev.LegID != tt.leg || ev.Duration != tt.duration || !ev.At.IsZero() {
				t.Fatalf("event %+v; want status %s leg %q duration %v", ev, tt.want, tt.leg, tt.duration)
			}
		})
	}
	for name, tc := range map[string][2]string{
		"malformed JSON":       {"application/json", `{"CallSid":`},
		"multipart no bound":   {"multipart/form-data", "x"},
		"multipart truncated":  {mpType, string(mpBody[:20])},
		"another content type": {"text/xml", "<Call/>"},
	} {
		if _, err := exotelprovider.ParseStatusCallback(tc[0], []byte(tc[1])); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestMapStatus(t *testing.T) {
	for in, want := range map[string]call.Status{
		"queued": call.StatusInitiated, "ringing": call.StatusRinging, "in-progress": call.StatusInProgress,
		"completed": call.StatusCompleted, "busy": call.StatusBusy, "no-answer": call.StatusNoAnswer, "no_answer": call.StatusNoAnswer,
		"failed": call.StatusFailed, "canceled": call.StatusCanceled, "Cancelled": call.StatusCanceled,
	} {
		if got, ok := exotelprovider.MapStatus(in); !ok || got != want {
			t.Errorf("MapStatus(%q) = %s, %v; want %s", in, got, ok, want)
		}
	}
}
