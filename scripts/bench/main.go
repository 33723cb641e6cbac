// Command bench is the load harness behind `go tool task bench`: it builds kupe, starts what a
// measurement needs (a fresh PostgreSQL database, a fake carrier answering like Twilio, the
// server with one seeded user and a Twilio line pointed at the fake), drives create_call with a
// fixed number of closed-loop clients, and prints throughput, latency percentiles and outcomes.
// Where ../shared/bench/baseline is present it runs that plain handler too, alternating with
// kupe against the same fake, and prints the ratio; then it measures the embedded SQLite default.
//
// Everything stays on 127.0.0.1, the run stops by itself, and at the end (or on Ctrl-C) every
// child process is stopped and the databases it made are dropped.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"github.com/kupe-voice/kupe/internal/fakecarrier"
)

type options struct {
	conc       int
	dur        time.Duration
	warmup     time.Duration
	rounds     int
	pg         string
	skipSQLite bool
	cpuprofile string
	baseline   string
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	defaultPG := os.Getenv("KUPE_TEST_POSTGRES_URL")
	if defaultPG == "" {
		defaultPG = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.conc, "c", 32, "concurrent clients (closed loop: each sends its next request when the previous is answered)")
	fs.DurationVar(&o.dur, "d", 10*time.Second, "duration of each measured run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each run, not measured")
	fs.IntVar(&o.rounds, "rounds", 2, "runs of each server (baseline and kupe alternate on PostgreSQL)")
	fs.StringVar(&o.pg, "pg", defaultPG, "PostgreSQL on 127.0.0.1 where a throwaway database is created (default $KUPE_TEST_POSTGRES_URL)")
	fs.BoolVar(&o.skipSQLite, "skip-sqlite", false, "do not measure the embedded SQLite default")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of kupe's last run on each database to PREFIX.postgres.pprof and PREFIX.sqlite.pprof, fetched from the server's pprof (KUPE_PPROF_ADDR) when it has one")
	fs.StringVar(&o.baseline, "baseline", "", "the shared bench module holding baseline/ (default ../shared/bench beside the repository or its main checkout; \"none\" skips it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.conc < 1 || o.dur <= 0 || o.warmup < 0 || o.rounds < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "bench: want -c >= 1, -d > 0, -warmup >= 0, -rounds >= 1 and no arguments")
		return 2
	}
	if err := checkPGURL(o.pg); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.cpuprofile != "" {
		abs, err := filepath.Abs(o.cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
		o.cpuprofile = abs
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A bound on the whole run, whatever happens: builds and set-up, then each run with its warm-up.
	bound := 10*time.Minute + time.Duration(3*o.rounds)*(o.warmup+o.dur+time.Minute)
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()

	h := &harness{opt: o, out: stdout, client: loopbackClient(o.conc)}
	defer h.cleanup()
	if err := h.run(ctx); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "bench: stopped:", context.Cause(ctx))
		} else {
			fmt.Fprintln(stderr, "bench:", err)
		}
		return 1
	}
	return 0
}

// checkPGURL accepts a postgres:// URL on the loopback interface only.
func checkPGURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("-pg %q: want postgres://user@127.0.0.1:5432/db", s)
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return fmt.Errorf("-pg: the host must be 127.0.0.1, not %q", h)
	}
	return nil
}

type harness struct {
	opt    options
	out    io.Writer
	client *http.Client

	repo        string
	tmp         string
	bin         string // where kupe and kupectl are built
	baselineBin string // the baseline binary; empty without one
	carrier     *fakecarrier.Carrier
	carrierSrv  *fakecarrier.Server
	secretsKey  string

	admin *sql.DB
	dbs   []string // databases to drop at the end
	procs []*proc  // servers to stop at the end
	runs  []Summary
}

func (h *harness) printf(format string, args ...any) { fmt.Fprintf(h.out, format, args...) }

