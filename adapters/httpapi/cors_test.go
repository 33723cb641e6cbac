package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/domain/money"
)

const dashboard = "https://app.example.com"

func withOrigins(origins ...string) rigOption {
	return func(_ *httpapi.Deps, c *httpapi.Config) { c.AllowedOrigins = origins }
}

// fromOrigin sends a request with an Origin header (and an x-api-key unless key is "").
func (r *rig) fromOrigin(method, target, key, origin string, header http.Header) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	w := httptest.NewRecorder()
	r.engine.ServeHTTP(w, req)
	return w
}

func TestCreateCallRefusesOriginsNotAllowed(t *testing.T) {
	r := newRig(t, withOrigins("https://App.Example.com/", "http://localhost:3000"))
	a := r.user(money.FromUnits(10), true)
	target := callURL("phoneNumber", destination)
	for _, origin := range []string{"https://evil.example", "null", "https://app.example.com.evil.example", "http://app.example.com", ""} {
		t.Run(origin, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, target, nil)
			req.Header.Set("x-api-key", a.key)
			req.Header["Origin"] = []string{origin}
			w := httptest.NewRecorder()
			r.engine.ServeHTTP(w, req)
			wantDetail(t, w, http.StatusForbidden, "Origin not allowed")
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("Access-Control-Allow-Origin = %q for an origin not allowed", got)
			}
		})
	}
	if n := r.sessionCount(a.userID); n != 0 {
		t.Fatalf("refused origins placed %d calls", n)
	}
	for _, origin := range []string{dashboard, "http://localhost:3000"} {
		w := r.fromOrigin(http.MethodPost, target, a.key, origin, nil)
		if w.Code != http.StatusOK || decode(t, w)["status"] != "success" {
			t.Fatalf("origin %s: %d %s", origin, w.Code, w.Body)
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != origin {
			t.Fatalf("Access-Control-Allow-Origin = %q, want %q", got, origin)
		}
		if got := w.Header().Get("Vary"); got != "Origin" {
			t.Fatalf("Vary = %q, want Origin", got)
		}
		if got := w.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Request-Id") {
			t.Fatalf("Access-Control-Expose-Headers = %q", got)
		}
	}
	// Without an Origin (a server, curl) nothing changes.
	if w := r.post(target, a.key, ""); w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no Origin: %d, ACAO %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestNoOriginIsAllowedByDefault(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(10), true)
	wantDetail(t, r.fromOrigin(http.MethodPost, callURL("phoneNumber", destination), a.key, dashboard, nil),
		http.StatusForbidden, "Origin not allowed")
	w := r.fromOrigin(http.MethodOptions, createCall, "", dashboard, http.Header{"Access-Control-Request-Method": {"POST"}})
	wantDetail(t, w, http.StatusForbidden, "Origin not allowed")
}

func TestPreflight(t *testing.T) {
	r := newRig(t, withOrigins(dashboard))
	ask := http.Header{"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"x-api-key, content-type"}}
	for _, target := range []string{createCall, "/api/v1/me", "/api/v1/api-keys/" + "0b7e6bb0-5f5c-4b8e-9b59-2b4f3c8f0d11", "/no/such/route"} {
		t.Run(target, func(t *testing.T) {
			w := r.fromOrigin(http.MethodOptions, target, "", dashboard, ask)
			if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
				t.Fatalf("preflight: %d %q", w.Code, w.Body)
			}
			h := w.Header()
			if h.Get("Access-Control-Allow-Origin") != dashboard || h.Get("Vary") != "Origin" || h.Get("Access-Control-Max-Age") == "" {
				t.Fatalf("preflight headers: %v", h)
			}
			for _, want := range []string{"x-api-key", "Authorization", "Content-Type", "Idempotency-Key"} {
				if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
					t.Fatalf("Access-Control-Allow-Headers = %q lacks %s", h.Get("Access-Control-Allow-Headers"), want)
				}
			}
			for _, want := range []string{"GET", "POST", "PATCH", "DELETE"} {
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), want) {
					t.Fatalf("Access-Control-Allow-Methods = %q lacks %s", h.Get("Access-Control-Allow-Methods"), want)
				}
			}
			w = r.fromOrigin(http.MethodOptions, target, "", "https://evil.example", ask)
			wantDetail(t, w, http.StatusForbidden, "Origin not allowed")
			if w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Fatal("a refused preflight carries Access-Control-Allow-Origin")
			}
		})
	}
	// An OPTIONS that is not a preflight is not answered as one.
	if w := r.fromOrigin(http.MethodOptions, createCall, "", dashboard, nil); w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("plain OPTIONS: %d %s", w.Code, w.Body)
	}
}

func TestOtherRoutesFromAnotherOriginGetNoCORSHeaders(t *testing.T) {
	r := newRig(t, withOrigins(dashboard))
	a := r.user(money.FromUnits(10), false)
	w := r.fromOrigin(http.MethodGet, "/api/v1/me", a.key, "https://evil.example", nil)
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Vary") != "Origin" {
		t.Fatalf("/me from another origin: %d, headers %v", w.Code, w.Header())
	}
	w = r.fromOrigin(http.MethodGet, "/api/v1/me", a.key, dashboard, nil)
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != dashboard {
		t.Fatalf("/me from the dashboard: %d, headers %v", w.Code, w.Header())
	}
	// Errors answer the allowed origin too, so the page can read the detail.
	w = r.fromOrigin(http.MethodGet, "/api/v1/me", "", dashboard, nil)
	if w.Code != http.StatusUnauthorized || w.Header().Get("Access-Control-Allow-Origin") != dashboard {
		t.Fatalf("401 from the dashboard: %d, headers %v", w.Code, w.Header())
	}
}
