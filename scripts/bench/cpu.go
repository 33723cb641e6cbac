package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// cpuSample is the CPU time (user and system) consumed so far by the server and by every
// PostgreSQL process (backends, WAL writer, checkpointer: all of the cluster's work for a call),
// read from /proc. On a system without /proc it stays zero and nothing is reported.
type cpuSample struct {
	server   time.Duration
	postgres map[int]time.Duration // pid → CPU so far
}

func sampleCPU(serverPID int) cpuSample {
	s := cpuSample{server: procCPU(serverPID), postgres: map[int]time.Duration{}}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && string(bytes.TrimSpace(comm)) == "postgres" {
			s.postgres[pid] = procCPU(pid)
		}
	}
	return s
}

// since is the CPU the server and PostgreSQL spent between s and a later sample. A PostgreSQL
// process that started in between counts from zero; one that ended in between is lost (the
// servers keep their pools' connections open, so few are).
func (s cpuSample) since(earlier cpuSample) (server, postgres time.Duration) {
	for pid, t := range s.postgres {
		postgres += t - earlier.postgres[pid]
	}
	return s.server - earlier.server, postgres
}

// procCPU is utime+stime of a process, from /proc/PID/stat; 0 when unknown.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime from the text of a /proc/PID/stat file; 0 when malformed.
func parseStatCPU(b []byte) time.Duration {
	// The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond
}