func (h *harness) run(ctx context.Context) error {
	var err error
	if h.repo, err = findRepo(); err != nil {
		return err
	}
	if h.tmp, err = os.MkdirTemp("", "kupe-bench-"); err != nil {
		return err
	}
	h.bin = filepath.Join(h.tmp, "bin")
	h.secretsKey = randomHex(32)
	h.printf("kupe bench: %d clients, %s per run after a %s warm-up, %d rounds\n", h.opt.conc, h.opt.dur, h.opt.warmup, h.opt.rounds)
	h.printMachine(ctx)

	h.printf("building ./cmd/kupe and ./cmd/kupectl\n")
	if _, err := runCmd(ctx, h.repo, os.Environ(), "nice", "-n", "10", "go", "build", "-o", h.bin+"/", "./cmd/kupe", "./cmd/kupectl"); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	h.buildBaseline(ctx)

	h.carrier = fakecarrier.New(fakecarrier.Options{})
	if h.carrierSrv, err = fakecarrier.Listen("127.0.0.1:0", h.carrier); err != nil {
		return err
	}
	h.printf("fake carrier at %s\n\n", h.carrierSrv.URL)

	pgErr := h.postgres(ctx)
	if pgErr != nil {
		if ctx.Err() != nil {
			return pgErr
		}
		fmt.Fprintf(h.out, "PostgreSQL: %v\n\n", pgErr)
	}
	if !h.opt.skipSQLite {
		if err := h.sqlite(ctx); err != nil {
			return err
		}
	}
	if len(h.runs) > 0 {
		h.printf("\n")
		writeTable(h.out, h.runs)
	}
	return pgErr
}

// findRepo is the repository root: the nearest directory up from here whose go.mod is kupe's.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/kupe-voice/kupe\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run me inside the kupe repository (no go.mod of github.com/kupe-voice/kupe found)")
		}
		dir = parent
	}
}

// buildBaseline builds ../shared/bench into the temp dir when it is there; without it (or when
// it does not build) the harness measures kupe alone.
func (h *harness) buildBaseline(ctx context.Context) {
	dir := h.findBaseline(ctx)
	if dir == "" {
		if h.opt.baseline != "none" {
			h.printf("no ../shared/bench/baseline: measuring kupe alone\n")
		}
		return
	}
	out := filepath.Join(h.tmp, "baseline")
	h.printf("building the baseline from %s\n", dir)
	if _, err := runCmd(ctx, dir, os.Environ(), "nice", "-n", "10", "go", "-C", dir, "build", "-o", out+"/", "./..."); err != nil {
		h.printf("the baseline does not build, measuring kupe alone: %v\n", err)
		return
	}
	h.baselineBin = filepath.Join(out, "baseline")
}

func (h *harness) findBaseline(ctx context.Context) string {
	var candidates []string
	switch h.opt.baseline {
	case "none":
		return ""
	case "":
		candidates = append(candidates, filepath.Join(h.repo, "..", "shared", "bench"))
		// In a git worktree, also beside the main checkout.
		if b, err := runCmd(ctx, h.repo, os.Environ(), "git", "rev-parse", "--path-format=absolute", "--git-common-dir"); err == nil {
			main := filepath.Dir(strings.TrimSpace(string(b)))
			candidates = append(candidates, filepath.Join(main, "..", "shared", "bench"))
		}
	default:
		candidates = append(candidates, h.opt.baseline)
	}
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(c, "baseline")); err == nil && st.IsDir() {
			abs, _ := filepath.Abs(c)
			return abs
		}
	}
	return ""
}

// printMachine says what the figures were measured on: they mean little without it.
func (h *harness) printMachine(ctx context.Context) {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	load, _ := os.ReadFile("/proc/loadavg")
	h.printf("machine: %s, %d CPUs, %s %s, Linux %s, load average %s\n", model, runtime.NumCPU(), runtime.Version(),
		runtime.GOARCH, strings.TrimSpace(string(kernel)), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	var passed []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "KUPE_") && k != "KUPE_TEST_POSTGRES_URL" {
			passed = append(passed, k)
		}
	}
	if len(passed) > 0 {
		h.printf("passed to kupe from the environment (the harness overrides its own): %s\n", strings.Join(passed, " "))
	}
}

