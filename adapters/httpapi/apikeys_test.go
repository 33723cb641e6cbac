package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

const apiKeysURL = "/api/v1/api-keys"

// withKeyEndpoints serves the API-key endpoints, and records key use, on the rig's store.
func withKeyEndpoints(auth **accounts.Authenticator) rigOption {
	return func(d *httpapi.Deps, _ *httpapi.Config) {
		store := d.Accounts.Store.(*memstore.Store)
		d.APIKeys = &accounts.APIKeys{Store: store}
		d.Auth = &accounts.Authenticator{Keys: store, Usage: store}
		if auth != nil {
			*auth = d.Auth
		}
	}
}

// sendKeyRequest sends a request with an optional body; key "" sends no x-api-key header.
func (r *rig) sendKeyRequest(method, target, key, body string) *httptest.ResponseRecorder {
	r.t.Helper()
	if body == "" {
		return r.do(method, target, key, nil)
	}
	return r.do(method, target, key, strings.NewReader(body))
}

// createKey issues a key through the API and returns the api_key object.
func (r *rig) createKey(key, name string) map[string]any {
	r.t.Helper()
	w := r.sendKeyRequest(http.MethodPost, apiKeysURL, key, `{"name": "`+name+`", "provider_name": "milli_chat_ai"}`)
	if w.Code != http.StatusOK {
		r.t.Fatalf("create key: status %d; body %s", w.Code, w.Body)
	}
	m := decode(r.t, w)
	if m["message"] == "" || len(m) != 2 {
		r.t.Fatalf("create key: body %s, want message and api_key", w.Body)
	}
	k, ok := m["api_key"].(map[string]any)
	if !ok {
		r.t.Fatalf("create key: api_key = %v", m["api_key"])
	}
	if plain, ok := k["key"].(string); ok {
		r.secrets = append(r.secrets, plain)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		r.t.Errorf("create key answered with Cache-Control %q, want no-store", cc)
	}
	return k
}

func (r *rig) listKeys(key string) []any {
	r.t.Helper()
	w := r.get(apiKeysURL+"/fetch", key)
	if w.Code != http.StatusOK {
		r.t.Fatalf("list keys: status %d; body %s", w.Code, w.Body)
	}
	var out []any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		r.t.Fatalf("list keys: body %s is not a JSON array: %v", w.Body, err)
	}
	return out
}

