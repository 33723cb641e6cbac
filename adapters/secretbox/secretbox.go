// Package secretbox seals small secrets (a line's carrier credentials) for storage with
// AES-256-GCM under one 32-byte key, and keeps that key: read from configuration, or made once
// in a file beside the embedded database.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// version1 starts every sealed value: AES-256-GCM, a 12-byte random nonce, then the ciphertext
// and its tag. A later scheme takes a new first byte, so old values stay readable.
const version1 byte = 1

const nonceSize = 12

// Errors of Open. Neither says anything about the sealed bytes.
var (
	// ErrMalformed: the value is not one this package sealed (too short, unknown version).
	ErrMalformed = errors.New("secretbox: sealed value is malformed or of an unknown version")
	// ErrWrongKey: the value does not open under this key (another key sealed it, or it was
	// altered).
	ErrWrongKey = errors.New("secretbox: sealed value does not open under this key (wrong key, or altered)")
)

// Key is a 32-byte secret key. It prints as "[redacted]", so a stray log line cannot show it.
type Key []byte

func (Key) String() string   { return "[redacted]" }
func (Key) GoString() string { return "[redacted]" }

// NewKey makes a random key.
func NewKey() Key {
	k := make(Key, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never returns an error
	return k
}

// ParseKey reads a key written as base64 (standard or URL alphabet, padded or not) or as hex.
// Its errors never repeat the input.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("secrets key is empty")
	}
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return Key(b), nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("secrets key is %d bytes, want %d", len(b), KeySize)
			}
			return Key(b), nil
		}
	}
	return nil, fmt.Errorf("secrets key must be %d bytes written as base64 or hex (for example the output of `openssl rand -base64 32`)", KeySize)
}

// Encode writes the key as ParseKey reads it (standard base64), for a key file.
func (k Key) Encode() string { return base64.StdEncoding.EncodeToString(k) }

// Derive returns a separate 32-byte secret for another purpose, named by label: HMAC-SHA256 of
// the label under the key. Knowing a derived secret tells nothing about the key or the others.
func (k Key) Derive(label string) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// LoadOrCreateKeyFile reads the key in path, or, when there is no such file, makes a random key
// and writes it there, readable by its owner only (0600). created reports a new key. A key file
// that others may read is refused: whoever can read it can read every sealed credential.
func LoadOrCreateKeyFile(path string) (k Key, created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("secrets key folder: %w", err)
	}
	k = NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		_, werr := f.WriteString(k.Encode() + "\n")
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			_ = os.Remove(path)
			return nil, false, fmt.Errorf("write secrets key file %s: %w", path, err)
		}
		return k, true, nil
	case !errors.Is(err, fs.ErrExist):
		return nil, false, fmt.Errorf("create secrets key file %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, false, fmt.Errorf("secrets key file %s is readable by others (mode %04o): chmod 600 it", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("read secrets key file %s: %w", path, err)
	}
	k, err = ParseKey(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	return k, false, nil
}

// Box seals and opens values under one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a KeySize-byte key.
func New(key Key) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext with a fresh random nonce. context is authenticated but not stored:
// Open must be given the same, so a value sealed for one purpose does not open for another.
func (b *Box) Seal(plaintext, context []byte) []byte {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+b.aead.Overhead())
	out[0] = version1
	_, _ = rand.Read(out[1:])
	return b.aead.Seal(out, out[1:1+nonceSize], plaintext, context)
}

// Open decrypts a value Seal made with the same key and context.
func (b *Box) Open(sealed, context []byte) ([]byte, error) {
	if len(sealed) < 1+nonceSize+b.aead.Overhead() || sealed[0] != version1 {
		return nil, ErrMalformed
	}
	pt, err := b.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], context)
	if err != nil {
		return nil, ErrWrongKey
	}
	return pt, nil
}