// kupeEnv is the server's and kupectl's environment: this one's, with the harness's settings
// on top (exec keeps the last of duplicate keys).
func (h *harness) kupeEnv(dbURL, addr, pprofAddr string) []string {
	env := append(os.Environ(),
		"KUPE_ENV=production", // JSON logs, as deployed
		"KUPE_DATABASE_URL="+dbURL,
		"KUPE_HTTP_ADDR="+addr,
		"KUPE_PUBLIC_BASE_URL=http://"+addr,
		"KUPE_TWILIO_API_BASE_URL="+h.carrierSrv.URL,
		"KUPE_SECRETS_KEY="+h.secretsKey,
		"KUPE_HTTP_DRAIN_DELAY=0s",
		"KUPE_DEFAULT_REQUESTS_PER_SECOND=10000",
	)
	if pprofAddr != "" {
		env = append(env, "KUPE_PPROF_ADDR="+pprofAddr)
	}
	return env
}

// kupe is one started kupe server with the accounts seeded for its rounds.
type kupe struct {
	p        *proc
	base     string
	pprof    string // the pprof listener's address; empty when the server has none
	accounts []string
}

// startKupe migrates the database, seeds one user per round (each run measures a user of its
// own, so that one run's calls, never finished by a carrier callback, do not count against the
// next run's cap), and serves.
func (h *harness) startKupe(ctx context.Context, name, dbURL string) (*kupe, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var pprofAddr string
	if h.opt.cpuprofile != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	env := h.kupeEnv(dbURL, addr, pprofAddr)
	if _, err := runCmd(ctx, h.tmp, env, filepath.Join(h.bin, "kupe"), "migrate"); err != nil {
		return nil, err
	}
	k := &kupe{base: "http://" + addr}
	for i := 1; i <= h.opt.rounds; i++ {
		key, err := h.seedKupe(ctx, env, fmt.Sprintf("%s-%d", name, i))
		if err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		k.accounts = append(k.accounts, key)
	}
	if k.p, err = startProc("kupe "+name, filepath.Join(h.bin, "kupe"), []string{"serve"}, env, h.tmp,
		filepath.Join(h.tmp, "kupe-"+name+".log")); err != nil {
		return nil, err
	}
	h.procs = append(h.procs, k.p)
	if err := waitHTTP(ctx, k.p, k.base+"/ready", http.StatusOK, time.Minute); err != nil {
		return nil, err
	}
	if pprofAddr != "" {
		if err := waitHTTP(ctx, k.p, "http://"+pprofAddr+"/debug/pprof/", http.StatusOK, 2*time.Second); err != nil {
			h.printf("no CPU profile: %v\n", errNoPprof)
		} else {
			k.pprof = pprofAddr
		}
	}
	return k, nil
}

// seedKupe creates, with kupectl, a user with credits, an API key, a Twilio line with an agent
// mapped to it, and limits raised out of the way, and returns the key.
func (h *harness) seedKupe(ctx context.Context, env []string, name string) (string, error) {
	ctl := func(args ...string) (map[string]any, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		out, err := runCmd(ctx, h.tmp, env, filepath.Join(h.bin, "kupectl"), args...)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			return nil, fmt.Errorf("kupectl %s: %w", strings.Join(args[:2], " "), err)
		}
		return m, nil
	}
	u, err := ctl("users", "create", "--email", "bench-"+name+"@example.com", "--credits", "1000000")
	if err != nil {
		return "", err
	}
	user, _ := u["user_id"].(string)
	k, err := ctl("apikeys", "create", "--user", user, "--name", "bench")
	if err != nil {
		return "", err
	}
	key, _ := k["api_key"].(string)
	if user == "" || key == "" {
		return "", errors.New("kupectl did not print a user_id and an api_key")
	}
	l, err := ctl("lines", "add", "--user", user, "--number", "+14155550100", "--provider", "twilio",
		"--credential", "account_sid=AC"+randomHex(16), "--credential", "auth_token="+randomHex(16))
	if err != nil {
		return "", err
	}
	a, err := ctl("agents", "create", "--user", user, "--name", "Bench", "--system-prompt", "You are a test agent.",
		"--first-message", "Hello")
	if err != nil {
		return "", err
	}
	line, _ := l["phone_number_id"].(string)
	agent, _ := a["agent_id"].(string)
	// create_call without agent_id runs the agent mapped to the line, as a campaign would.
	if _, err := ctl("mappings", "set", "--line", line, "--agent", agent); err != nil {
		return "", err
	}
	if _, err := ctl("limits", "set", "--user", user, "--max-concurrent-calls", "100000",
		"--requests-per-second", "10000", "--daily-spend-cap", "none"); err != nil {
		return "", err
	}
	return key, nil
}

