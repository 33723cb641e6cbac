package campaigns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// chunkSize is how many rows one transaction of an upload inserts: an upload of any length
// holds at most this many in memory, and no transaction holds its batch long.
const chunkSize = 500

// MaxFailedReported bounds the failed rows an upload's answer lists; FailedTotal counts them
// all.
const MaxFailedReported = 10_000

// Reasons of refused upload rows, beside the domain's.
const (
	reasonMissingVariable = "missing variable %q"
	reasonNotFoundRow     = "no such row in this batch"
	reasonRowStarted      = "the row is no longer not_started"
)

// UploadResult is what an upload did: how many rows it inserted (and, for an upsert,
// updated), and the rows it refused, with why.
type UploadResult struct {
	Inserted    int
	Updated     int
	Failed      []campaign.RecordError
	FailedTotal int
}

func (r *UploadResult) fail(e campaign.RecordError) {
	r.FailedTotal++
	if len(r.Failed) < MaxFailedReported {
		r.Failed = append(r.Failed, e)
	}
}

// UploadJSON adds upload-json's records to a batch that has not ended: invalid numbers,
// numbers already in the batch or twice in the records, numbers on the do-not-call list and
// rows without the batch's variables are reported, not inserted.
func (s *Service) UploadJSON(ctx context.Context, userID, id string, records []map[string]any) (UploadResult, error) {
	b, err := s.uploadable(ctx, userID, id)
	if err != nil {
		return UploadResult{}, err
	}
	rows, failed, err := campaign.ParseJSONRecords(records, nil)
	if err != nil {
		return UploadResult{}, invalidf("%v", err)
	}
	var res UploadResult
	for _, f := range failed {
		res.fail(f)
	}
	for start := 0; start < len(rows); start += chunkSize {
		if err := s.addRows(ctx, b, rows[start:min(start+chunkSize, len(rows))], &res); err != nil {
			return res, err
		}
	}
	sortFailed(res.Failed)
	return res, nil
}

