package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// tally collects the answers of one run. A successful call is a 200 whose JSON says
// "status":"success"; everything else (a transport error, another status, a 200 "failed") is an
// error, counted by kind.
type tally struct {
	latencies []time.Duration // of the requests that got an HTTP answer
	codes     map[int]int     // HTTP status → count; 0 is no answer (a transport error)
	bodies    map[string]int  // for 200s, the JSON status field ("success", "failed", or "" when absent)
	transport map[string]int  // transport error text → count
	details   map[string]int  // the detail of answers that were not a success, up to maxDetails distinct
	ok        int
}

const maxDetails = 5

func newTally() *tally {
	return &tally{codes: map[int]int{}, bodies: map[string]int{}, transport: map[string]int{}, details: map[string]int{}}
}

// add counts one answer. code is 0 when no HTTP answer came back, with errText saying why.
func (t *tally) add(code int, latency time.Duration, body []byte, errText string) {
	t.codes[code]++
	if code == 0 {
		t.transport[errText]++
		return
	}
	t.latencies = append(t.latencies, latency)
	var ans struct {
		Status string `json:"status"`
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(body, &ans)
	if code == 200 {
		t.bodies[ans.Status]++
		if ans.Status == "success" {
			t.ok++
			return
		}
	}
	d := fmt.Sprintf("%d %s", code, ans.Detail)
	if _, seen := t.details[d]; seen || len(t.details) < maxDetails {
		t.details[d]++
	}
}

// Summary is one run's result.
type Summary struct {
	Server     string // "baseline", "kupe"
	Database   string // "postgres", "sqlite"
	Round      int
	Requests   int // answered or not
	OK         int // successful calls
	Errors     int // Requests - OK
	Elapsed    time.Duration
	Throughput float64 // successful calls per second
	P50        time.Duration
	P95        time.Duration
	P99        time.Duration
	Codes      map[int]int
	Bodies     map[string]int
	Transport  map[string]int
	Details    map[string]int
	PeakRSSKiB int64 // the server's VmHWM after the run; 0 when unknown
	Dials      int64 // dials the fake carrier accepted during the run
	// CPU spent during the run by the server process and, on PostgreSQL, by all of the
	// cluster's processes; zero when unknown. Per successful call, these do not depend on how
	// busy the machine is, as throughput does.
	ServerCPU   time.Duration
	PostgresCPU time.Duration
}

func (t *tally) summary(elapsed time.Duration) Summary {
	lat := slices.Clone(t.latencies)
	slices.Sort(lat)
	s := Summary{OK: t.ok, Elapsed: elapsed, Codes: t.codes, Bodies: t.bodies, Transport: t.transport, Details: t.details,
		P50: percentile(lat, 0.50), P95: percentile(lat, 0.95), P99: percentile(lat, 0.99)}
	for _, n := range t.codes {
		s.Requests += n
	}
	s.Errors = s.Requests - s.OK
	if elapsed > 0 {
		s.Throughput = float64(s.OK) / elapsed.Seconds()
	}
	return s
}

// percentile is the nearest-rank percentile of sorted: the smallest value with at least p of
// the values at or below it; 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Outcomes renders the counts: "200 success=5380 200 failed=2 429=3 no answer=1".
func (s Summary) Outcomes() string {
	var parts []string
	codes := make([]int, 0, len(s.Codes))
	for c := range s.Codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		switch c {
		case 0:
			parts = append(parts, fmt.Sprintf("no answer=%d", s.Codes[c]))
		case 200:
			for _, st := range sortedKeys(s.Bodies) {
				name := st
				if name == "" {
					name = "(no status)"
				}
				parts = append(parts, fmt.Sprintf("200 %s=%d", name, s.Bodies[st]))
			}
		default:
			parts = append(parts, fmt.Sprintf("%d=%d", c, s.Codes[c]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Line is the one-line report of a run.
func (s Summary) Line() string {
	rss := "?"
	if s.PeakRSSKiB > 0 {
		rss = fmt.Sprintf("%.1f MiB", float64(s.PeakRSSKiB)/1024)
	}
	line := fmt.Sprintf("%-8s %-8s round %d: %7.0f calls/s  p50 %s  p95 %s  p99 %s  requests %d  errors %d  carrier dials %d  peak RSS %s\n    outcomes: %s",
		s.Database, s.Server, s.Round, s.Throughput, ms(s.P50), ms(s.P95), ms(s.P99), s.Requests, s.Errors, s.Dials, rss, s.Outcomes())
	if c := s.CPUPerCall(); c != "" {
		line += "\n    CPU per call: " + c
	}
	return line
}

// CPUPerCall says how much CPU a successful call cost the server and PostgreSQL; "" when unknown.
func (s Summary) CPUPerCall() string {
	if s.OK == 0 || s.ServerCPU <= 0 {
		return ""
	}
	out := fmt.Sprintf("server %.3f ms", s.perCall(s.ServerCPU))
	if s.PostgresCPU > 0 {
		out += fmt.Sprintf(", PostgreSQL %.3f ms, together %.3f ms", s.perCall(s.PostgresCPU), s.perCall(s.ServerCPU+s.PostgresCPU))
	}
	return out
}

// perCall is d divided among the run's successful calls, in milliseconds.
func (s Summary) perCall(d time.Duration) float64 {
	return float64(d) / float64(s.OK) / float64(time.Millisecond)
}

// Problems lists the transport errors and refusal details seen, one per line, for the report.
func (s Summary) Problems() []string {
	var out []string
	for _, e := range sortedKeys(s.Transport) {
		out = append(out, fmt.Sprintf("no answer x%d: %s", s.Transport[e], e))
	}
	for _, d := range sortedKeys(s.Details) {
		out = append(out, fmt.Sprintf("answer x%d: %s", s.Details[d], d))
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Ratio compares kupe with the baseline over the rounds of one database: the ratio of the mean
// throughputs and of the mean p99s. ok is false when either side has no run.
type Ratio struct {
	Rounds     int
	Throughput float64 // kupe / baseline; above 1 is kupe faster
	P99        float64 // kupe / baseline; below 1 is kupe's tail shorter
}

func ratio(runs []Summary, database string) (r Ratio, ok bool) {
	var kupe, base []Summary
	for _, s := range runs {
		if s.Database != database {
			continue
		}
		switch s.Server {
		case "kupe":
			kupe = append(kupe, s)
		case "baseline":
			base = append(base, s)
		}
	}
	if len(kupe) == 0 || len(base) == 0 {
		return Ratio{}, false
	}
	kt, kp := means(kupe)
	bt, bp := means(base)
	if bt == 0 || bp == 0 {
		return Ratio{}, false
	}
	return Ratio{Rounds: min(len(kupe), len(base)), Throughput: kt / bt, P99: kp / bp}, true
}

func means(runs []Summary) (throughput, p99 float64) {
	for _, s := range runs {
		throughput += s.Throughput
		p99 += float64(s.P99)
	}
	n := float64(len(runs))
	return throughput / n, p99 / n
}

// writeTable prints the runs as a Markdown table, then the ratio of each database with a
// baseline, ready to paste into docs/performance.md.
func writeTable(w io.Writer, runs []Summary) {
	fmt.Fprintln(w, "| database | server | round | calls/s | p50 | p95 | p99 | errors | peak RSS | CPU per call (server + PostgreSQL) |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range runs {
		rss := "?"
		if s.PeakRSSKiB > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(s.PeakRSSKiB)/1024)
		}
		cpu := "?"
		if s.OK > 0 && s.ServerCPU > 0 {
			cpu = fmt.Sprintf("%.3f ms", s.perCall(s.ServerCPU))
			if s.PostgresCPU > 0 {
				cpu = fmt.Sprintf("%.3f + %.3f ms", s.perCall(s.ServerCPU), s.perCall(s.PostgresCPU))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %d | %s | %s |\n", s.Database, s.Server, s.Round,
			thousands(s.Throughput), ms(s.P50), ms(s.P95), ms(s.P99), s.Errors, rss, cpu)
	}
	for _, db := range []string{"postgres", "sqlite"} {
		if r, ok := ratio(runs, db); ok {
			fmt.Fprintf(w, "\nkupe/baseline on %s (means of %d rounds): throughput %.2fx, p99 %.2fx\n", db, r.Rounds, r.Throughput, r.P99)
		}
	}
}

// thousands writes 2476.4 as "2,476".
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
