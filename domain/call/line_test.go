package call_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestChooseLine(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	agent, flow := call.Target{AgentID: "agent-1"}, call.Target{WorkflowID: "flow-1"}
	lines := []call.Line{
		{ID: "sim-old", Provider: call.ProviderSimulated, Active: true, CreatedAt: t0},
		{ID: "exo-b", Provider: call.ProviderExotel, Active: true, CreatedAt: t0.Add(time.Hour), Mapping: agent},
		{ID: "exo-a", Provider: call.ProviderExotel, Active: true, CreatedAt: t0.Add(time.Hour), Mapping: agent},
		{ID: "twi-off", Provider: call.ProviderTwilio, Active: false, CreatedAt: t0},
		{ID: "twi-new", Provider: call.ProviderTwilio, Active: true, CreatedAt: t0.Add(2 * time.Hour)},
		{ID: "eli-flow", Provider: call.ProviderElison, Active: true, CreatedAt: t0, Mapping: flow},
		{ID: "twi-flow-off", Provider: call.ProviderTwilio, Active: false, CreatedAt: t0, Mapping: flow},
	}
	tests := []struct {
		name string
		req  call.LineRequest
		want string
		err  error
	}{
		{"explicit line wins over a mapping", call.LineRequest{LineID: "sim-old", Target: agent}, "sim-old", nil},
		{"explicit inactive line", call.LineRequest{LineID: "twi-off"}, "", call.ErrLineInactive},
		{"explicit unknown line", call.LineRequest{LineID: "nope"}, "", call.ErrLineNotFound},
		{"mapped agent, ties broken by id", call.LineRequest{Target: agent}, "exo-a", nil},
		{"mapped workflow skips inactive lines", call.LineRequest{Target: flow}, "eli-flow", nil},
		{"unmapped agent falls back to the first active line", call.LineRequest{Target: call.Target{AgentID: "other"}}, "twi-new", nil},
		{"no request: provider order first", call.LineRequest{}, "twi-new", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := call.ChooseLine(lines, tt.req)
			if !errors.Is(err, tt.err) || got.ID != tt.want {
				t.Fatalf("ChooseLine = %q, %v; want %q, %v", got.ID, err, tt.want, tt.err)
			}
		})
	}
	// The answer does not depend on the order the lines come in.
	rev := make([]call.Line, len(lines))
	for i, l := range lines {
		rev[len(lines)-1-i] = l
	}
	if got, _ := call.ChooseLine(rev, call.LineRequest{Target: agent}); got.ID != "exo-a" {
		t.Fatalf("reversed input chose %q", got.ID)
	}
	// Same provider: the oldest line first.
	two := []call.Line{
		{ID: "a-new", Provider: call.ProviderTwilio, Active: true, CreatedAt: t0.Add(time.Minute)},
		{ID: "z-old", Provider: call.ProviderTwilio, Active: true, CreatedAt: t0},
	}
	if got, _ := call.ChooseLine(two, call.LineRequest{}); got.ID != "z-old" {
		t.Fatalf("chose %q, want the oldest", got.ID)
	}
	if _, err := call.ChooseLine([]call.Line{{ID: "off", Provider: call.ProviderTwilio}}, call.LineRequest{}); !errors.Is(err, call.ErrNoActiveLine) {
		t.Fatalf("no active line: %v", err)
	}
	if _, err := call.ChooseLine(nil, call.LineRequest{Target: agent}); !errors.Is(err, call.ErrNoActiveLine) {
		t.Fatalf("no lines: %v", err)
	}
}

func TestResolveTarget(t *testing.T) {
	mapped := call.Line{Mapping: call.Target{WorkflowID: "w"}}
	if got, err := call.ResolveTarget(call.Target{AgentID: "a"}, mapped); err != nil || got.AgentID != "a" {
		t.Fatalf("requested target: %+v %v", got, err)
	}
	if got, err := call.ResolveTarget(call.Target{}, mapped); err != nil || got.WorkflowID != "w" {
		t.Fatalf("mapped target: %+v %v", got, err)
	}
	if _, err := call.ResolveTarget(call.Target{}, call.Line{}); !errors.Is(err, call.ErrNoTarget) {
		t.Fatalf("unmapped line: %v", err)
	}
	if _, err := call.ResolveTarget(call.Target{AgentID: "a", WorkflowID: "w"}, mapped); !errors.Is(err, call.ErrTargetBoth) {
		t.Fatalf("both: %v", err)
	}
}

func TestProviders(t *testing.T) {
	for _, p := range call.Providers() {
		back, err := call.ParseProvider(p.String())
		if err != nil || back != p {
			t.Errorf("ParseProvider(%q) = %v, %v", p, back, err)
		}
	}
	if _, err := call.ParseProvider("plivo"); err == nil {
		t.Error("ParseProvider accepted plivo")
	}
}

func TestCredentialsNeverPrint(t *testing.T) {
	c := call.Credentials{"auth_token": "s3cret"}
	l := call.Line{Credentials: c}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v", l, l, l)} {
		if strings.Contains(s, "s3cret") {
			t.Fatalf("credentials printed: %s", s)
		}
	}
	b, _ := json.Marshal(l)
	if strings.Contains(string(b), "s3cret") {
		t.Fatalf("credentials in JSON: %s", b)
	}
}
