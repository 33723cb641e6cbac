package identity

import (
	"time"

	"github.com/kupe-voice/kupe/domain/money"
)

// User is a customer: the owner of lines, agents and call sessions, and the one charged.
type User struct {
	ID        string
	Email     string
	Credits   money.Amount
	CreatedAt time.Time
}

// APIKey is the stored record of an issued key: never the key itself.
type APIKey struct {
	ID         string
	UserID     string
	Name       string
	Prefix     string // the first characters of the key, to tell keys apart
	Hash       KeyHash
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time // zero while the key works
}

// Principal is who a request acts for, and how it proved it.
type Principal struct {
	UserID string
	Method AuthMethod
	KeyID  string // the API key used, when Method is AuthAPIKey
}

// AuthMethod names how a request authenticated, as /api/v1/me reports it.
type AuthMethod string

const (
	AuthAPIKey AuthMethod = "api_key"
	AuthBearer AuthMethod = "bearer"
)
