package redislimit_test

import (
	"context"
	"net"
	"testing"

	"github.com/kupe-voice/kupe/adapters/redislimit"
)

// One create_call's request-rate reservation against the real Redis: one EVALSHA round trip.
func BenchmarkReserve(b *testing.B) {
	l, err := redislimit.Open(redisURL(b), redislimit.Options{Prefix: prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Take(ctx, "u", 1e9, 1e9, 0); !ok {
			b.Fatal("refused")
		}
	}
}

// 32 concurrent callers on one key, as in the load test.
func BenchmarkReserveParallel(b *testing.B) {
	l, err := redislimit.Open(redisURL(b), redislimit.Options{Prefix: prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	b.SetParallelism(16) // × GOMAXPROCS 2
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, ok := l.Take(ctx, "u", 1e9, 1e9, 0); !ok {
				b.Error("refused")
				return
			}
		}
	})
}

// While Redis is down, between probes: the process's own buckets, no round trip.
func BenchmarkReserveRedisDown(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l, err := redislimit.Open("redis://"+addr+"/0", redislimit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	l.Take(ctx, "u", 1e9, 1e9, 0) // finds Redis down
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Take(ctx, "u", 1e9, 1e9, 0); !ok {
			b.Fatal("refused")
		}
	}
	if l.Status() != redislimit.StatusDisconnected {
		b.Fatal("Redis was not down")
	}
}
