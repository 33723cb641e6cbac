package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/domain/fault"
)

// meResponse is Kupe's MeResponse. This service keeps no profile beyond the email, so the other
// profile fields are always null.
type meResponse struct {
	UserID          string    `json:"user_id"`
	Email           *string   `json:"email"`
	Phone           *string   `json:"phone"`
	ProfileImageURL *string   `json:"profile_image_url"`
	Auth            string    `json:"auth"`
	FullName        *string   `json:"full_name"`
	UserMetadata    *struct{} `json:"user_metadata"`
}

// me serves GET /api/v1/me.
func (s *server) me(c *gin.Context) {
	p, ok := principal(c)
	if !ok {
		fail(c, fault.ErrUnauthenticated)
		return
	}
	u, err := s.deps.Accounts.Store.User(c.Request.Context(), p.UserID)
	if errors.Is(err, fault.ErrNotFound) {
		// A credential whose user is gone stands for nobody.
		err = fault.ErrUnauthenticated
	}
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, meResponse{
		UserID: u.ID,
		Email:  nullable(u.Email),
		Auth:   string(p.Method),
	})
}

// nullable is s, or JSON null when s is empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
