package campaigns_test

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/money"
)

// uploadBody is a CSV upload of n rows (US numbers, two variables), produced as it is read, so
// that the benchmark holds no body of its own.
type uploadBody struct {
	n, i int
	buf  bytes.Buffer
}

func (u *uploadBody) Read(p []byte) (int, error) {
	for u.buf.Len() < len(p) && u.i <= u.n {
		if u.i == 0 {
			u.buf.WriteString("to_phonenumber,name,company_name\n")
		} else {
			fmt.Fprintf(&u.buf, "+1212%07d,Customer %d,\"Acme, Inc.\"\n", 2000000+u.i, u.i)
		}
		u.i++
	}
	if u.buf.Len() == 0 {
		return 0, io.EOF
	}
	return u.buf.Read(p)
}

// BenchmarkUploadCSV10k streams a 10,000-row CSV upload into a batch on SQLite (the embedded
// default), through the use case HTTP calls: parse, refuse duplicates and do-not-call numbers,
// insert 500 rows a transaction. peak-heap-MB is the most the heap held while the upload ran,
// sampled; a 100,000-row upload (-bench UploadCSV100k) holds about the same, since no more than
// one chunk of rows is ever kept.
func BenchmarkUploadCSV10k(b *testing.B)  { benchmarkUpload(b, 10_000) }
func BenchmarkUploadCSV100k(b *testing.B) { benchmarkUpload(b, 100_000) }

func benchmarkUpload(b *testing.B, rows int) {
	r := newRigB(b)
	o := r.owner(money.FromUnits(10))
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		bt, err := r.svc.Create(ctx, campaigns.CreateBatch{UserID: o.userID, AgentID: o.agentID, CallerPhoneID: o.lineID,
			Name: "bench", VariableNames: []string{"name"}})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			var m runtime.MemStats
			var most uint64
			for {
				runtime.ReadMemStats(&m)
				most = max(most, m.HeapAlloc)
				select {
				case <-stop:
					sampled <- most
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()
		res, err := r.svc.UploadCSV(ctx, o.userID, bt.ID, &uploadBody{n: rows})
		b.StopTimer()
		close(stop)
		peak = max(peak, <-sampled)
		if err != nil || res.Inserted != rows {
			b.Fatalf("upload: %d inserted, %v", res.Inserted, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
