package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/fault"
)

// HangupPath ends one of the caller's calls in progress.
const HangupPath = "/api/v1/calls/:call_session_id/hangup"

// hangupCall serves POST /api/v1/calls/{call_session_id}/hangup: 200 with the session once it
// has ended, 202 with it when the carrier accepted the hang-up and its final report is still to
// come (Twilio's status callback). Another user's session is a 404, byte for byte as an unknown
// one; an ended one, or one whose carrier cannot hang up, a 409.
func (s *server) hangupCall(c *gin.Context) {
	p, ok := principal(c)
	if !ok {
		fail(c, fault.ErrUnauthenticated)
		return
	}
	res, err := s.deps.Hangups.Handle(c.Request.Context(), callevents.Hangup{UserID: p.UserID, SessionID: c.Param("call_session_id")})
	if err != nil {
		fail(c, err)
		return
	}
	status := http.StatusAccepted
	if res.Ended {
		status = http.StatusOK
	}
	writeJSON(c, status, toSessionJSON(res.Session))
}
