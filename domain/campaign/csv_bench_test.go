package campaign_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/kupe-voice/kupe/domain/campaign"
)

// uploadCSV is an upload of n rows with three variables: Indian mobiles and New York numbers,
// every tenth row with its own timezone.
func uploadCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("to_phonenumber,name,company_name,balance,timezone\n")
	for i := range n {
		tz := ""
		if i%10 == 0 {
			tz = "Asia/Kolkata"
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, "+9198765%05d,Customer %d,\"Acme, Inc.\",%d.50,%s\n", i, i, i, tz)
		} else {
			fmt.Fprintf(&b, "+1212%07d,Customer %d,Initech,%d,%s\n", 2000000+i, i, i, tz)
		}
	}
	return b.Bytes()
}

// drain reads an upload without keeping its rows, as the upload handler does (each row is
// inserted and dropped), and returns the rows read.
func drain(tb testing.TB, data []byte) int {
	r, err := campaign.NewCSVReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			tb.Fatalf("row %d: %v", n, err)
		}
		n++
	}
}

func BenchmarkCSVReader(b *testing.B) {
	for _, rows := range []int{1_000, 10_000} {
		data := uploadCSV(rows)
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if n := drain(b, data); n != rows {
					b.Fatalf("%d rows of %d", n, rows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

// The reader's memory does not grow with the upload: reading ten times the rows allocates ten
// times as often, no more, since nothing of a row outlives it.
func TestCSVReaderAllocationsPerRowAreConstant(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 11,000 rows")
	}
	small, large := uploadCSV(1_000), uploadCSV(10_000)
	drain(t, small) // load the zones once
	perRow := func(data []byte, rows int) float64 {
		return testing.AllocsPerRun(1, func() { drain(t, data) }) / float64(rows)
	}
	s, l := perRow(small, 1_000), perRow(large, 10_000)
	if l > s*1.02 || l < s*0.98 {
		t.Fatalf("allocations per row: %.2f for 1,000 rows, %.2f for 10,000", s, l)
	}
	t.Logf("allocations per row: %.2f for 1,000 rows, %.2f for 10,000", s, l)
}