// baseline is the started baseline server with its keys.
type baseline struct {
	p    *proc
	base string
	keys []string
}

func (h *harness) startBaseline(ctx context.Context, dbURL string) (*baseline, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	b := &baseline{base: "http://" + addr}
	for i := 0; i < h.opt.rounds; i++ {
		key := "bl_" + randomHex(16)
		if _, err := runCmd(ctx, h.tmp, os.Environ(), h.baselineBin, "-db", dbURL, "-seed-key", key); err != nil {
			return nil, fmt.Errorf("seed the baseline: %w", err)
		}
		b.keys = append(b.keys, key)
	}
	if b.p, err = startProc("baseline", h.baselineBin, []string{"-db", dbURL, "-addr", addr, "-carrier", h.carrierSrv.URL},
		os.Environ(), h.tmp, filepath.Join(h.tmp, "baseline.log")); err != nil {
		return nil, err
	}
	h.procs = append(h.procs, b.p)
	// Any answer will do: the baseline has no probe; a GET of create_call is its 405.
	return b, waitHTTP(ctx, b.p, b.base+"/api/call/create_call", 0, 30*time.Second)
}

// postgres measures on a fresh database: the baseline (when there is one) and kupe alternately.
func (h *harness) postgres(ctx context.Context) error {
	var err error
	if h.admin, err = sql.Open("postgres", h.opt.pg); err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var version string
	if err := h.admin.QueryRowContext(pctx, "SHOW server_version").Scan(&version); err != nil {
		return fmt.Errorf("PostgreSQL at %s: %w", redactURL(h.opt.pg), err)
	}
	name := "kupe_bench_" + randomHex(4)
	kupeURL, err := h.createDB(ctx, name)
	if err != nil {
		return err
	}
	h.printf("PostgreSQL %s: database %s\n", version, name)
	k, err := h.startKupe(ctx, "postgres", kupeURL)
	if err != nil {
		return fmt.Errorf("kupe on PostgreSQL: %w", err)
	}
	var b *baseline
	if h.baselineBin != "" {
		blURL, err := h.createDB(ctx, name+"_baseline")
		if err != nil {
			return err
		}
		if b, err = h.startBaseline(ctx, blURL); err != nil {
			return err
		}
	}
	for i := 0; i < h.opt.rounds; i++ {
		if b != nil {
			if err := h.measure(ctx, "baseline", "postgres", i+1, b.p, b.base, b.keys[i], "", ""); err != nil {
				return err
			}
		}
		prof := ""
		if i == h.opt.rounds-1 {
			prof = h.opt.cpuprofile
		}
		if err := h.measure(ctx, "kupe", "postgres", i+1, k.p, k.base, k.accounts[i], k.pprof, prof); err != nil {
			return err
		}
	}
	k.p.stop(20 * time.Second)
	if b != nil {
		b.p.stop(5 * time.Second)
	}
	return nil
}

