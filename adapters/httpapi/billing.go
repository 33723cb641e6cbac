package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/domain/money"
)

// creditBalanceResponse is the caller's balance. Kupe's document leaves the shape open (its
// wallet fields are in USD); this service counts credits, and says so.
type creditBalanceResponse struct {
	UserID        string       `json:"user_id"`
	CreditBalance money.Amount `json:"credit_balance"`
	Currency      string       `json:"currency"`
}

// creditBalance serves GET /api/v1/billing/credit-balance.
func (s *server) creditBalance(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	bal, err := s.deps.Accounts.CreditBalance(c.Request.Context(), userID)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, creditBalanceResponse{UserID: userID, CreditBalance: bal, Currency: "credits"})
}
