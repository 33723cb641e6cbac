package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// ErrNoCredential is what a Credential returns when the request carries none of its kind, so
// that the next one is tried.
var ErrNoCredential = errors.New("no credential of this kind")

// Credential authenticates a request by one kind of credential (an x-api-key header, a Bearer
// token). It returns ErrNoCredential when the request carries none of that kind,
// fault.ErrUnauthenticated when it carries one that stands for nobody, and any other error
// when it could not check (the store is down): that is a 500, not a 401.
type Credential func(r *http.Request) (identity.Principal, error)

const headerAPIKey = "X-Api-Key" // canonical form of x-api-key

// APIKeyCredential authenticates the x-api-key header.
func APIKeyCredential(a *accounts.Authenticator) Credential {
	return func(r *http.Request) (identity.Principal, error) {
		v, ok := r.Header[headerAPIKey]
		if !ok {
			return identity.Principal{}, ErrNoCredential
		}
		if len(v) != 1 {
			return identity.Principal{}, fault.ErrUnauthenticated
		}
		return a.APIKey(r.Context(), v[0])
	}
}

type principalKey struct{}

// authenticate tries the credentials in order; the first the request carries decides.
func (s *server) authenticate(c *gin.Context) {
	for _, cred := range s.creds {
		p, err := cred(c.Request)
		if errors.Is(err, ErrNoCredential) {
			continue
		}
		if err != nil {
			fail(c, err)
			return
		}
		if p.UserID == "" {
			fail(c, fault.ErrUnauthenticated)
			return
		}
		c.Set(principalKey{}, p)
		return
	}
	fail(c, fault.ErrUnauthenticated)
}

// principal is who the request acts for; authenticate has set it on every authenticated route.
func principal(c *gin.Context) (identity.Principal, bool) {
	v, _ := c.Get(principalKey{})
	p, ok := v.(identity.Principal)
	return p, ok && p.UserID != ""
}
