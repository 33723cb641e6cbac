package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrInvalidCSV is the cause of the errors that end a CSV upload: a header without
// to_phonenumber, a syntax error, a record too large to be a row. Errors of single rows are
// *RecordError instead, and reading goes on.
var ErrInvalidCSV = errors.New("invalid CSV")

// CSV limits. A row's fields are bounded by the variable limits; a record (one logical CSV
// record, which quoted fields may spread over lines) by maxCSVRecordBytes, checked while it is
// read, so a hostile upload cannot make the reader hold more than that.
const (
	MaxCSVColumns     = MaxVariables + 2 // to_phonenumber, timezone and the variables
	DefaultMaxCSVRows = 1_000_000
	maxCSVRecordBytes = MaxCSVColumns * (MaxVariableValueLen + 3)
)

// CSVReader reads a batch upload in CSV, one row at a time in constant memory: a header
// to_phonenumber,<variable names> (in any order, with an optional timezone column), then one
// recipient per record. A UTF-8 byte order mark before the header is skipped, and so are
// records whose fields are all empty (spreadsheets write them after the data).
type CSVReader struct {
	// MaxRows bounds the data rows read, empty ones included; past it Next fails with
	// ErrInvalidCSV. Zero is DefaultMaxCSVRows. The HTTP layer also bounds the body's size.
	MaxRows int

	in       *countingReader
	cr       *csv.Reader
	width    int
	phoneCol int
	tzCol    int      // -1 without a timezone column
	varCols  []int    // column of each variable, in header order
	varNames []string // the variables' names, in header order
	next     int      // index of the next data row
	err      error    // sticky: once the upload is invalid, it stays so
}

// NewCSVReader reads and checks the header. A header that names no to_phonenumber column,
// names a column twice, has an empty or invalid name or more than MaxCSVColumns columns is
// ErrInvalidCSV.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	in := &countingReader{r: r, limit: maxCSVRecordBytes + 4096} // bufio's read-ahead
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1 // a short or long row is the row's error, not the upload's
	cr.ReuseRecord = true
	c := &CSVReader{in: in, cr: cr, phoneCol: -1, tzCol: -1}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: no header row: want %s,<variable names>", ErrInvalidCSV, PhoneField)
	}
	if err != nil {
		return nil, c.fatal(err)
	}
	if len(header) > MaxCSVColumns {
		return nil, fmt.Errorf("%w: at most %d columns", ErrInvalidCSV, MaxCSVColumns)
	}
	c.width = len(header)
	seen := make(map[string]bool, len(header))
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		name = strings.TrimSpace(name)
		if seen[name] {
			return nil, fmt.Errorf("%w: column %q is named twice", ErrInvalidCSV, truncate(strings.ToValidUTF8(name, "?"), MaxVariableNameLen))
		}
		seen[name] = true
		switch strings.ToLower(name) {
		case PhoneField:
			if c.phoneCol >= 0 {
				return nil, fmt.Errorf("%w: column %s is named twice", ErrInvalidCSV, PhoneField)
			}
			c.phoneCol = i
		case TimeZoneField:
			if c.tzCol >= 0 {
				return nil, fmt.Errorf("%w: column %s is named twice", ErrInvalidCSV, TimeZoneField)
			}
			c.tzCol = i
		default:
			if err := checkVariableName(name); err != nil {
				return nil, fmt.Errorf("%w: header: %v", ErrInvalidCSV, err)
			}
			c.varCols = append(c.varCols, i)
			c.varNames = append(c.varNames, name)
		}
	}
	if c.phoneCol < 0 {
		return nil, fmt.Errorf("%w: the header has no %s column", ErrInvalidCSV, PhoneField)
	}
	return c, nil
}

// VariableNames are the header's variable columns, in order.
func (c *CSVReader) VariableNames() []string { return c.varNames }

// Next returns the next valid row. A row that is not valid is a *RecordError, after which Next
// may be called again; io.EOF ends the upload; any other error (wrapping ErrInvalidCSV, or the
// reader's own) ends it too and comes back from every later call.
func (c *CSVReader) Next() (Row, error) {
	for {
		if c.err != nil {
			return Row{}, c.err
		}
		c.in.reset()
		rec, err := c.cr.Read()
		if err != nil {
			c.err = c.fatal(err)
			return Row{}, c.err
		}
		idx := c.next
		c.next++
		maxRows := c.MaxRows
		if maxRows <= 0 {
			maxRows = DefaultMaxCSVRows
		}
		if c.next > maxRows {
			c.err = fmt.Errorf("%w: more than %d rows", ErrInvalidCSV, maxRows)
			return Row{}, c.err
		}
		if allEmpty(rec) {
			continue
		}
		if len(rec) != c.width {
			phone := ""
			if c.phoneCol < len(rec) {
				phone = rec[c.phoneCol]
			}
			return Row{}, recordError(idx, phone, fmt.Sprintf("row has %d fields, the header has %d", len(rec), c.width))
		}
		for _, f := range rec {
			if len(f) > MaxVariableValueLen {
				return Row{}, recordError(idx, rec[c.phoneCol], fmt.Sprintf("a field is longer than %d characters", MaxVariableValueLen))
			}
		}
		var vars map[string]string
		if len(c.varCols) > 0 {
			vars = make(map[string]string, len(c.varCols))
			for i, col := range c.varCols {
				vars[c.varNames[i]] = rec[col]
			}
		}
		tz := ""
		if c.tzCol >= 0 {
			tz = rec[c.tzCol]
		}
		r, err := NewRecipient(rec[c.phoneCol], vars, tz)
		if err != nil {
			return Row{}, recordError(idx, rec[c.phoneCol], err.Error())
		}
		return Row{Index: idx, Recipient: r}, nil
	}
}

func allEmpty(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// fatal turns what ends the upload into its error: the end of input is io.EOF; a syntax error
// or an oversized record is ErrInvalidCSV (with the line of a syntax error); a failing body is
// its own error.
func (c *CSVReader) fatal(err error) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, errRecordTooLarge):
		return fmt.Errorf("%w: a record is longer than %d bytes", ErrInvalidCSV, maxCSVRecordBytes)
	case errors.As(err, &pe):
		return fmt.Errorf("%w: line %d: %v", ErrInvalidCSV, pe.Line, pe.Err)
	}
	return fmt.Errorf("read CSV: %w", err)
}

var errRecordTooLarge = errors.New("record too large")

// countingReader fails once more than limit bytes are read since the last reset: the CSV
// reader is reset before each record, so no record, however its quotes run, is read whole into
// memory past the limit.
type countingReader struct {
	r     io.Reader
	n     int
	limit int
}

func (c *countingReader) reset() { c.n = 0 }

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, errRecordTooLarge
	}
	if room := c.limit - c.n; len(p) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
