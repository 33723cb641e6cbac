package accounts

import (
	"context"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// MaxExportDays bounds a bulk export of the call log: start_date to end_date, both included.
const MaxExportDays = 31

// exportPageSize is how many sessions one read of an export brings: memory holds one page.
const exportPageSize = 500

// ExportRange is the span of a bulk export: the days From to To, both included, in UTC.
type ExportRange struct {
	From, To time.Time // midnights: To is the start of the last day
}

// ParseExportRange reads start_date and end_date (YYYY-MM-DD, UTC days, both included): both
// are needed, end_date not before start_date, at most MaxExportDays days in all.
func ParseExportRange(start, end string) (ExportRange, error) {
	start, end = strings.TrimSpace(start), strings.TrimSpace(end)
	if start == "" || end == "" {
		return ExportRange{}, fault.Invalidf("send request_id, or start_date and end_date (YYYY-MM-DD)")
	}
	from, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return ExportRange{}, fault.Invalidf("start_date must be a date as YYYY-MM-DD")
	}
	to, err := time.Parse(time.DateOnly, end)
	if err != nil {
		return ExportRange{}, fault.Invalidf("end_date must be a date as YYYY-MM-DD")
	}
	if to.Before(from) {
		return ExportRange{}, fault.Invalidf("end_date must not be before start_date")
	}
	if to.Sub(from) >= MaxExportDays*24*time.Hour {
		return ExportRange{}, fault.Invalidf("an export covers at most %d days", MaxExportDays)
	}
	return ExportRange{From: from, To: to}, nil
}

// Export is a bulk export of one user's call log, as StartExport set it up.
type Export struct {
	UserID string
	Range  ExportRange
	// Cutoff is when the export began: sessions created from then on are left out, so that two
	// reads of one export (a CSV, then its JSON lines) hold the same sessions.
	Cutoff time.Time
}

// StartExport checks a bulk export of the user's sessions from startDate to endDate (see
// ParseExportRange) and fixes its cutoff.
func (c *CallLogs) StartExport(userID, startDate, endDate string) (Export, error) {
	if userID == "" {
		return Export{}, fault.ErrUnauthenticated
	}
	r, err := ParseExportRange(startDate, endDate)
	if err != nil {
		return Export{}, err
	}
	return Export{UserID: userID, Range: r, Cutoff: c.now()}, nil
}

func (c *CallLogs) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now().UTC()
}

// ExportSessions calls fn with each session of e, oldest first, reading them a page at a time by
// keyset, so that memory holds one page whatever their number. An error of fn stops the export
// and is returned.
func (c *CallLogs) ExportSessions(ctx context.Context, e Export, fn func(*call.Session) error) error {
	if e.UserID == "" {
		return fault.ErrUnauthenticated
	}
	q := createcall.SessionRange{From: e.Range.From, To: e.Range.To.Add(24 * time.Hour)}
	if e.Cutoff.Before(q.To) {
		q.To = e.Cutoff
	}
	for {
		page, err := c.Sessions.SessionsCreated(ctx, e.UserID, q, exportPageSize)
		if err != nil {
			return err
		}
		for _, s := range page {
			if err := fn(s); err != nil {
				return err
			}
		}
		if len(page) < exportPageSize {
			return nil
		}
		q = q.After(page[len(page)-1])
	}
}
