package elisonprovider_test

import (
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/elisonprovider"
	"github.com/kupe-voice/kupe/domain/call"
)

func TestParseStatusCallback(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        call.Status
		leg         string
		duration    time.Duration
		at          time.Time
	}{
		{"JSON completed", "application/json", `{"reference":"s1","queue_id":123,"call_id":"c9","status":"completed","duration":"42","timestamp":"2026-11-28T14:30:00+05:30"}`,
			call.StatusCompleted, "123", 42 * time.Second, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)},
		{"JSON answered, call id only", "application/json; charset=utf-8", `{"call_id":"c9","status":"Answered"}`, call.StatusInProgress, "c9", 0, time.Time{}},
		{"form no-answer", "application/x-www-form-urlencoded", "queue_id=q1&status=no-answer&duration=0", call.StatusNoAnswer, "q1", 0, time.Time{}},
		{"unknown status", "", `{"queue_id":"q2","status":"paused"}`, 0, "q2", 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := elisonprovider.ParseStatusCallback(tt.contentType, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Status != tt.want || ev.LegID != tt.leg || ev.Duration != tt.duration || !ev.At.Equal(tt.at) {
				t.Fatalf("event %+v", ev)
			}
		})
	}
	for name, tc := range map[string][2]string{
		"malformed JSON": {"application/json", `{"status":`},
		"XML":            {"text/xml", "<x/>"},
	} {
		if _, err := elisonprovider.ParseStatusCallback(tc[0], []byte(tc[1])); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestMapStatus(t *testing.T) {
	for in, want := range map[string]call.Status{
		"queued": call.StatusInitiated, "dialing": call.StatusInitiated, "ringing": call.StatusRinging,
		"answered": call.StatusInProgress, "in-progress": call.StatusInProgress, "completed": call.StatusCompleted,
		"busy": call.StatusBusy, "NO ANSWER": call.StatusNoAnswer, "failed": call.StatusFailed, "cancelled": call.StatusCanceled,
	} {
		if got, ok := elisonprovider.MapStatus(in); !ok || got != want {
			t.Errorf("MapStatus(%q) = %s, %v; want %s", in, got, ok, want)
		}
	}
}
