package supabaseauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzBearer feeds arbitrary Authorization values through the whole API: a Bearer token that is
// not a valid session never panics and is always a 401 with a {"detail"} body. Seeds are in
// testdata/fuzz/FuzzBearer.
func FuzzBearer(f *testing.F) {
	f.Add("")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.")
	f.Add("a.b.c")
	a := newAPI(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []string{"Bearer " + s, s} {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
			req.Header["Authorization"] = []string{v}
			w := httptest.NewRecorder()
			a.engine.ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("Authorization %q: status %d, want 401; body %s", v, w.Code, w.Body)
			}
			var m map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || len(m) != 1 || m["detail"] == "" {
				t.Fatalf("Authorization %q: body %s, want {\"detail\": ...}", v, w.Body)
			}
		}
	})
}
