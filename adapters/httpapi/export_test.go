package httpapi_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

// storedSession writes a session of the user's created at at, in status st, straight to the
// store, as create_call and the carrier's events would have left it.
func (r *rig) storedSession(userID string, at time.Time, st call.Status, to string) *call.Session {
	r.t.Helper()
	s := call.RestoreSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: userID,
		Provider: call.ProviderSimulated, From: lineNumber, To: to, Duration: 61 * time.Second, Cost: money.FromUnits(1) / 20,
		Detail: "=HYPERLINK(\"x\")", VariableValues: map[string]string{"name": "Ada"}, CreatedAt: at, UpdatedAt: at}, st, 1)
	if err := r.store.CreateSession(context.Background(), s); err != nil {
		r.t.Fatal(err)
	}
	return s
}

// unzip reads a ZIP answer: each file's name and bytes, in the ZIP's order.
func unzip(t testing.TB, w *httptest.ResponseRecorder) ([]string, map[string][]byte) {
	t.Helper()
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("export = %d %q %s", w.Code, w.Header().Get("Content-Type"), specTruncate(w.Body.String()))
	}
	zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		files[f.Name] = b
	}
	return names, files
}

func TestExportOneSession(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	rid := decode(t, r.post(callURL("phoneNumber", destination), a.key, `{"variable_values": {"order": {"id": 7}}}`))["request_id"].(string)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/call-analytics/export?request_id="+rid, nil)
	req.Header.Set("x-api-key", a.key)
	w := serve(r, req)
	validateAgainstSpec(t, req, w)
	names, files := unzip(t, w)
	if len(names) != 1 || names[0] != "call_"+rid+".json" {
		t.Fatalf("ZIP holds %v", names)
	}
	if got := w.Header().Get("Content-Disposition"); got != `attachment; filename="call_`+rid+`.zip"` {
		t.Fatalf("Content-Disposition = %q", got)
	}
	var inZip, inLog map[string]any
	if err := json.Unmarshal(files[names[0]], &inZip); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.get("/api/v1/call-analytics?request_id="+rid, a.key).Body.Bytes(), &inLog); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(inZip) != fmt.Sprint(inLog) {
		t.Fatalf("the ZIP's session\n%v\nis not the call log's\n%v", inZip, inLog)
	}
}

