package entstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// Query texts past the bound still run, unprepared, and the bound holds.
func TestPreparedStatementsAreBounded(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "file:"+filepath.Join(t.TempDir(), "kupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.drv.(*faultDriver).Driver.(*preparedDriver).conn.ExecQuerier.(*preparedStmts)
	for i := range maxPrepared + 10 {
		var got int
		rows, err := p.QueryContext(ctx, fmt.Sprintf("SELECT %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() || rows.Scan(&got) != nil || got != i {
			t.Fatalf("SELECT %d gave %d", i, got)
		}
		rows.Close()
	}
	if len(p.stmts) != maxPrepared {
		t.Fatalf("%d statements kept, want %d", len(p.stmts), maxPrepared)
	}
	// A statement that cannot be prepared reports its own error.
	if _, err := p.ExecContext(ctx, "SELECT * FROM no_such_table"); err == nil {
		t.Fatal("a query of a missing table succeeded")
	}
}
