package identity_test

import (
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/identity"
)

func TestAPIKeyShapeAndChecksum(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		k := identity.NewAPIKey()
		if len(k) != identity.KeyLen || !strings.HasPrefix(k, "kupe_") {
			t.Fatalf("key %q has the wrong shape", k)
		}
		if err := identity.CheckAPIKey(k); err != nil {
			t.Fatalf("CheckAPIKey(%q) = %v", k, err)
		}
		if seen[k] {
			t.Fatal("duplicate key")
		}
		seen[k] = true
		// Any single mistyped character is caught by the checksum or the alphabet.
		for _, pos := range []int{5, 20, 36, identity.KeyLen - 1} {
			b := []byte(k)
			if b[pos] == 'a' {
				b[pos] = 'b'
			} else {
				b[pos] = 'a'
			}
			if identity.CheckAPIKey(string(b)) == nil {
				t.Fatalf("mistyped key %q passed", b)
			}
		}
	}
	for _, bad := range []string{"", "kupe_", "sk_live_x", strings.Repeat("a", identity.KeyLen), "kupe_" + strings.Repeat("!", 38)} {
		if identity.CheckAPIKey(bad) == nil {
			t.Errorf("CheckAPIKey(%q) passed", bad)
		}
	}
	k := identity.NewAPIKey()
	if p := identity.DisplayPrefix(k); p != k[:11] {
		t.Errorf("DisplayPrefix = %q", p)
	}
	if identity.HashAPIKey(k) == identity.HashAPIKey(k+"x") {
		t.Error("hash collision")
	}
}

func FuzzCheckAPIKey(f *testing.F) {
	f.Add(identity.NewAPIKey())
	f.Add("kupe_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if identity.CheckAPIKey(s) == nil && (len(s) != identity.KeyLen || !strings.HasPrefix(s, "kupe_")) {
			t.Fatalf("CheckAPIKey accepted %q", s)
		}
	})
}