// A bulk export holds calls.csv and calls.jsonl of the caller's sessions created in the days
// asked for, oldest first, and nothing of another user's.
func TestExportRange(t *testing.T) {
	r := newRig(t)
	a, b := r.user(money.FromUnits(5), false), r.user(money.FromUnits(5), false)
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	r.storedSession(a.userID, day.Add(-time.Nanosecond), call.StatusCompleted, destination) // Nov 2
	var want []*call.Session
	for i, st := range []call.Status{call.StatusCompleted, call.StatusFailed, call.StatusBusy, call.StatusInitiated} {
		want = append(want, r.storedSession(a.userID, day.Add(time.Duration(i)*23*time.Hour), st, destination)) // Nov 3 to Nov 5
	}
	r.storedSession(a.userID, day.Add(4*24*time.Hour), call.StatusCompleted, destination) // Nov 7
	theirs := r.storedSession(b.userID, day.Add(time.Hour), call.StatusCompleted, destination)

	req := httptest.NewRequest(http.MethodGet, "/api/v1/call-analytics/export?start_date=2026-11-03&end_date=2026-11-06&include_recordings=false", nil)
	req.Header.Set("x-api-key", a.key)
	w := serve(r, req)
	validateAgainstSpec(t, req, w)
	if got := w.Header().Get("Content-Disposition"); got != `attachment; filename="calls_2026-11-03_2026-11-06.zip"` {
		t.Fatalf("Content-Disposition = %q", got)
	}
	names, files := unzip(t, w)
	if strings.Join(names, ",") != "calls.csv,calls.jsonl" {
		t.Fatalf("ZIP holds %v", names)
	}
	rows, err := csv.NewReader(bytes.NewReader(files["calls.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(want) || strings.Join(rows[0], ",") != "call_session_id,request_id,status,agent_id,workflow_id,"+
		"phone_number_id,telephony_provider,from_number,to_number,telephony_leg_id,duration_seconds,cost,detail,"+
		"created_at,answered_at,ended_at,updated_at" {
		t.Fatalf("calls.csv = %q", rows)
	}
	for i, s := range want {
		row := rows[1+i]
		if row[0] != s.ID || row[1] != s.RequestID || row[2] != s.Status().String() || row[6] != "pstn" ||
			row[8] != destination || row[10] != "61" || row[11] != "0.05" || row[12] != `'=HYPERLINK("x")` ||
			row[13] != s.CreatedAt.Format(time.RFC3339Nano) {
			t.Errorf("calls.csv row %d = %q, want session %s", i+1, row, s.ID)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(files["calls.jsonl"]))
	n := 0
	for ; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("calls.jsonl line %d: %v", n+1, err)
		}
		if n >= len(want) || m["call_session_id"] != want[n].ID || m["status"] != want[n].Status().String() ||
			m["detail"] != `=HYPERLINK("x")` || m["variable_values"].(map[string]any)["name"] != "Ada" {
			t.Fatalf("calls.jsonl line %d = %v", n+1, m)
		}
	}
	if n != len(want) {
		t.Fatalf("calls.jsonl holds %d sessions, want %d", n, len(want))
	}
	for _, f := range files {
		if bytes.Contains(f, []byte(theirs.ID)) || bytes.Contains(f, []byte(b.userID)) {
			t.Fatal("the export holds another user's session")
		}
	}
}

// Kupe answers a bad export request with a 400; so does this service, naming what to fix.
func TestExportRefusals(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	for query, detail := range map[string]string{
		"":                       "send request_id, or start_date and end_date (YYYY-MM-DD)",
		"?start_date=2026-11-01": "send request_id, or start_date and end_date (YYYY-MM-DD)",
		"?start_date=2026-11-01&end_date=2026-11-31":                                     "end_date must be a date as YYYY-MM-DD",
		"?start_date=01/11/2026&end_date=2026-11-30":                                     "start_date must be a date as YYYY-MM-DD",
		"?start_date=2026-11-30&end_date=2026-11-01":                                     "end_date must not be before start_date",
		"?start_date=2026-11-01&end_date=2026-12-02":                                     "an export covers at most 31 days",
		"?request_id=" + uuid.NewString() + "&start_date=2026-11-01&end_date=2026-11-02": "send request_id, or start_date and end_date, not both",
		"?start_date=2026-11-01&end_date=2026-11-02&include_recordings=maybe":            "include_recordings must be true or false",
	} {
		wantDetail(t, r.get("/api/v1/call-analytics/export"+query, a.key), http.StatusBadRequest, detail)
	}
	// The longest range is accepted, and the one-day range.
	for _, query := range []string{"?start_date=2026-11-01&end_date=2026-12-01", "?start_date=2026-11-01&end_date=2026-11-01"} {
		if w := r.get("/api/v1/call-analytics/export"+query, a.key); w.Code != http.StatusOK {
			t.Fatalf("%s = %d %s", query, w.Code, w.Body)
		}
	}
	wantDetail(t, r.get("/api/v1/call-analytics/export?request_id=nope", a.key), http.StatusNotFound, "Session not found")
}

// failingAfter is a call store whose keyset reads fail after the first n pages.
type failingAfter struct {
	createcall.CallStore
	pages atomic.Int32
	n     int32
}

func (f *failingAfter) SessionsCreated(ctx context.Context, userID string, r createcall.SessionRange, limit int) ([]*call.Session, error) {
	if f.pages.Add(1) > f.n {
		return nil, errors.New("connection reset")
	}
	return f.CallStore.SessionsCreated(ctx, userID, r, limit)
}

// An export that fails once it is streaming cannot change its answer: the connection is cut, so
// the client's download fails rather than end in a short ZIP; the failure is logged once, with
// the request id and no phone number.
func TestExportCutOffMidStream(t *testing.T) {
	var store *failingAfter
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		store = &failingAfter{CallStore: d.CallLogs.Sessions, n: 2}
		d.CallLogs = &accounts.CallLogs{Sessions: store}
	})
	a := r.user(money.FromUnits(5), false)
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	for i := range 1500 {
		r.storedSession(a.userID, day.Add(time.Duration(i)*time.Second), call.StatusCompleted, destination)
	}
	srv := httptest.NewServer(r.engine)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/call-analytics/export?start_date=2026-11-03&end_date=2026-11-03", nil)
	req.Header.Set("x-api-key", a.key)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || err == nil {
		t.Fatalf("status %d, read %d bytes, error %v: want a 200 whose body breaks off", resp.StatusCode, len(body), err)
	}
	if _, zerr := zip.NewReader(bytes.NewReader(body), int64(len(body))); zerr == nil {
		t.Fatal("what arrived reads as a whole ZIP")
	}
	srv.Close() // the handler has returned: its log line is written
	errs := r.logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0].ContextMap()["error"]), "connection reset") ||
		errs[0].ContextMap()["request_id"] != resp.Header.Get("X-Request-Id") {
		t.Fatalf("error log = %+v", errs)
	}
}

