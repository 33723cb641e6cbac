// Package identity holds who may call the API: users and the API keys that stand for them.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
)

// API keys look like kupe_ followed by 32 random base62 characters and a 6-character base62
// CRC32 of those 32, so a mistyped or truncated key is refused without touching the database,
// and secret scanners can recognise a leaked one by its shape.
const (
	KeyPrefix    = "kupe_"
	keyBodyLen   = 32
	keyCheckLen  = 6
	KeyLen       = len(KeyPrefix) + keyBodyLen + keyCheckLen
	displayChars = len(KeyPrefix) + 6
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ErrMalformedKey is returned for a string that cannot be an API key this service issued.
var ErrMalformedKey = errors.New("malformed API key")

// KeyHash is the SHA-256 of a whole key: the only form in which a key is stored.
type KeyHash [sha256.Size]byte

// NewAPIKey makes a fresh random key. Show the plain text once; store only Hash and Display.
func NewAPIKey() (plain string) {
	var raw [keyBodyLen]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
	b := make([]byte, 0, KeyLen)
	b = append(b, KeyPrefix...)
	for _, r := range raw {
		// 256 mod 62 leaves a small bias; 32 characters of it are still far beyond guessing.
		b = append(b, base62[int(r)%len(base62)])
	}
	b = appendChecksum(b, b[len(KeyPrefix):])
	return string(b)
}

// CheckAPIKey reports whether s has the shape and checksum of an issued key.
func CheckAPIKey(s string) error {
	if len(s) != KeyLen || s[:len(KeyPrefix)] != KeyPrefix {
		return ErrMalformedKey
	}
	body := s[len(KeyPrefix) : len(KeyPrefix)+keyBodyLen]
	for i := 0; i < keyBodyLen+keyCheckLen; i++ {
		if !isBase62(s[len(KeyPrefix)+i]) {
			return ErrMalformedKey
		}
	}
	var want [keyCheckLen]byte
	if string(appendChecksum(want[:0], []byte(body))) != s[len(KeyPrefix)+keyBodyLen:] {
		return ErrMalformedKey
	}
	return nil
}

// HashAPIKey is the stored form of a key.
func HashAPIKey(plain string) KeyHash { return sha256.Sum256([]byte(plain)) }

// DisplayPrefix is the part of a key that may be shown again later, to tell keys apart.
func DisplayPrefix(plain string) string {
	if len(plain) < displayChars {
		return plain
	}
	return plain[:displayChars]
}

func appendChecksum(dst, body []byte) []byte {
	sum := uint64(crc32.ChecksumIEEE(body))
	var digits [keyCheckLen]byte
	for i := keyCheckLen - 1; i >= 0; i-- {
		digits[i] = base62[sum%62]
		sum /= 62
	}
	return append(dst, digits[:]...)
}

func isBase62(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
