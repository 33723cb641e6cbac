package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// lineJSON is a line as Kupe's listAllPhoneNumbers shows it: never its carrier (the provider)
// nor a credential.
type lineJSON struct {
	ID           string  `json:"id"`
	PhoneNumber  string  `json:"phone_number"`
	FriendlyName *string `json:"friendly_name"`
	CountryCode  *string `json:"country_code"`
	Region       *string `json:"region"`
	IsActive     bool    `json:"is_active"`
	CreatedAt    *string `json:"created_at"`
}

func toLineJSON(l call.Line) lineJSON {
	return lineJSON{
		ID:           l.ID,
		PhoneNumber:  l.Number,
		FriendlyName: nullable(l.FriendlyName),
		CountryCode:  nullable(l.CountryCode),
		Region:       nullable(l.Region),
		IsActive:     l.Active,
		CreatedAt:    timeJSON(l.CreatedAt),
	}
}

type lineListResponse struct {
	Success      bool       `json:"success"`
	PhoneNumbers []lineJSON `json:"phone_numbers"`
}

type lineResponse struct {
	Success     bool     `json:"success"`
	PhoneNumber lineJSON `json:"phone_number"`
}

// successMessage answers a request that leaves nothing to show, such as a delete.
type successMessage struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// caller is the authenticated user a request acts for.
func caller(c *gin.Context) (string, bool) {
	p, ok := principal(c)
	if !ok {
		fail(c, fault.ErrUnauthenticated)
		return "", false
	}
	return p.UserID, true
}

// listLines serves GET /api/v1/phone: all of the caller's lines, oldest first.
func (s *server) listLines(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	lines, err := s.deps.Lines.List(c.Request.Context(), userID)
	if err != nil {
		fail(c, err)
		return
	}
	out := lineListResponse{Success: true, PhoneNumbers: make([]lineJSON, 0, len(lines))}
	for _, l := range lines {
		out.PhoneNumbers = append(out.PhoneNumbers, toLineJSON(l))
	}
	writeJSON(c, http.StatusOK, out)
}

// addLineBody registers a line: its number, its carrier and the carrier's credentials, which
// are write-only (no answer ever shows them).
type addLineBody struct {
	PhoneNumber  string            `json:"phone_number"`
	Provider     string            `json:"provider"`
	Credentials  map[string]string `json:"credentials"`
	FriendlyName string            `json:"friendly_name"`
	Region       string            `json:"region"`
	IsActive     *bool             `json:"is_active"`
}

// addLine serves POST /api/v1/phone, answering 201 with the line.
func (s *server) addLine(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body addLineBody
	if err := s.readJSONObject(c.Request, &body); err != nil {
		fail(c, err)
		return
	}
	if body.PhoneNumber == "" {
		fail(c, invalid("phone_number is required"))
		return
	}
	if body.Provider == "" {
		fail(c, invalid("provider is required: twilio, exotel, elison or simulated"))
		return
	}
	l, err := s.deps.Accounts.AddLine(c.Request.Context(), accounts.AddLine{
		UserID:       userID,
		Number:       body.PhoneNumber,
		Provider:     body.Provider,
		Credentials:  body.Credentials,
		Inactive:     body.IsActive != nil && !*body.IsActive,
		FriendlyName: body.FriendlyName,
		Region:       body.Region,
	})
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusCreated, lineResponse{Success: true, PhoneNumber: toLineJSON(l)})
}

// getLine serves GET /api/v1/phone/{phone_number_id}.
func (s *server) getLine(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	l, err := s.deps.Lines.Get(c.Request.Context(), userID, c.Param("phone_number_id"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, lineResponse{Success: true, PhoneNumber: toLineJSON(l)})
}

// updateLineBody is a PUT of a line: each field sent is changed, each left out is kept. An
// empty friendly_name clears it; credentials, when sent, replace the line's as a whole.
type updateLineBody struct {
	FriendlyName *string            `json:"friendly_name"`
	IsActive     *bool              `json:"is_active"`
	Credentials  *map[string]string `json:"credentials"`
}

// updateLine serves PUT /api/v1/phone/{phone_number_id}.
func (s *server) updateLine(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body updateLineBody
	if err := s.readJSONObject(c.Request, &body); err != nil {
		fail(c, err)
		return
	}
	cmd := accounts.UpdateLine{UserID: userID, LineID: c.Param("phone_number_id"),
		FriendlyName: body.FriendlyName, Active: body.IsActive}
	if body.Credentials != nil { // null reads as left out; {} removes them
		cmd.Credentials = *body.Credentials
	}
	l, err := s.deps.Lines.Update(c.Request.Context(), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, lineResponse{Success: true, PhoneNumber: toLineJSON(l)})
}

// deleteLine serves DELETE /api/v1/phone/{phone_number_id}. The line's mapping goes with it;
// the sessions placed from it stay in the call log.
func (s *server) deleteLine(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	if err := s.deps.Lines.Delete(c.Request.Context(), userID, c.Param("phone_number_id")); err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, successMessage{Success: true, Message: "Phone number deleted"})
}