// An export that fails before a byte of the ZIP went out is an ordinary error answer.
func TestExportFailsBeforeStreaming(t *testing.T) {
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.CallLogs = &accounts.CallLogs{Sessions: &failingAfter{CallStore: d.CallLogs.Sessions, n: 0}}
	})
	a := r.user(money.FromUnits(5), false)
	w := r.get("/api/v1/call-analytics/export?start_date=2026-11-03&end_date=2026-11-03", a.key)
	wantDetail(t, w, http.StatusInternalServerError, "Internal server error")
	if w.Header().Get("Content-Disposition") != "" {
		t.Fatal("an error answer is offered as an attachment")
	}
}

// heapWatch is a response writer that discards the body and, every step bytes, notes the live
// heap after a collection.
type heapWatch struct {
	header        http.Header
	written, next int64
	step          int64
	peak          uint64
	samples       int
}

func (h *heapWatch) Header() http.Header { return h.header }
func (h *heapWatch) WriteHeader(int)     {}
func (h *heapWatch) Write(b []byte) (int, error) {
	h.written += int64(len(b))
	if h.written >= h.next {
		h.next = h.written + h.step
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
		h.samples++
	}
	return len(b), nil
}

// exportHeap exports n sessions and reports how far the live heap rose above what it was before
// the export, at its highest, and how many bytes the ZIP had.
func exportHeap(t testing.TB, n int) (rise uint64, zipBytes int64) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r.storedSession(a.userID, day.Add(time.Duration(i)*time.Millisecond), call.StatusCompleted, destination)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/call-analytics/export?start_date=2026-11-03&end_date=2026-11-03", nil)
	req.Header.Set("x-api-key", a.key)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatch{header: http.Header{}, step: max(int64(n)*8, 4<<10)}
	r.engine.ServeHTTP(w, req)
	if w.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export answered %s", w.header.Get("Content-Type"))
	}
	if w.peak < ms.HeapAlloc {
		return 0, w.written
	}
	return w.peak - ms.HeapAlloc, w.written
}

// The bulk export streams: exporting 100,000 sessions, a ZIP of megabytes, raises the live heap
// by about what 1,000 do (one page of sessions and the compressor), not by the ZIP's size.
func TestExportMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("exports 100,000 sessions")
	}
	small, _ := exportHeap(t, 1_000)
	big, size := exportHeap(t, 100_000)
	t.Logf("live heap rise: %d KiB for 1,000 sessions, %d KiB for 100,000 (a ZIP of %d KiB)", small>>10, big>>10, size>>10)
	if size < 4<<20 {
		t.Fatalf("the ZIP of 100,000 sessions is %d bytes: too small to tell streaming from buffering", size)
	}
	if big > small+2<<20 || big > uint64(size)/4 {
		t.Fatalf("exporting 100,000 sessions raised the live heap by %d KiB, 1,000 by %d KiB", big>>10, small>>10)
	}
}

// BenchmarkExport reports an export's allocations per session and the live heap's rise, for
// 1,000 and 100,000 sessions: the rise stays flat as the count grows.
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var rise uint64
			for range b.N {
				rise, _ = exportHeap(b, n)
			}
			b.ReportMetric(float64(rise)/(1<<20), "MiB-heap-rise")
		})
	}
}
