package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{0.50: 50 * time.Millisecond, 0.95: 95 * time.Millisecond,
		0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := percentile(lat, p); got != want {
			t.Errorf("p%v of 1..100 ms = %v, want %v", p*100, got, want)
		}
	}
	if got := percentile(lat[:3], 0.99); got != 3*time.Millisecond {
		t.Errorf("p99 of three values = %v, want the largest", got)
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestTallyCountsOnlySuccessfulCallsAsThroughput(t *testing.T) {
	tl := newTally()
	for i := 0; i < 90; i++ {
		tl.add(200, time.Duration(i+1)*time.Millisecond, []byte(`{"status":"success","request_id":"r"}`), "")
	}
	tl.add(200, 5*time.Millisecond, []byte(`{"status":"failed","detail":"carrier rejected the call"}`), "")
	tl.add(429, time.Millisecond, []byte(`{"detail":"Rate limit exceeded: 10 requests per second"}`), "429 Too Many Requests")
	tl.add(429, time.Millisecond, []byte(`{"detail":"Rate limit exceeded: 10 requests per second"}`), "429 Too Many Requests")
	tl.add(500, time.Millisecond, []byte(`not json`), "500 Internal Server Error")
	tl.add(0, 0, nil, "dial tcp 127.0.0.1:1: connect: connection refused")

	s := tl.summary(3 * time.Second)
	if s.Requests != 95 || s.OK != 90 || s.Errors != 5 {
		t.Errorf("requests %d ok %d errors %d, want 95, 90, 5", s.Requests, s.OK, s.Errors)
	}
	if s.Throughput != 30 {
		t.Errorf("throughput %v, want 90 successes / 3 s = 30", s.Throughput)
	}
	// The transport error has no latency; the 94 answers do (90 of 1..90 ms, four of 1 or 5 ms).
	if s.P99 != 90*time.Millisecond || s.P50 != 43*time.Millisecond {
		t.Errorf("p50 %v p99 %v, want 43ms and 90ms", s.P50, s.P99)
	}
	if got, want := s.Outcomes(), "no answer=1 200 failed=1 200 success=90 429=2 500=1"; got != want {
		t.Errorf("outcomes %q, want %q", got, want)
	}
	problems := strings.Join(s.Problems(), "\n")
	for _, want := range []string{"no answer x1: dial tcp 127.0.0.1:1: connect: connection refused",
		"answer x1: 200 carrier rejected the call", "answer x2: 429 Rate limit exceeded: 10 requests per second", "answer x1: 500 "} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
}

func TestTallyKeepsFewDistinctDetails(t *testing.T) {
	tl := newTally()
	for i := 0; i < 20; i++ {
		tl.add(422, time.Millisecond, []byte(`{"detail":"bad `+strings.Repeat("x", i)+`"}`), "")
	}
	tl.add(422, time.Millisecond, []byte(`{"detail":"bad "}`), "")
	if len(tl.details) != maxDetails || tl.details["422 bad "] != 2 {
		t.Errorf("details %v: want %d kinds, the first seen twice", tl.details, maxDetails)
	}
	if s := tl.summary(time.Second); s.Errors != 21 {
		t.Errorf("errors %d, want all 21 counted", s.Errors)
	}
}

func TestRatioComparesMeansPerDatabase(t *testing.T) {
	runs := []Summary{
		{Server: "baseline", Database: "postgres", Throughput: 2000, P99: 20 * time.Millisecond},
		{Server: "kupe", Database: "postgres", Throughput: 500, P99: 100 * time.Millisecond},
		{Server: "baseline", Database: "postgres", Throughput: 3000, P99: 30 * time.Millisecond},
		{Server: "kupe", Database: "postgres", Throughput: 1500, P99: 50 * time.Millisecond, OK: 15000,
			ServerCPU: 4500 * time.Millisecond, PostgresCPU: 9 * time.Second},
		{Server: "kupe", Database: "sqlite", Throughput: 900, P99: 10 * time.Millisecond},
	}
	r, ok := ratio(runs, "postgres")
	if !ok || r.Rounds != 2 || r.Throughput != 0.4 || r.P99 != 3 {
		t.Errorf("ratio %+v %v, want 2 rounds, throughput 1000/2500 = 0.4, p99 75/25 = 3", r, ok)
	}
	if _, ok := ratio(runs, "sqlite"); ok {
		t.Error("a ratio for SQLite, which has no baseline")
	}
	var b bytes.Buffer
	writeTable(&b, runs)
	for _, want := range []string{"| postgres | baseline | 0 | 2,000 | 0.0 ms | 0.0 ms | 20.0 ms | 0 | ? | ? |",
		"| 1,500 | 0.0 ms | 0.0 ms | 50.0 ms | 0 | ? | 0.300 + 0.600 ms |",
		"| sqlite | kupe | 0 | 900 |", "kupe/baseline on postgres (means of 2 rounds): throughput 0.40x, p99 3.00x"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "on sqlite") {
		t.Errorf("table has a SQLite ratio:\n%s", b.String())
	}
}

func TestThousands(t *testing.T) {
	for f, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 2476.4: "2,476", 1234567: "1,234,567"} {
		if got := thousands(f); got != want {
			t.Errorf("thousands(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tkupe\nVmPeak:\t 1290000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n"
	if got := parseVmHWM(strings.NewReader(status)); got != 51200 {
		t.Errorf("VmHWM %d, want 51200", got)
	}
	if got := parseVmHWM(strings.NewReader("Name:\tkupe\n")); got != 0 {
		t.Errorf("VmHWM without the line = %d, want 0", got)
	}
}

func TestOnlyLoopback(t *testing.T) {
	if err := checkLoopback("127.0.0.1:8080"); err != nil {
		t.Error(err)
	}
	for _, a := range []string{"10.0.0.1:80", "example.com:443", "0.0.0.0:8080"} {
		if checkLoopback(a) == nil {
			t.Errorf("checkLoopback accepted %s", a)
		}
	}
	if _, err := loopbackClient(1).Get("http://192.0.2.1:9/"); err == nil || !strings.Contains(err.Error(), "only 127.0.0.1") {
		t.Errorf("the client dialled elsewhere: %v", err)
	}
	if err := checkPGURL("postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"); err != nil {
		t.Error(err)
	}
	for _, u := range []string{"postgres://db.example.com/postgres", "mysql://127.0.0.1/x", "127.0.0.1:5432"} {
		if checkPGURL(u) == nil {
			t.Errorf("checkPGURL accepted %s", u)
		}
	}
}

func TestCreateCallsTargetsValidDistinctNumbers(t *testing.T) {
	tr := createCalls("http://127.0.0.1:8080", "kupe_key")
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		var tg vegeta.Target
		if err := tr(&tg); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(tg.URL)
		if err != nil || tg.Method != http.MethodPost || u.Host != "127.0.0.1:8080" || u.Path != "/api/call/create_call" {
			t.Fatalf("target %s %s", tg.Method, tg.URL)
		}
		n := u.Query().Get("phoneNumber")
		if len(n) != 12 || !strings.HasPrefix(n, "+1415555") || seen[n] {
			t.Errorf("phoneNumber %q: want a new +1415555xxxx", n)
		}
		seen[n] = true
		req, err := tg.Request()
		if err != nil || req.Header.Get("x-api-key") != "kupe_key" {
			t.Errorf("request header %v, %v", req.Header, err)
		}
	}
}

func TestParseStatCPUCountsFromTheLastParenthesis(t *testing.T) {
	// A command name with spaces and a parenthesis, as postgres backends' titles can be.
	stat := []byte("4242 (postgres: a) b) S 1 4242 4242 0 -1 4194560 120 0 0 0 250 75 0 0 20 0 1 0 100 0 0\n")
	if got, want := parseStatCPU(stat), 3250*time.Millisecond; got != want {
		t.Errorf("parseStatCPU = %v, want %v (utime 250 + stime 75 ticks)", got, want)
	}
	for _, bad := range []string{"", "4242 (x) S 1 2", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 u s"} {
		if got := parseStatCPU([]byte(bad)); got != 0 {
			t.Errorf("parseStatCPU(%q) = %v, want 0", bad, got)
		}
	}
}

func TestCPUPerCallDividesBySuccessfulCalls(t *testing.T) {
	s := Summary{OK: 1000, ServerCPU: 400 * time.Millisecond, PostgresCPU: 600 * time.Millisecond}
	if got, want := s.CPUPerCall(), "server 0.400 ms, PostgreSQL 0.600 ms, together 1.000 ms"; got != want {
		t.Errorf("CPUPerCall = %q, want %q", got, want)
	}
	s.PostgresCPU = 0
	if got, want := s.CPUPerCall(), "server 0.400 ms"; got != want {
		t.Errorf("without PostgreSQL: CPUPerCall = %q, want %q", got, want)
	}
	if got := (Summary{ServerCPU: time.Second}).CPUPerCall(); got != "" {
		t.Errorf("with no successful call: CPUPerCall = %q, want empty", got)
	}
}
