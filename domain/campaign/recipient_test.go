package campaign_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/campaign"
)

func TestNewRecipient(t *testing.T) {
	r, err := campaign.NewRecipient(" +91 98765 43210 ", map[string]string{"name": "Ada"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Phone().String() != "+919876543210" || r.Variables()["name"] != "Ada" || r.TimeZone() != "" ||
		!slices.Equal(zoneNames(r.Zones()), []string{"Asia/Calcutta"}) {
		t.Fatalf("recipient = %v %v %q %v", r.Phone(), r.Variables(), r.TimeZone(), zoneNames(r.Zones()))
	}
	r, err = campaign.NewRecipient("+12125551234", nil, "America/Chicago")
	if err != nil || r.TimeZone() != "America/Chicago" || !slices.Equal(zoneNames(r.Zones()), []string{"America/Chicago"}) {
		t.Fatalf("explicit zone: %v %v, %v", r.TimeZone(), zoneNames(r.Zones()), err)
	}
	if name, missing := r.MissingVariable([]string{"name"}); !missing || name != "name" {
		t.Errorf("MissingVariable = %q, %v", name, missing)
	}

	long := strings.Repeat("x", campaign.MaxVariableValueLen+1)
	many := map[string]string{}
	for i := range campaign.MaxVariables + 1 {
		many[strings.Repeat("k", i+1)[:min(i+1, 60)]+string(rune('a'+i%26))] = "v"
	}
	bad := []struct {
		phone, tz string
		vars      map[string]string
		reason    string
	}{
		{"", "", nil, campaign.ReasonMissingPhone},
		{"  ", "", nil, campaign.ReasonMissingPhone},
		{"+1555", "", nil, campaign.ReasonInvalidNumber},
		{"+15550100000", "", nil, campaign.ReasonInvalidNumber}, // unassigned 555 range
		{"hello", "", nil, campaign.ReasonInvalidNumber},
		{"+919876543210", "Mars/Base", nil, "not an IANA time zone"},
		{"+919876543210", "", map[string]string{"name": long}, "longer than"},
		{"+919876543210", "", map[string]string{"name": "a\x00b"}, "not valid UTF-8"},
		{"+919876543210", "", map[string]string{"name": "\xff"}, "not valid UTF-8"},
		{"+919876543210", "", map[string]string{"": "x"}, "1 to 64"},
		{"+919876543210", "", map[string]string{strings.Repeat("n", 65): "x"}, "1 to 64"},
		{"+919876543210", "", map[string]string{"{{x}}": "x"}, "not valid"},
		{"+919876543210", "", map[string]string{"timezone": "x"}, "not a variable name"},
		{"+919876543210", "", many, "at most 64"},
	}
	for _, c := range bad {
		_, err := campaign.NewRecipient(c.phone, c.vars, c.tz)
		if err == nil || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("NewRecipient(%q, %d vars, %q) = %v; want %q", c.phone, len(c.vars), c.tz, err, c.reason)
		}
	}
}

func decodeRecords(t *testing.T, body string) []map[string]any {
	t.Helper()
	var v struct {
		Records []map[string]any `json:"records"`
	}
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Records
}

func TestParseJSONRecords(t *testing.T) {
	records := decodeRecords(t, `{"records": [
		{"to_phonenumber": "+919876543210", "name": "Ada", "company_name": "Acme"},
		{"to_phonenumber": "+12125551234", "balance": 50.5, "vip": true, "note": null, "timezone": "America/Chicago"},
		{"to_phonenumber": "+919876543210", "name": "Ada again"},
		{"to_phonenumber": "12345", "name": "Bob"},
		{"name": "no number"},
		{"to_phonenumber": "+447911123456", "tags": ["a"]},
		{"to_phonenumber": 14155550123},
		{"to_phonenumber": "+12125559999"}
	]}`)
	seen := campaign.NewDeduper("+12125559999") // already in the batch
	rows, failed, err := campaign.ParseJSONRecords(records, seen)
	if err != nil {
		t.Fatal(err)
	}
	var gotRows []int
	for _, r := range rows {
		gotRows = append(gotRows, r.Index)
	}
	if !slices.Equal(gotRows, []int{0, 1, 6}) {
		t.Fatalf("rows %v", gotRows)
	}
	if v := rows[1].Variables(); !maps.Equal(v, map[string]string{"balance": "50.5", "vip": "true", "note": ""}) || rows[1].TimeZone() != "America/Chicago" {
		t.Errorf("row 1 variables %v tz %q", v, rows[1].TimeZone())
	}
	if rows[2].Phone().String() != "+14155550123" {
		t.Errorf("a number given as a JSON number: %v", rows[2].Phone())
	}
	want := []campaign.RecordError{
		{Index: 2, Number: "+919876543210", Reason: campaign.ReasonDuplicate},
		{Index: 3, Number: "12345", Reason: campaign.ReasonInvalidNumber},
		{Index: 4, Number: "", Reason: campaign.ReasonMissingPhone},
		{Index: 5, Number: "+447911123456", Reason: `"tags" must be a string, number or boolean`},
		{Index: 7, Number: "+12125559999", Reason: campaign.ReasonDuplicate},
	}
	if !slices.Equal(failed, want) {
		t.Errorf("failed = %+v\nwant %+v", failed, want)
	}
	// The Deduper now holds the kept numbers, for the batch's next upload.
	if seen.Add(rows[0].Phone()) {
		t.Error("the kept number is not remembered")
	}
}

func TestParseJSONRecordsRefusesTooMany(t *testing.T) {
	records := make([]map[string]any, campaign.MaxRecordsPerUpload+1)
	if _, _, err := campaign.ParseJSONRecords(records, nil); !errors.Is(err, campaign.ErrTooManyRecords) {
		t.Fatalf("err = %v", err)
	}
	rows, failed, err := campaign.ParseJSONRecords(records[:campaign.MaxRecordsPerUpload], nil)
	if err != nil || len(rows) != 0 || len(failed) != campaign.MaxRecordsPerUpload {
		t.Fatalf("10,000 empty records: %d rows, %d failed, %v", len(rows), len(failed), err)
	}
}

func TestRecordErrorKeepsTheNumberShort(t *testing.T) {
	_, failed, _ := campaign.ParseJSONRecords([]map[string]any{{"to_phonenumber": strings.Repeat("9", 100) + "\xff"}}, nil)
	if len(failed) != 1 || len(failed[0].Number) != 32 {
		t.Fatalf("failed = %+v", failed)
	}
}
