package entstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/adapters/secretbox"
)

// Option configures Open.
type Option func(*options) error

type options struct {
	secrets *secretbox.Box
	timeout time.Duration // WithStatementTimeout (faults.go)
}

// WithSecretsKey seals the lines' credentials at rest with AES-256-GCM under key, which must be
// secretbox.KeySize bytes.
func WithSecretsKey(key []byte) Option {
	return func(o *options) error {
		box, err := secretbox.New(key)
		if err != nil {
			return fmt.Errorf("entstore: %w", err)
		}
		o.secrets = box
		return nil
	}
}

// ErrNoSecretsKey is returned when a line's credentials are to be written or read by a store
// opened without WithSecretsKey.
var ErrNoSecretsKey = errors.New("entstore: line credentials need a secrets key (KUPE_SECRETS_KEY), and this store was opened without one")

// credentialsContext binds a sealed value to its column: bytes sealed for anything else do not
// open as credentials.
var credentialsContext = []byte("kupe/phone_numbers.credentials/v1")

// seal encrypts a line's encoded credentials for storage.
func (s *Store) seal(plain []byte) ([]byte, error) {
	if s.secrets == nil {
		return nil, ErrNoSecretsKey
	}
	return s.secrets.Seal(plain, credentialsContext), nil
}

// open decrypts stored credentials. Its errors say why without showing any stored byte.
func (s *Store) open(sealed []byte) ([]byte, error) {
	if s.secrets == nil {
		return nil, ErrNoSecretsKey
	}
	plain, err := s.secrets.Open(sealed, credentialsContext)
	if err != nil {
		return nil, fmt.Errorf("open line credentials: %w", err)
	}
	return plain, nil
}
