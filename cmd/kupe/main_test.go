package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests run the built kupe: a failure to start is one line on stderr, its root cause,
// and exit status 1.

func buildKupe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kupe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runKupe runs bin with only env (and PATH and HOME) and returns stderr and the exit code.
func runKupe(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	dir := t.TempDir()
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("kupe %s: %v, want a failure; stderr %s", strings.Join(args, " "), err, errOut.String())
	}
	return errOut.String(), exit.ExitCode()
}

func TestStartFailuresAreOneLine(t *testing.T) {
	bin := buildKupe(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no secrets key with PostgreSQL", []string{"KUPE_DATABASE_URL=postgres://kupe@127.0.0.1:1/kupe?sslmode=disable"},
			[]string{"serve"}, "kupe serve: KUPE_SECRETS_KEY is required with PostgreSQL"},
		{"the address taken", []string{"KUPE_LOG_LEVEL=error", "KUPE_HTTP_ADDR=" + busy.Addr().String(),
			"KUPE_DATABASE_URL=file:" + filepath.Join(t.TempDir(), "kupe.db")},
			[]string{"serve"}, "kupe serve: listen on " + busy.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errOut, code := runKupe(t, bin, tc.env, tc.args...)
			if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, tc.want) ||
				strings.Contains(errOut, "could not build") || strings.Contains(errOut, ".go:") {
				t.Fatalf("exit %d, stderr %q; want exit 1 and one line %q…", code, errOut, tc.want)
			}
		})
	}
}
