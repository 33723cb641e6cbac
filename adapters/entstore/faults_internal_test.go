package entstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/kupe-voice/kupe/domain/fault"
)

type sqliteErr int

func (e sqliteErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteErr) Code() int     { return int(e) }

func TestUnavailableClassification(t *testing.T) {
	pqErr := func(code string) error { return &pq.Error{Severity: "ERROR", Code: pqerror.Code(code), Message: "x"} }
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"bad conn":              {fmt.Errorf("exec: %w", driver.ErrBadConn), true},
		"conn done":             {sql.ErrConnDone, true},
		"database closed":       {errors.New("sql: database is closed"), true},
		"deadline":              {context.DeadlineExceeded, true},
		"eof":                   {io.ErrUnexpectedEOF, true},
		"refused":               {&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		"reset":                 {fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		"pq connection failure": {pqErr("08006"), true},
		"pq admin shutdown":     {pqErr("57P01"), true},
		"pq starting up":        {pqErr("57P03"), true},
		"pq too many conns":     {pqErr("53300"), true},
		"pq cancelled":          {pqErr("57014"), true},
		"sqlite busy":           {sqliteErr(5), true},
		"sqlite busy snapshot":  {sqliteErr(5 | 2<<8), true},
		"sqlite ioerr":          {sqliteErr(10), true},
		"client left":           {context.Canceled, false},
		"pq unique violation":   {pqErr("23505"), false},
		"pq syntax error":       {pqErr("42601"), false},
		"pq undefined table":    {pqErr("42P01"), false},
		"sqlite constraint":     {sqliteErr(19), false},
		"no rows":               {sql.ErrNoRows, false},
		"other":                 {errors.New("boom"), false},
	} {
		got := markUnavailable(tc.err)
		if is := errors.Is(got, fault.ErrUnavailable); is != tc.want {
			t.Errorf("%s: marked unavailable = %v, want %v", name, is, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: the mark hides the cause", name)
		}
		if tc.want && markUnavailable(got) != got {
			t.Errorf("%s: marked twice", name)
		}
	}
	var pe *pq.Error
	if !errors.As(markUnavailable(pqErr("08006")), &pe) || pe.Code != "08006" {
		t.Fatal("errors.As does not reach the driver's error through the mark")
	}
	if storeErr("read user", nil) != nil || !errors.Is(storeErr("read user", driver.ErrBadConn), fault.ErrUnavailable) {
		t.Fatal("storeErr does not mark a dead connection")
	}
}
