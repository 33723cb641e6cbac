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

// deferredKeyKey holds create_call's x-api-key, of the right shape and not looked up yet.
type deferredKeyKey struct{}

// authenticateCreateCall authenticates create_call. An x-api-key of the right shape is not
// looked up here: the use case reads the key with the dial plan, in one round trip
// (createcall.Command.KeyHash), and answers 401 for a key that names nobody before anything
// else. Every other credential is checked as on the other routes.
func (s *server) authenticateCreateCall(c *gin.Context) {
	v, ok := c.Request.Header[headerAPIKey]
	if !ok {
		s.authenticate(c)
		return
	}
	if len(v) != 1 || identity.CheckAPIKey(v[0]) != nil {
		fail(c, fault.ErrUnauthenticated)
		return
	}
	c.Set(deferredKeyKey{}, v[0])
}

// deferredKey is create_call's x-api-key when authenticateCreateCall left it to the use case.
func deferredKey(c *gin.Context) (string, bool) {
	v, _ := c.Get(deferredKeyKey{})
	k, ok := v.(string)
	return k, ok
}

// failAuthenticated fails a request with err, unless its deferred x-api-key names nobody: that
// is the answer then (401), as on every route where the key is checked first.
func (s *server) failAuthenticated(c *gin.Context, err error) {
	if plain, ok := deferredKey(c); ok {
		if _, aerr := s.deps.Auth.APIKey(c.Request.Context(), plain); aerr != nil {
			err = aerr
		}
	}
	fail(c, err)
}

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
