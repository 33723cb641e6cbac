package httpapi

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

var exportKeys = []string{"request_id", "start_date", "end_date", "include_recordings"}

const (
	qExportRequestID = iota
	qExportStart
	qExportEnd
	qExportRecordings
)

// exportWriteWindow is how long an export may take to stream: longer than the server's write
// timeout, which suits an ordinary answer.
const exportWriteWindow = 15 * time.Minute

// exportCallAnalytics serves GET /api/v1/call-analytics/export (Kupe's exportCallAnalytics): with
// request_id a ZIP holding that one of the caller's sessions as JSON; with start_date and
// end_date a ZIP holding calls.csv and calls.jsonl, the caller's sessions created in those UTC
// days, oldest first. The bulk ZIP is streamed: sessions are read a page at a time and written
// straight into it. include_recordings is accepted; this service keeps no recordings.
func (s *server) exportCallAnalytics(c *gin.Context) {
	p, ok := principal(c)
	if !ok {
		fail(c, fault.ErrUnauthenticated)
		return
	}
	var (
		values [4]string
		found  [4]bool
	)
	q := queryParams{keys: exportKeys, values: values[:], found: found[:]}
	if err := q.parse(c.Request.URL.RawQuery); err != nil {
		fail(c, err)
		return
	}
	if found[qExportRecordings] {
		if _, err := strconv.ParseBool(values[qExportRecordings]); err != nil {
			fail(c, invalid("include_recordings must be true or false"))
			return
		}
	}
	ctx := c.Request.Context()
	if found[qExportRequestID] {
		if found[qExportStart] || found[qExportEnd] {
			fail(c, invalid("send request_id, or start_date and end_date, not both"))
			return
		}
		sess, err := s.deps.CallLogs.ByRequestID(ctx, p.UserID, values[qExportRequestID])
		if err != nil {
			fail(c, err)
			return
		}
		s.streamZip(c, "call_"+sess.RequestID+".zip", func(zw *zip.Writer) error {
			f, err := zw.Create("call_" + sess.RequestID + ".json")
			if err != nil {
				return err
			}
			enc := json.NewEncoder(f)
			enc.SetIndent("", "  ")
			return enc.Encode(toSessionJSON(sess))
		})
		return
	}
	e, err := s.deps.CallLogs.StartExport(p.UserID, values[qExportStart], values[qExportEnd])
	if err != nil {
		fail(c, err)
		return
	}
	from, to := e.Range.From.Format(time.DateOnly), e.Range.To.Format(time.DateOnly)
	s.streamZip(c, "calls_"+from+"_"+to+".zip", func(zw *zip.Writer) error {
		return writeExport(ctx, zw, s.deps.CallLogs, e)
	})
}

// streamZip answers with the ZIP that fill writes. An error before any byte went out is an
// ordinary error answer; after, the answer cannot change any more: the error is logged once and
// the connection cut, so that the client sees a broken download, never a short ZIP that reads as
// whole.
func (s *server) streamZip(c *gin.Context, name string, fill func(*zip.Writer) error) {
	h := c.Writer.Header()
	h["Content-Type"] = []string{"application/zip"}
	h["Content-Disposition"] = []string{`attachment; filename="` + name + `"`}
	// Not supported by every writer (a test's recorder); then the server's timeout stands.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(exportWriteWindow))
	zw := zip.NewWriter(c.Writer)
	// The fastest deflate: a call log compresses well at any level, and the CPU is the server's.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	err := fill(zw)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		return
	}
	if !c.Writer.Written() {
		delete(h, "Content-Disposition")
		fail(c, err)
		return
	}
	rid := ""
	if v := h[headerRequestID]; len(v) > 0 {
		rid = v[0]
	}
	s.logError(c, rid, &gin.Error{Err: errors.Join(errors.New("export cut off mid-stream"), err)}, c.Writer.Status())
	panic(http.ErrAbortHandler)
}

// exportColumns are calls.csv's columns, in order: the call log's fields that are one value.
var exportColumns = []string{
	"call_session_id", "request_id", "status", "agent_id", "workflow_id", "phone_number_id", "telephony_provider",
	"from_number", "to_number", "telephony_leg_id", "duration_seconds", "cost", "detail",
	"created_at", "answered_at", "ended_at", "updated_at",
}

// writeExport writes calls.csv and then calls.jsonl of e into zw: two keyset reads of the same
// sessions (e's cutoff leaves out any created meanwhile), each written as it is read.
func writeExport(ctx context.Context, zw *zip.Writer, logs *accounts.CallLogs, e accounts.Export) error {
	f, err := zw.Create("calls.csv")
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	if err := cw.Write(exportColumns); err != nil {
		return err
	}
	row := make([]string, len(exportColumns))
	err = logs.ExportSessions(ctx, e, func(sess *call.Session) error {
		csvRow(row, sess)
		return cw.Write(row)
	})
	if err != nil {
		return err
	}
	if cw.Flush(); cw.Error() != nil {
		return cw.Error()
	}
	if f, err = zw.Create("calls.jsonl"); err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := logs.ExportSessions(ctx, e, func(sess *call.Session) error { return enc.Encode(toSessionJSON(sess)) }); err != nil {
		return err
	}
	return bw.Flush()
}

// csvRow fills row with sess's values in exportColumns' order.
func csvRow(row []string, sess *call.Session) {
	row[0], row[1], row[2] = sess.ID, sess.RequestID, sess.Status().String()
	row[3], row[4], row[5], row[6] = sess.AgentID, sess.WorkflowID, sess.LineID, publicProvider
	row[7], row[8], row[9] = sess.From, sess.To, sess.LegID
	row[10] = strconv.FormatFloat(sess.Duration.Seconds(), 'f', -1, 64)
	row[11] = sess.Cost.String()
	row[12] = spreadsheetSafe(sess.Detail)
	row[13], row[14], row[15], row[16] = csvTime(sess.CreatedAt), csvTime(sess.AnsweredAt), csvTime(sess.EndedAt), csvTime(sess.UpdatedAt)
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// spreadsheetSafe keeps free text (a carrier's reason) from being read as a formula when the CSV
// is opened in a spreadsheet: a leading =, +, -, @, tab or carriage return gets a quote before it.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
