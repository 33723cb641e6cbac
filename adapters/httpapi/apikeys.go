package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// apiKeyJSON is one key as the API-key endpoints show it: never the key itself (only the
// create answer carries that, in Key) nor its hash.
type apiKeyJSON struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Prefix     string  `json:"prefix"`
	CreatedAt  *string `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}

type createdAPIKeyJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Prefix    string  `json:"prefix"`
	CreatedAt *string `json:"created_at"`
	Key       string  `json:"key"`
}

type apiKeyMessage struct {
	Message string `json:"message"`
	APIKey  any    `json:"api_key"`
}

func toAPIKeyJSON(k identity.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: timeJSON(k.CreatedAt), LastUsedAt: timeJSON(k.LastUsedAt)}
}

// apiKeyRoutes registers Kupe's API-key endpoints on the authenticated group.
func (s *server) apiKeyRoutes(g *gin.RouterGroup) {
	g.POST("/api/v1/api-keys", s.createAPIKey)
	g.GET("/api/v1/api-keys/fetch", s.listAPIKeys)
	g.PATCH("/api/v1/api-keys/:key_id", s.renameAPIKey)
	g.DELETE("/api/v1/api-keys/:key_id", s.revokeAPIKey)
}

// apiKeyCaller is the user an API-key request acts for: the authenticated one, which the
// optional user_id query parameter (and body field, bodyUserID) may name but not change.
func apiKeyCaller(c *gin.Context, bodyUserID string) (string, error) {
	p, ok := principal(c)
	if !ok {
		return "", fault.ErrUnauthenticated
	}
	var (
		values [1]string
		found  [1]bool
	)
	q := queryParams{keys: []string{"user_id"}, values: values[:], found: found[:]}
	if err := q.parse(c.Request.URL.RawQuery); err != nil {
		return "", err
	}
	for _, id := range []string{values[0], bodyUserID} {
		if _, err := accounts.ActingUser(p.UserID, id); err != nil {
			return "", err
		}
	}
	return p.UserID, nil
}

// createAPIKey serves POST /api/v1/api-keys: body {"name": "..."} (optional; user_id may name
// the caller). The answer is the only place the key is ever shown.
func (s *server) createAPIKey(c *gin.Context) {
	body, err := s.readAPIKeyBody(c.Request)
	if err != nil {
		fail(c, err)
		return
	}
	userID, err := apiKeyCaller(c, body.userID)
	if err != nil {
		fail(c, err)
		return
	}
	k, err := s.deps.APIKeys.Create(c.Request.Context(), userID, body.name)
	if err != nil {
		fail(c, err)
		return
	}
	c.Writer.Header().Set("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, apiKeyMessage{Message: "API key created", APIKey: createdAPIKeyJSON{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: timeJSON(k.CreatedAt), Key: k.Plain,
	}})
}

// listAPIKeys serves GET /api/v1/api-keys/fetch: the caller's live keys, newest first, as a
// JSON array.
func (s *server) listAPIKeys(c *gin.Context) {
	userID, err := apiKeyCaller(c, "")
	if err != nil {
		fail(c, err)
		return
	}
	keys, err := s.deps.APIKeys.List(c.Request.Context(), userID)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]apiKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, toAPIKeyJSON(k))
	}
	writeJSON(c, http.StatusOK, out)
}

// renameAPIKey serves PATCH /api/v1/api-keys/{key_id}: body {"name": "..."}; "" clears the
// label. Another user's key is a 404, and is left as it was.
func (s *server) renameAPIKey(c *gin.Context) {
	body, err := s.readAPIKeyBody(c.Request)
	if err != nil {
		fail(c, err)
		return
	}
	if !body.hasName {
		fail(c, invalid("name is required (an empty string clears the label)"))
		return
	}
	userID, err := apiKeyCaller(c, body.userID)
	if err != nil {
		fail(c, err)
		return
	}
	k, err := s.deps.APIKeys.Rename(c.Request.Context(), userID, c.Param("key_id"), body.name)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, apiKeyMessage{Message: "API key updated", APIKey: toAPIKeyJSON(k)})
}

// revokeAPIKey serves DELETE /api/v1/api-keys/{key_id}. The key stops working with this answer.
func (s *server) revokeAPIKey(c *gin.Context) {
	userID, err := apiKeyCaller(c, "")
	if err != nil {
		fail(c, err)
		return
	}
	id := c.Param("key_id")
	if err := s.deps.APIKeys.Revoke(c.Request.Context(), userID, id); err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, struct {
		Message string `json:"message"`
		ID      string `json:"id"`
	}{"API key revoked", id})
}

type apiKeyBody struct {
	name    string
	hasName bool
	userID  string
}

// readAPIKeyBody reads the optional JSON object of a create or rename: name (a string) and
// user_id. Other fields Kupe documents (provider_name) are accepted and ignored.
func (s *server) readAPIKeyBody(r *http.Request) (apiKeyBody, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return apiKeyBody{}, nil
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return apiKeyBody{}, errBodyTooLarge
	}
	b := getBuf()
	defer putBuf(b)
	var err error
	if b.b, err = readAtMost(r.Body, b.b, s.cfg.MaxBodyBytes); err != nil {
		return apiKeyBody{}, err
	}
	raw := bytes.TrimSpace(b.b)
	if len(raw) == 0 {
		return apiKeyBody{}, nil
	}
	if raw[0] != '{' {
		return apiKeyBody{}, invalid("Request body must be a JSON object")
	}
	var v struct {
		Name   any `json:"name"`
		UserID any `json:"user_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&v); err != nil {
		return apiKeyBody{}, malformedBody(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apiKeyBody{}, invalid("Request body must hold one JSON object and nothing after it")
	}
	var out apiKeyBody
	switch n := v.Name.(type) {
	case nil:
	case string:
		out.name, out.hasName = n, true
	default:
		return apiKeyBody{}, invalid("name must be a string")
	}
	switch u := v.UserID.(type) {
	case nil:
	case string:
		out.userID = u
	default:
		return apiKeyBody{}, invalid("user_id must be a UUID")
	}
	return out, nil
}
