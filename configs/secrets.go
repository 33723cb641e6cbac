package configs

import (
	"encoding/base64"
	"encoding/hex"
	"path/filepath"
	"strings"
)

// SecretsKeySize is the length of the key that seals the lines' credentials (AES-256).
const SecretsKeySize = 32

// SecretsConfig holds the key that seals the lines' carrier credentials at rest.
type SecretsConfig struct {
	// Key is KUPE_SECRETS_KEY decoded, SecretsKeySize bytes; nil when it is not set. It comes from
	// the environment only: a secret has no default.
	Key []byte
}

// String and GoString keep the key out of any printed configuration.
func (s SecretsConfig) String() string {
	if s.Key == nil {
		return "{Key:unset}"
	}
	return "{Key:[redacted]}"
}

// GoString is String, for %#v.
func (s SecretsConfig) GoString() string { return s.String() }

// SecretsKeyFile is where the key is kept when KUPE_SECRETS_KEY is not set and the database is
// SQLite (the embedded default or a file: URL): secrets.key beside the database file. ok is
// false on PostgreSQL, which needs KUPE_SECRETS_KEY.
func (d DBConfig) SecretsKeyFile() (path string, ok bool) {
	if !d.Embedded() {
		return "", false
	}
	dsn, err := d.DSN()
	if err != nil {
		return "", false
	}
	db, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return filepath.Join(filepath.Dir(db), "secrets.key"), true
}

// loadSecrets reads KUPE_SECRETS_KEY into c and returns what is wrong with it. Its messages never
// repeat the value.
func loadSecrets(lookup func(string) (string, bool), c *Config) []string {
	v, ok := lookup("KUPE_SECRETS_KEY")
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	key := decodeKey(strings.TrimSpace(v))
	if key == nil {
		return []string{"KUPE_SECRETS_KEY: want 32 bytes written as base64 or hex (for example the output of `openssl rand -base64 32`)"}
	}
	c.Secrets.Key = key
	return nil
}

// decodeKey reads a key written as hex or base64 (standard or URL alphabet, padded or not); nil
// when s is neither, or not SecretsKeySize bytes.
func decodeKey(s string) []byte {
	if len(s) == 2*SecretsKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == SecretsKeySize {
			return b
		}
	}
	return nil
}
