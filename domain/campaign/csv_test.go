package campaign_test

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/campaign"
)

// readAll reads an upload to its end: the rows, the row errors, and what ended it (nil for
// io.EOF).
func readAll(t testing.TB, r *campaign.CSVReader) ([]campaign.Row, []campaign.RecordError, error) {
	t.Helper()
	var rows []campaign.Row
	var failed []campaign.RecordError
	for range 1_000_000 {
		row, err := r.Next()
		var re *campaign.RecordError
		switch {
		case err == nil:
			rows = append(rows, row)
		case errors.As(err, &re):
			failed = append(failed, *re)
		case errors.Is(err, io.EOF):
			return rows, failed, nil
		default:
			return rows, failed, err
		}
	}
	t.Fatal("the reader never ended")
	return nil, nil, nil
}

func TestCSVReader(t *testing.T) {
	in := "\ufeffname, to_phonenumber ,Company Name,timezone\r\n" +
		"Ada,+919876543210,Acme,\r\n" +
		"\"Bob \"\"B\"\"\",+1 (212) 555-1234,\"Line one\nline two\",America/Chicago\r\n" +
		",,,\r\n" + // blank spreadsheet row: skipped
		"Cy,12345,Nope,\r\n" +
		"Di,+447911123456,Short\r\n" +
		"Ed,+447911123456,Acme,Mars/Base\r\n" +
		"\r\n" +
		"Flo,+61412345678,Acme,\n"
	r, err := campaign.NewCSVReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.VariableNames(); strings.Join(got, "|") != "name|Company Name" {
		t.Fatalf("variables %q", got)
	}
	rows, failed, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	if rows[0].Index != 0 || rows[0].Phone().String() != "+919876543210" ||
		!maps.Equal(rows[0].Variables(), map[string]string{"name": "Ada", "Company Name": "Acme"}) {
		t.Errorf("row 0 = %d %v %v", rows[0].Index, rows[0].Phone(), rows[0].Variables())
	}
	if rows[1].Index != 1 || rows[1].Phone().String() != "+12125551234" || rows[1].Variables()["name"] != `Bob "B"` ||
		rows[1].Variables()["Company Name"] != "Line one\nline two" || rows[1].TimeZone() != "America/Chicago" {
		t.Errorf("row 1 = %d %v %q %q", rows[1].Index, rows[1].Phone(), rows[1].Variables(), rows[1].TimeZone())
	}
	if rows[2].Index != 6 || rows[2].Phone().String() != "+61412345678" {
		t.Errorf("row 2 = %d %v", rows[2].Index, rows[2].Phone())
	}
	want := []campaign.RecordError{
		{Index: 3, Number: "12345", Reason: campaign.ReasonInvalidNumber},
		{Index: 4, Number: "+447911123456", Reason: "row has 3 fields, the header has 4"},
		{Index: 5, Number: "+447911123456", Reason: `timezone "Mars/Base" is not an IANA time zone`},
	}
	if fmt.Sprint(failed) != fmt.Sprint(want) {
		t.Errorf("failed = %+v\nwant %+v", failed, want)
	}
	// The end is sticky.
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the end: %v", err)
	}
}

func TestCSVReaderHeader(t *testing.T) {
	bad := map[string]string{
		"empty":            "",
		"no phone column":  "name,company\n",
		"phone twice":      "to_phonenumber,TO_PHONENUMBER\n",
		"timezone twice":   "to_phonenumber,timezone,Timezone\n",
		"variable twice":   "to_phonenumber,name,name\n",
		"empty name":       "to_phonenumber,,name\n",
		"braces":           "to_phonenumber,{{name}}\n",
		"too many columns": "to_phonenumber" + strings.Repeat(",c", campaign.MaxCSVColumns) + "\n",
		"bare quote":       "to_phone\"number\n",
	}
	for name, in := range bad {
		if _, err := campaign.NewCSVReader(strings.NewReader(in)); !errors.Is(err, campaign.ErrInvalidCSV) {
			t.Errorf("%s: NewCSVReader = %v, want ErrInvalidCSV", name, err)
		}
	}
	r, err := campaign.NewCSVReader(strings.NewReader("to_phonenumber\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rows, failed, err := readAll(t, r); len(rows)+len(failed) != 0 || err != nil {
		t.Fatalf("header only: %v %v %v", rows, failed, err)
	}
}

func TestCSVReaderSyntaxErrorEndsTheUpload(t *testing.T) {
	r, err := campaign.NewCSVReader(strings.NewReader("to_phonenumber,name\n+919876543210,Ada\n+12125551234,Bo\"b\n+447911123456,Cy\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := readAll(t, r)
	if len(rows) != 1 || !errors.Is(err, campaign.ErrInvalidCSV) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
	if _, again := r.Next(); !errors.Is(again, campaign.ErrInvalidCSV) {
		t.Fatalf("the error is not sticky: %v", again)
	}
}

func TestCSVReaderBoundsARecord(t *testing.T) {
	// A quoted field that never closes: the reader must give up, not read it all.
	huge := &endless{prefix: "to_phonenumber,name\n+919876543210,\"", fill: 'x'}
	r, err := campaign.NewCSVReader(huge)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if !errors.Is(err, campaign.ErrInvalidCSV) || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err = %v", err)
	}
	if huge.served > 1<<20 {
		t.Fatalf("read %d bytes of one record", huge.served)
	}

	// A field over the value limit is the row's error, and reading goes on.
	in := "to_phonenumber,name\n+919876543210," + strings.Repeat("y", campaign.MaxVariableValueLen+1) + "\n+12125551234,Bo\n"
	r, _ = campaign.NewCSVReader(strings.NewReader(in))
	rows, failed, err := readAll(t, r)
	if err != nil || len(rows) != 1 || len(failed) != 1 || failed[0].Index != 0 {
		t.Fatalf("rows %v failed %+v err %v", rows, failed, err)
	}
}

func TestCSVReaderMaxRows(t *testing.T) {
	in := "to_phonenumber\n+919876543210\n+12125551234\n+447911123456\n"
	r, _ := campaign.NewCSVReader(strings.NewReader(in))
	r.MaxRows = 2
	rows, _, err := readAll(t, r)
	if len(rows) != 2 || !errors.Is(err, campaign.ErrInvalidCSV) {
		t.Fatalf("rows %d err %v", len(rows), err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestCSVReaderPassesReadErrors(t *testing.T) {
	cut := errors.New("connection reset")
	r, err := campaign.NewCSVReader(io.MultiReader(strings.NewReader("to_phonenumber\n+919876543210\n"), failingReader{cut}))
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := readAll(t, r)
	if len(rows) != 1 || !errors.Is(err, cut) || errors.Is(err, campaign.ErrInvalidCSV) {
		t.Fatalf("rows %d err %v", len(rows), err)
	}
}

// endless serves prefix and then fill forever.
type endless struct {
	prefix string
	fill   byte
	served int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	if e.served < len(e.prefix) {
		n = copy(p, e.prefix[e.served:])
	}
	for i := n; i < len(p); i++ {
		p[i] = e.fill
	}
	e.served += len(p)
	return len(p), nil
}
