package campaign_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// Seeds are in testdata/fuzz/<target>.

func FuzzCSVReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := campaign.NewCSVReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, campaign.ErrInvalidCSV) {
				t.Fatalf("header error not ErrInvalidCSV: %v", err)
			}
			return
		}
		last := -1
		for range len(data) + 2 {
			row, err := r.Next()
			var re *campaign.RecordError
			switch {
			case err == nil:
				checkRow(t, row.Recipient)
				if row.Index <= last {
					t.Fatalf("row index %d after %d", row.Index, last)
				}
				last = row.Index
			case errors.As(err, &re):
				if re.Index <= last || re.Reason == "" || len(re.Number) > 32 || !utf8.ValidString(re.Number) {
					t.Fatalf("bad RecordError %+v after index %d", re, last)
				}
				last = re.Index
			case errors.Is(err, io.EOF):
				return
			case errors.Is(err, campaign.ErrInvalidCSV):
				if _, again := r.Next(); !errors.Is(again, campaign.ErrInvalidCSV) {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}
		t.Fatal("more results than input bytes")
	})
}

// checkRow holds every recipient to what NewRecipient promises.
func checkRow(t *testing.T, r campaign.Recipient) {
	t.Helper()
	p, err := call.ParsePhoneNumber(r.Phone().String())
	if err != nil || p != r.Phone() {
		t.Fatalf("row number %q does not parse back: %v", r.Phone(), err)
	}
	if len(r.Variables()) > campaign.MaxVariables || len(r.Zones()) == 0 {
		t.Fatalf("row with %d variables and %d zones", len(r.Variables()), len(r.Zones()))
	}
	for k, v := range r.Variables() {
		if k == "" || len(k) > campaign.MaxVariableNameLen || len(v) > campaign.MaxVariableValueLen ||
			!utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsRune(k+v, 0) {
			t.Fatalf("variable %q = %q escaped the limits", k, v)
		}
	}
}

func FuzzParseCallWindow(f *testing.F) {
	f.Fuzz(func(t *testing.T, start, end, days string, unix int64) {
		var ds []string
		if days != "" {
			ds = strings.Split(days, ",")
		}
		w, err := campaign.ParseCallWindow(start, end, ds)
		if err != nil {
			if !errors.Is(err, campaign.ErrInvalidWindow) {
				t.Fatalf("error not ErrInvalidWindow: %v", err)
			}
			return
		}
		again, err := campaign.ParseCallWindow(w.Start(), w.End(), w.Days())
		if err != nil || again != w {
			t.Fatalf("%s does not round-trip: %v, %v", w, again, err)
		}
		// Any instant of this century, in zones with the awkward offsets.
		from := time.Unix(unix%(100*365*86400), 0).UTC()
		zs := []*time.Location{zone(t, "America/New_York"), zone(t, "Asia/Kathmandu")}
		next, ok := w.NextOpen(from, zs)
		if ok && (next.Before(from) || next.After(from.Add(campaign.NextOpenHorizon)) || !w.OpenAt(next, zs)) {
			t.Fatalf("%s from %v: NextOpen = %v, not open or out of range", w, from, next)
		}
		// Every instant between from and next is closed, the second before next included.
		if ok && next.Add(-time.Second).After(from) && w.OpenAt(next.Add(-time.Second), zs) {
			t.Fatalf("%s from %v: NextOpen = %v, but open a second before", w, from, next)
		}
	})
}

func FuzzParseJSONRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec map[string]any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if d.Decode(&rec) != nil {
			return
		}
		r, err := campaign.ParseJSONRecord(rec)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty reason")
			}
			return
		}
		checkRow(t, r)
		rows, failed, err := campaign.ParseJSONRecords([]map[string]any{rec, rec}, nil)
		if err != nil || len(rows) != 1 || len(failed) != 1 || failed[0].Reason != campaign.ReasonDuplicate {
			t.Fatalf("a record twice: %d rows, %+v, %v", len(rows), failed, err)
		}
	})
}