func TestCreatedKeyPlacesACallUntilRevoked(t *testing.T) {
	r := newRig(t, withKeyEndpoints(nil))
	a := r.user(money.FromUnits(10), true)
	k := r.createKey(a.key, "billing cron")
	if got, want := keys(k), []string{"created_at", "id", "key", "name", "prefix"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("api_key fields = %v, want %v", got, want)
	}
	plain := k["key"].(string)
	if err := identity.CheckAPIKey(plain); err != nil || !strings.HasPrefix(plain, "kupe_") {
		t.Fatalf("issued key %q..: %v", plain[:8], err)
	}
	if k["name"] != "billing cron" || k["prefix"] != identity.DisplayPrefix(plain) {
		t.Fatalf("api_key = %v", k)
	}
	if ts, err := time.Parse(time.RFC3339Nano, k["created_at"].(string)); err != nil || time.Since(ts).Abs() > time.Minute {
		t.Fatalf("created_at = %v", k["created_at"])
	}

	w := r.post(callURL("phoneNumber", destination), plain, "")
	if w.Code != http.StatusOK || decode(t, w)["status"] != "success" {
		t.Fatalf("call with the new key: %d %s", w.Code, w.Body)
	}
	// The key that made it can revoke it; so can the new key itself. Here the new key goes.
	w = r.do(http.MethodDelete, apiKeysURL+"/"+k["id"].(string), a.key, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if m := decode(t, w); m["id"] != k["id"] || m["message"] == "" {
		t.Fatalf("revoke answered %s", w.Body)
	}
	wantDetail(t, r.post(callURL("phoneNumber", destination), plain, ""), http.StatusUnauthorized, "Invalid or missing API key")
	wantDetail(t, r.get("/api/v1/me", plain), http.StatusUnauthorized, "Invalid or missing API key")
	// The key that revoked it still works; a second revoke finds nothing.
	if w := r.get("/api/v1/me", a.key); w.Code != http.StatusOK {
		t.Fatalf("the other key after the revoke: %d", w.Code)
	}
	wantDetail(t, r.do(http.MethodDelete, apiKeysURL+"/"+k["id"].(string), a.key, nil), http.StatusNotFound, "API key not found")
}

func TestListShowsOnlyTheCallersLiveKeysWithoutSecrets(t *testing.T) {
	var auth *accounts.Authenticator
	r := newRig(t, withKeyEndpoints(&auth))
	a, b := r.user(money.FromUnits(10), false), r.user(money.FromUnits(10), false)
	first := r.createKey(a.key, "first")
	second := r.createKey(a.key, "second")
	r.createKey(b.key, "theirs")
	gone := r.createKey(a.key, "gone")
	if w := r.do(http.MethodDelete, apiKeysURL+"/"+gone["id"].(string), a.key, nil); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	// Use the first key, so its last use is recorded.
	if w := r.get("/api/v1/me", first["key"].(string)); w.Code != http.StatusOK {
		t.Fatal(w.Body)
	}
	auth.Wait()

	list := r.listKeys(a.key)
	ids := map[string]map[string]any{}
	for _, v := range list {
		m := v.(map[string]any)
		if got, want := keys(m), []string{"created_at", "id", "last_used_at", "name", "prefix"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("listed key fields = %v, want %v", got, want)
		}
		ids[m["id"].(string)] = m
	}
	// The rig's own key, the two made here; not the revoked one, not the other user's.
	if len(list) != 3 || ids[first["id"].(string)] == nil || ids[second["id"].(string)] == nil || ids[gone["id"].(string)] != nil {
		t.Fatalf("list = %v", list)
	}
	if list[0].(map[string]any)["id"] != second["id"] {
		t.Fatalf("list is not newest first: %v", list)
	}
	if used := ids[first["id"].(string)]["last_used_at"]; used == nil {
		t.Fatalf("last_used_at of a used key is null")
	} else if ts, err := time.Parse(time.RFC3339Nano, used.(string)); err != nil || time.Since(ts) > time.Minute {
		t.Fatalf("last_used_at = %v", used)
	}
	if ids[second["id"].(string)]["last_used_at"] != nil {
		t.Fatalf("an unused key has a last_used_at")
	}
	body := r.get(apiKeysURL+"/fetch", a.key).Body.String()
	stored, _ := r.store.APIKeyByHash(context.Background(), identity.HashAPIKey(first["key"].(string)))
	for _, secret := range []string{first["key"].(string), second["key"].(string), a.key, string(stored.Hash[:]), "hash"} {
		if strings.Contains(body, secret) {
			t.Fatalf("the list shows a key or a hash: %s", body)
		}
	}
	if got := r.listKeys(b.key); len(got) != 2 {
		t.Fatalf("the other user's list = %v, want their 2 keys", got)
	}
}

func TestAnotherUsersKeyIsNotFoundAndKeepsWorking(t *testing.T) {
	r := newRig(t, withKeyEndpoints(nil))
	owner, other := r.user(money.FromUnits(10), true), r.user(money.FromUnits(10), false)
	k := r.createKey(owner.key, "crm")
	id := k["id"].(string)

	wantDetail(t, r.sendKeyRequest(http.MethodPatch, apiKeysURL+"/"+id, other.key, `{"name":"mine now"}`), http.StatusNotFound, "API key not found")
	wantDetail(t, r.do(http.MethodDelete, apiKeysURL+"/"+id, other.key, nil), http.StatusNotFound, "API key not found")
	// Exactly as for a key that does not exist.
	wantDetail(t, r.do(http.MethodDelete, apiKeysURL+"/"+uuid.NewString(), other.key, nil), http.StatusNotFound, "API key not found")

	w := r.post(callURL("phoneNumber", destination), k["key"].(string), "")
	if w.Code != http.StatusOK {
		t.Fatalf("the key after another user's PATCH and DELETE: %d %s", w.Code, w.Body)
	}
	for _, v := range r.listKeys(owner.key) {
		if m := v.(map[string]any); m["id"] == id && m["name"] != "crm" {
			t.Fatalf("another user renamed the key to %v", m["name"])
		}
	}
}

func TestRenameKey(t *testing.T) {
	r := newRig(t, withKeyEndpoints(nil))
	a := r.user(money.FromUnits(10), false)
	k := r.createKey(a.key, "old")
	url := apiKeysURL + "/" + k["id"].(string)
	w := r.sendKeyRequest(http.MethodPatch, url, a.key, `{"name": "  new label  "}`)
	if w.Code != http.StatusOK {
		t.Fatalf("rename: %d %s", w.Code, w.Body)
	}
	m := decode(t, w)
	got := m["api_key"].(map[string]any)
	if got["name"] != "new label" || got["id"] != k["id"] || got["prefix"] != k["prefix"] || got["key"] != nil || m["message"] == "" {
		t.Fatalf("rename answered %s", w.Body)
	}
	w = r.sendKeyRequest(http.MethodPatch, url, a.key, `{"name": ""}`)
	if w.Code != http.StatusOK || decode(t, w)["api_key"].(map[string]any)["name"] != "" {
		t.Fatalf("clearing the label: %d %s", w.Code, w.Body)
	}
	for name, tc := range map[string]struct {
		url, body string
		status    int
		detail    string
	}{
		"no body":          {url, "", 422, "name is required (an empty string clears the label)"},
		"no name":          {url, `{}`, 422, "name is required (an empty string clears the label)"},
		"null name":        {url, `{"name": null}`, 422, "name is required (an empty string clears the label)"},
		"name not string":  {url, `{"name": 7}`, 422, "name must be a string"},
		"name too long":    {url, `{"name": "` + strings.Repeat("é", 101) + `"}`, 422, "name must be at most 100 characters of printable text"},
		"control in name":  {url, `{"name": "a\u0007b"}`, 422, "name must be at most 100 characters of printable text"},
		"not JSON":         {url, `{"name": `, 422, "Request body is not valid JSON (it ends too early)"},
		"array":            {url, `["name"]`, 422, "Request body must be a JSON object"},
		"two objects":      {url, `{"name": "a"} {}`, 422, "Request body must hold one JSON object and nothing after it"},
		"key_id not UUID":  {apiKeysURL + "/fetch", `{"name": "x"}`, 422, "key_id must be a UUID"},
		"unknown key":      {apiKeysURL + "/" + uuid.NewString(), `{"name": "x"}`, 404, "API key not found"},
		"foreign user_id":  {url + "?user_id=" + uuid.NewString(), `{"name": "x"}`, 403, "Not allowed to act for another user"},
		"user_id not UUID": {url + "?user_id=me", `{"name": "x"}`, 422, "user_id must be a UUID"},
	} {
		t.Run(name, func(t *testing.T) {
			wantDetail(t, r.sendKeyRequest(http.MethodPatch, tc.url, a.key, tc.body), tc.status, tc.detail)
		})
	}
	w = r.sendKeyRequest(http.MethodPatch, url+"?user_id="+a.userID, a.key, `{"name": "with my own user_id"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("rename naming the caller's own user_id: %d %s", w.Code, w.Body)
	}
}

func TestCreateKeyInput(t *testing.T) {
	r := newRig(t, withKeyEndpoints(nil))
	a := r.user(money.FromUnits(10), false)
	// No body, or no name: a key without a label.
	for _, body := range []string{"", "{}", `{"user_id": "` + a.userID + `"}`, `{"user_id": null}`} {
		w := r.sendKeyRequest(http.MethodPost, apiKeysURL, a.key, body)
		if w.Code != http.StatusOK {
			t.Fatalf("body %q: %d %s", body, w.Code, w.Body)
		}
		k := decode(t, w)["api_key"].(map[string]any)
		r.secrets = append(r.secrets, k["key"].(string))
		if k["name"] != "" {
			t.Fatalf("body %q: name %v", body, k["name"])
		}
	}
	before := len(r.listKeys(a.key))
	for name, tc := range map[string]struct {
		url, body string
		status    int
		detail    string
	}{
		"foreign user_id in body":  {apiKeysURL, `{"user_id": "` + uuid.NewString() + `", "name": "x"}`, 403, "Not allowed to act for another user"},
		"foreign user_id in query": {apiKeysURL + "?user_id=" + uuid.NewString(), `{"name": "x"}`, 403, "Not allowed to act for another user"},
		"user_id not a string":     {apiKeysURL, `{"user_id": 5}`, 422, "user_id must be a UUID"},
		"name not a string":        {apiKeysURL, `{"name": ["x"]}`, 422, "name must be a string"},
		"name too long":            {apiKeysURL, `{"name": "` + strings.Repeat("x", 101) + `"}`, 422, "name must be at most 100 characters of printable text"},
		"too large":                {apiKeysURL, `{"name": "` + strings.Repeat("x", 70<<10) + `"}`, 413, "Request body too large"},
	} {
		t.Run(name, func(t *testing.T) {
			wantDetail(t, r.sendKeyRequest(http.MethodPost, tc.url, a.key, tc.body), tc.status, tc.detail)
		})
	}
	if after := len(r.listKeys(a.key)); after != before {
		t.Fatalf("refused creates made %d keys", after-before)
	}
	// The list and revoke answer the same tenancy rule.
	wantDetail(t, r.get(apiKeysURL+"/fetch?user_id="+uuid.NewString(), a.key), http.StatusForbidden, "Not allowed to act for another user")
	if w := r.get(apiKeysURL+"/fetch?user_id="+a.userID, a.key); w.Code != http.StatusOK {
		t.Fatalf("list naming the caller: %d %s", w.Code, w.Body)
	}
	wantDetail(t, r.do(http.MethodDelete, apiKeysURL+"/not-a-uuid", a.key, nil), http.StatusUnprocessableEntity, "key_id must be a UUID")
}

func TestAPIKeyEndpointsNeedAuthentication(t *testing.T) {
	r := newRig(t, withKeyEndpoints(nil))
	id := uuid.NewString()
	for _, c := range []struct{ method, url string }{
		{http.MethodPost, apiKeysURL}, {http.MethodGet, apiKeysURL + "/fetch"},
		{http.MethodPatch, apiKeysURL + "/" + id}, {http.MethodDelete, apiKeysURL + "/" + id},
	} {
		wantDetail(t, r.sendKeyRequest(c.method, c.url, "", `{"name":"x"}`), http.StatusUnauthorized, "Invalid or missing API key")
		wantDetail(t, r.sendKeyRequest(c.method, c.url, identity.NewAPIKey(), `{"name":"x"}`), http.StatusUnauthorized, "Invalid or missing API key")
	}
}

func TestLastUsedIsWrittenAtMostOnceAMinute(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	var auth *accounts.Authenticator
	r := newRig(t, withKeyEndpoints(&auth))
	auth.Now = func() time.Time { return now }
	a := r.user(money.FromUnits(10), false)
	lastUsed := func() time.Time {
		t.Helper()
		auth.Wait()
		k, err := r.store.APIKeyByHash(context.Background(), identity.HashAPIKey(a.key))
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUsedAt
	}
	for range 5 {
		if w := r.get("/api/v1/me", a.key); w.Code != http.StatusOK {
			t.Fatal(w.Body)
		}
	}
	if got := lastUsed(); !got.Equal(now) {
		t.Fatalf("last_used_at = %v, want %v", got, now)
	}
	first := now
	now = now.Add(59 * time.Second)
	r.get("/api/v1/me", a.key)
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last_used_at moved to %v within the minute", got)
	}
	now = now.Add(2 * time.Second)
	r.get("/api/v1/me", a.key)
	if got := lastUsed(); !got.Equal(now) {
		t.Fatalf("last_used_at = %v after the minute, want %v", got, now)
	}
}
