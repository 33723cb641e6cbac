package app

import (
	"errors"

	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/secretbox"
	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/configs"
)

// callbackTokenLabel names the secret, derived from the secrets key, that the tokens of status
// callback URLs are made with. Changing it voids the URLs of calls in flight.
const callbackTokenLabel = "kupe/status-callback-token/v1"

// errNoSecretsKey explains the one way a server cannot get a key by itself.
var errNoSecretsKey = errors.New("KUPE_SECRETS_KEY is required with PostgreSQL: set it to 32 random bytes, " +
	"base64 or hex (for example `openssl rand -base64 32`), the same on every server, and keep it: the lines' " +
	"carrier credentials are sealed with it")

// SecretsKey is the key that seals the lines' credentials: KUPE_SECRETS_KEY when set; else, on
// SQLite, the key in secrets.key beside the database file, made (mode 0600) on first use, so that
// a fresh checkout runs with one command; else, on PostgreSQL, an error.
func SecretsKey(c configs.Config, log *zap.Logger) (secretbox.Key, error) {
	if c.Secrets.Key != nil {
		return secretbox.Key(c.Secrets.Key), nil
	}
	path, ok := c.Database.SecretsKeyFile()
	if !ok {
		return nil, errNoSecretsKey
	}
	key, created, err := secretbox.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the secrets key that seals line credentials; keep it with the database",
			zap.String("path", path))
	}
	return key, nil
}

// NewCallbackSigner makes the tokens of the status-callback URLs of carriers that do not sign
// their requests, under a secret derived from the secrets key.
func NewCallbackSigner(key secretbox.Key) *httpapi.CallbackSigner {
	return httpapi.NewCallbackSigner(key.Derive(callbackTokenLabel))
}

// NewCarrierEvents applies the carriers' status callbacks and charges completed calls at the
// configured tariff.
func NewCarrierEvents(c configs.Config, s application.SessionStore, lines application.AccountStore, l application.Ledger) *application.CarrierEvents {
	return &application.CarrierEvents{Sessions: s, Lines: lines, Ledger: l, Tariff: c.Billing.Tariff()}
}