// UploadCSV adds a CSV upload's rows to a batch, read as a stream: a header
// to_phonenumber,<variable names> (and an optional timezone column), then a row per
// recipient. Rows are refused as UploadJSON refuses them. A CSV that is malformed past its
// header ends the upload with an *InvalidError; the rows before the fault are kept.
func (s *Service) UploadCSV(ctx context.Context, userID, id string, body io.Reader) (UploadResult, error) {
	b, err := s.uploadable(ctx, userID, id)
	if err != nil {
		return UploadResult{}, err
	}
	r, err := campaign.NewCSVReader(body)
	if err != nil {
		return UploadResult{}, invalidf("%v", err)
	}
	for _, n := range b.VariableNames {
		if !containsString(r.VariableNames(), n) {
			return UploadResult{}, invalidf("the CSV header has no column for the batch's variable %q", n)
		}
	}
	var (
		res   UploadResult
		chunk = make([]campaign.Row, 0, chunkSize)
	)
	flush := func() error {
		err := s.addRows(ctx, b, chunk, &res)
		chunk = chunk[:0]
		return err
	}
	for {
		row, err := r.Next()
		var re *campaign.RecordError
		switch {
		case errors.Is(err, io.EOF):
			if err := flush(); err != nil {
				return res, err
			}
			sortFailed(res.Failed)
			return res, nil
		case errors.As(err, &re):
			res.fail(*re)
			continue
		case errors.Is(err, campaign.ErrInvalidCSV):
			if ferr := flush(); ferr != nil {
				return res, ferr
			}
			return res, invalidf("%v (the %d rows before it were added)", err, res.Inserted)
		case err != nil:
			return res, fmt.Errorf("read upload: %w", err)
		}
		chunk = append(chunk, row)
		if len(chunk) == chunkSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortFailed orders refused rows by index: an upload finds some row by row and others (the
// duplicates, the do-not-call numbers) a chunk at a time.
func sortFailed(f []campaign.RecordError) {
	sort.SliceStable(f, func(i, j int) bool { return f[i].Index < f[j].Index })
}

// uploadable reads the user's batch and refuses one that has ended.
func (s *Service) uploadable(ctx context.Context, userID, id string) (*campaign.Batch, error) {
	b, err := s.Get(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if b.Status().Final() {
		return nil, ErrNotEditable
	}
	return b, nil
}

// addRows inserts one chunk of valid rows in one transaction.
func (s *Service) addRows(ctx context.Context, b *campaign.Batch, rows []campaign.Row, res *UploadResult) error {
	if len(rows) == 0 {
		return nil
	}
	return s.Store.Update(ctx, b.ID, func(tx Tx) error {
		b := tx.Batch()
		if b.Status().Final() {
			return ErrNotEditable
		}
		numbers := make([]string, len(rows))
		for i, r := range rows {
			numbers[i] = r.Phone().String()
		}
		known, err := tx.KnownNumbers(numbers)
		if err != nil {
			return err
		}
		suppressed, err := tx.Suppressed(numbers)
		if err != nil {
			return err
		}
		now := s.now()
		seen := campaign.NewDeduper()
		entries := make([]*campaign.Entry, 0, len(rows))
		var failed []campaign.RecordError
		for _, r := range rows {
			n := r.Phone().String()
			if known[n] {
				failed = append(failed, campaign.RecordError{Index: r.Index, Number: n, Reason: campaign.ReasonDuplicate})
				continue
			}
			if dup := seen.Check(r); dup != nil {
				failed = append(failed, *dup)
				continue
			}
			if suppressed[n] {
				failed = append(failed, campaign.RecordError{Index: r.Index, Number: n, Reason: ReasonSuppressed})
				continue
			}
			if name, missing := r.MissingVariable(b.VariableNames); missing {
				failed = append(failed, campaign.RecordError{Index: r.Index, Number: n, Reason: fmt.Sprintf(reasonMissingVariable, name)})
				continue
			}
			entries = append(entries, campaign.NewEntry(s.newEntryID(), b.ID, r.Recipient, now))
		}
		if err := tx.AddEntries(entries); err != nil {
			return err
		}
		if b.Status().Running() {
			if err := s.fill(tx, now); err != nil {
				return err
			}
		}
		// Counted once the transaction is sure to commit (fn returns nil from here).
		res.Inserted += len(entries)
		for _, f := range failed {
			res.fail(f)
		}
		return nil
	})
}

// UpsertItem is one item of data/upsert: with ID an update of that row, without one an insert.
type UpsertItem struct {
	ID        string
	To        string
	Variables map[string]any
}

// Upsert inserts and updates rows while the batch has not started; a row that has left
// not_started, or a batch that has, is ErrNotEditable.
func (s *Service) Upsert(ctx context.Context, userID, id string, items []UpsertItem) (UploadResult, error) {
	if len(items) > campaign.MaxRecordsPerUpload {
		return UploadResult{}, invalidf("%v", campaign.ErrTooManyRecords)
	}
	b, err := s.Get(ctx, userID, id)
	if err != nil {
		return UploadResult{}, err
	}
	if b.Status() != campaign.BatchNotStarted {
		return UploadResult{}, ErrNotEditable
	}
	var (
		res     UploadResult
		inserts []campaign.Row
	)
	seen := campaign.NewDeduper()
	err = s.Store.Update(ctx, b.ID, func(tx Tx) error {
		b := tx.Batch()
		if b.Status() != campaign.BatchNotStarted {
			return ErrNotEditable
		}
		now := s.now()
		for i, it := range items {
			rec := make(map[string]any, len(it.Variables)+1)
			for k, v := range it.Variables {
				rec[k] = v
			}
			rec[campaign.PhoneField] = it.To
			r, err := campaign.ParseJSONRecord(rec)
			if err != nil {
				res.fail(campaign.RecordError{Index: i, Number: truncate(strings.TrimSpace(it.To), 32), Reason: err.Error()})
				continue
			}
			row := campaign.Row{Index: i, Recipient: r}
			if dup := seen.Check(row); dup != nil {
				res.fail(*dup)
				continue
			}
			if name, missing := r.MissingVariable(b.VariableNames); missing {
				res.fail(campaign.RecordError{Index: i, Number: r.Phone().String(), Reason: fmt.Sprintf(reasonMissingVariable, name)})
				continue
			}
			if it.ID == "" {
				inserts = append(inserts, row)
				continue
			}
			e, err := tx.Entry(it.ID)
			if errors.Is(err, ErrNotFound) {
				res.fail(campaign.RecordError{Index: i, Number: r.Phone().String(), Reason: reasonNotFoundRow})
				continue
			}
			if err != nil {
				return err
			}
			if e.Status() != campaign.RowNotStarted {
				return fmt.Errorf("%w: row %s is %s", ErrNotEditable, e.ID, e.Status())
			}
			if n := r.Phone().String(); n != e.To {
				known, err := tx.KnownNumbers([]string{n})
				if err != nil {
					return err
				}
				if known[n] {
					res.fail(campaign.RecordError{Index: i, Number: n, Reason: campaign.ReasonDuplicate})
					continue
				}
			}
			e.To, e.Variables, e.TimeZone, e.UpdatedAt = r.Phone().String(), r.Variables(), r.TimeZone(), now
			if err := tx.SaveEntry(e); err != nil {
				return err
			}
			res.Updated++
		}
		return nil
	})
	if err != nil {
		return UploadResult{}, err
	}
	for start := 0; start < len(inserts); start += chunkSize {
		if err := s.addRows(ctx, b, inserts[start:min(start+chunkSize, len(inserts))], &res); err != nil {
			return res, err
		}
	}
	sortFailed(res.Failed)
	return res, nil
}

// Check that a number given as a path segment (DELETE /suppressions/{n}) reads as E.164.
func parseNumber(s string) (string, error) {
	p, err := call.ParsePhoneNumber(strings.TrimSpace(s))
	if err != nil {
		return "", invalidf("%q is not a valid E.164 phone number (example: +14155550123)", truncate(s, 32))
	}
	return p.String(), nil
}