// sqlite measures kupe on a SQLite file of its own, as the embedded default runs.
func (h *harness) sqlite(ctx context.Context) error {
	dir := filepath.Join(h.tmp, "sqlite")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	h.printf("\nSQLite: %s\n", filepath.Join(dir, "kupe.db"))
	k, err := h.startKupe(ctx, "sqlite", "file:"+filepath.Join(dir, "kupe.db"))
	if err != nil {
		return fmt.Errorf("kupe on SQLite: %w", err)
	}
	for i := 0; i < h.opt.rounds; i++ {
		prof := ""
		if i == h.opt.rounds-1 {
			prof = h.opt.cpuprofile
		}
		if err := h.measure(ctx, "kupe", "sqlite", i+1, k.p, k.base, k.accounts[i], k.pprof, prof); err != nil {
			return err
		}
	}
	k.p.stop(20 * time.Second)
	return nil
}

// measure warms the server up, then runs the load once and records the summary. With a pprof
// address and a profile prefix, it takes a CPU profile of the server during the run.
func (h *harness) measure(ctx context.Context, server, database string, round int, p *proc, base, key, pprofAddr, profPrefix string) error {
	tr := createCalls(base, key)
	if h.opt.warmup > 0 {
		w, el := attack(ctx, h.client, tr, h.opt.conc, h.opt.warmup)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if w.ok == 0 {
			s := w.summary(el)
			return fmt.Errorf("%s on %s: no successful call in the warm-up (%s)\n  %s\nits log ends:\n%s", server, database,
				s.Outcomes(), strings.Join(s.Problems(), "\n  "), p.tail(10))
		}
	}
	profDone := make(chan error, 1)
	var profPath string
	if pprofAddr != "" && profPrefix != "" {
		profPath = profPrefix + "." + database + ".pprof"
		go func() { profDone <- fetchProfile(ctx, pprofAddr, h.opt.dur, profPath) }()
	} else {
		profDone <- nil
	}
	before := h.carrier.Accepted()
	cpuBefore := sampleCPU(p.cmd.Process.Pid)
	t, elapsed := attack(ctx, h.client, tr, h.opt.conc, h.opt.dur)
	serverCPU, pgCPU := sampleCPU(p.cmd.Process.Pid).since(cpuBefore)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s := t.summary(elapsed)
	s.Server, s.Database, s.Round = server, database, round
	s.Dials = h.carrier.Accepted() - before
	s.PeakRSSKiB = p.peakRSSKiB()
	s.ServerCPU = serverCPU
	if database == "postgres" {
		s.PostgresCPU = pgCPU
	}
	h.runs = append(h.runs, s)
	h.printf("%s\n", s.Line())
	for _, pr := range s.Problems() {
		h.printf("    %s\n", pr)
	}
	if err := <-profDone; err != nil {
		h.printf("    no CPU profile: %v\n", err)
	} else if profPath != "" {
		h.printf("    CPU profile: %s (go tool pprof -top %s)\n", profPath, profPath)
	}
	return nil
}

// fetchProfile takes a CPU profile of d (whole seconds, at least one) from a pprof listener.
func fetchProfile(ctx context.Context, addr string, d time.Duration, path string) error {
	secs := max(int(d/time.Second), 1)
	c := loopbackClient(1)
	c.Timeout = time.Duration(secs)*time.Second + 30*time.Second
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof answered %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// createDB makes a database to drop at the end and returns its URL.
func (h *harness) createDB(ctx context.Context, name string) (string, error) {
	if _, err := h.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	h.dbs = append(h.dbs, name)
	u, _ := url.Parse(h.opt.pg)
	u.Path = "/" + name
	return u.String(), nil
}

// cleanup stops every child, closes the fake carrier, drops the databases and removes the temp
// dir. It runs on a fresh context: the run's may have ended with Ctrl-C.
func (h *harness) cleanup() {
	for _, p := range h.procs {
		p.stop(20 * time.Second)
	}
	if h.carrierSrv != nil {
		h.carrierSrv.Close()
	}
	if h.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, db := range h.dbs {
			if _, err := h.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
				fmt.Fprintf(os.Stderr, "bench: drop database %s: %v\n", db, err)
			}
		}
		h.admin.Close()
	}
	if h.tmp != "" {
		os.RemoveAll(h.tmp)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactURL hides a password in a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
