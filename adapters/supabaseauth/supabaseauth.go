// Package supabaseauth authenticates requests that carry a Supabase Auth session token
// (Authorization: Bearer <JWT>), verified locally: ES256 and RS256 against the project's JWKS,
// HS256 against its legacy shared secret. It plugs into httpapi as a Credential.
package supabaseauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// Supabase marks a signed-in user's session with this audience and role; anon and
// service_role tokens carry others.
const authenticated = "authenticated"

// maxTokenBytes bounds a token before any parsing: Supabase's are about a kilobyte.
const maxTokenBytes = 16 << 10

// Defaults for Config's zero fields.
const (
	DefaultFetchTimeout = 3 * time.Second
	DefaultRefetchEvery = 30 * time.Second
	DefaultMaxKeyAge    = 10 * time.Minute
	DefaultLeeway       = 30 * time.Second
)

// Config says which tokens are accepted.
type Config struct {
	// JWTSecret is the project's legacy shared secret; HS256 tokens are accepted only when it is
	// set, and only with it.
	JWTSecret string
	// JWKSURL is the project's key set (https://<ref>.supabase.co/auth/v1/.well-known/jwks.json);
	// ES256 and RS256 tokens are accepted only when it is set, and only with its keys.
	JWKSURL string
	// Issuer, when set, must be the token's iss.
	Issuer string

	// HTTPClient fetches the JWKS; nil is a plain client. FetchTimeout bounds each fetch and how
	// long a request waits for one; RefetchEvery spaces fetches (an unknown kid triggers one);
	// MaxKeyAge is when the cached set is refreshed in the background. Leeway is the clock skew
	// allowed on exp and nbf.
	HTTPClient   *http.Client
	FetchTimeout time.Duration
	RefetchEvery time.Duration
	MaxKeyAge    time.Duration
	Leeway       time.Duration
}

// Verifier checks session tokens. It is safe for concurrent use.
type Verifier struct {
	parser *jwt.Parser
	secret []byte
	keys   *keySet
}

// Claims are what a verified token says about its holder.
type Claims struct {
	// Subject is the Supabase user id, in canonical UUID form.
	Subject string
	Email   string
}

// New makes a Verifier. With a JWKS URL it starts fetching the key set in the background; a
// request never waits for that first fetch longer than FetchTimeout.
func New(cfg Config, log *zap.Logger) (*Verifier, error) {
	if cfg.JWTSecret == "" && cfg.JWKSURL == "" {
		return nil, errors.New("supabaseauth: set a JWT secret, a JWKS URL, or both")
	}
	if log == nil {
		log = zap.NewNop()
	}
	v := &Verifier{}
	var methods []string
	if cfg.JWTSecret != "" {
		v.secret = []byte(cfg.JWTSecret)
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.JWKSURL != "" {
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{}
		}
		v.keys = &keySet{
			url: cfg.JWKSURL, client: client, log: log,
			fetchTimeout: orDefault(cfg.FetchTimeout, DefaultFetchTimeout),
			refetchEvery: orDefault(cfg.RefetchEvery, DefaultRefetchEvery),
			maxAge:       orDefault(cfg.MaxKeyAge, DefaultMaxKeyAge),
		}
		methods = append(methods, jwt.SigningMethodES256.Alg(), jwt.SigningMethodRS256.Alg())
		v.keys.fetch()
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithLeeway(orDefault(cfg.Leeway, DefaultLeeway)),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(authenticated),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

type sessionClaims struct {
	jwt.RegisteredClaims
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Verify checks a token's signature and claims. Any token it refuses is
// accounts.ErrInvalidSession (a 401), with the reason wrapped for tests and debugging.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	if len(token) > maxTokenBytes {
		return Claims{}, invalid(errors.New("token too long"))
	}
	var c sessionClaims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyFunc(ctx)); err != nil {
		return Claims{}, invalid(err)
	}
	if c.Role != authenticated {
		return Claims{}, invalid(errors.New("role is not authenticated"))
	}
	sub, err := uuid.Parse(c.Subject)
	if err != nil || len(c.Subject) != 36 {
		return Claims{}, invalid(errors.New("sub is not a UUID"))
	}
	return Claims{Subject: sub.String(), Email: c.Email}, nil
}

// keyFunc pins the algorithm to the key type: HS256 verifies with the shared secret only, ES256
// and RS256 with a JWKS key of that type only. A token cannot pick its own key (alg "none", or
// HS256 keyed with a public key, finds none).
func (v *Verifier) keyFunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		switch alg {
		case jwt.SigningMethodHS256.Alg():
			if v.secret == nil {
				return nil, errors.New("HS256 is not accepted")
			}
			return v.secret, nil
		case jwt.SigningMethodES256.Alg(), jwt.SigningMethodRS256.Alg():
			if v.keys == nil {
				return nil, errors.New(alg + " is not accepted")
			}
			kid, _ := t.Header["kid"].(string)
			if kid == "" {
				return nil, errors.New("token names no kid")
			}
			k, err := v.keys.get(ctx, kid)
			if err != nil {
				return nil, err
			}
			if k.alg != alg {
				return nil, errors.New("the key of this kid is not for " + alg)
			}
			return k.key, nil
		}
		return nil, errors.New("algorithm not accepted")
	}
}

// Credential authenticates a request by its Bearer token; users turns the token's subject into
// a principal, creating the user on first sight. A request without an Authorization Bearer
// header is httpapi.ErrNoCredential; one whose token is refused is
// accounts.ErrInvalidSession (a 401).
func (v *Verifier) Credential(users *accounts.SessionUsers) httpapi.Credential {
	return func(r *http.Request) (identity.Principal, error) {
		tok, ok, err := bearerToken(r.Header)
		if !ok {
			return identity.Principal{}, httpapi.ErrNoCredential
		}
		if err != nil {
			return identity.Principal{}, err
		}
		c, err := v.Verify(r.Context(), tok)
		if err != nil {
			return identity.Principal{}, err
		}
		return users.Principal(r.Context(), c.Subject, c.Email)
	}
}

// bearerToken reads Authorization: Bearer <token>. ok is false when the request carries no
// Authorization header of the Bearer scheme (another scheme is another credential's business).
func bearerToken(h http.Header) (token string, ok bool, err error) {
	vals, found := h["Authorization"]
	if !found || len(vals) == 0 {
		return "", false, nil
	}
	scheme, rest, _ := strings.Cut(vals[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	if len(vals) != 1 {
		return "", true, invalid(errors.New("more than one Authorization header"))
	}
	token = strings.TrimSpace(rest)
	if token == "" {
		return "", true, invalid(errors.New("empty Bearer token"))
	}
	return token, true, nil
}

// tokenError is a refused token: accounts.ErrInvalidSession (and so ErrUnauthenticated),
// wrapping the reason.
type tokenError struct{ reason error }

func invalid(reason error) error { return &tokenError{reason: reason} }

func (e *tokenError) Error() string {
	return accounts.ErrInvalidSession.Error() + ": " + e.reason.Error()
}
func (e *tokenError) Unwrap() error { return e.reason }
func (e *tokenError) Is(target error) bool {
	return target == accounts.ErrInvalidSession || target == fault.ErrUnauthenticated
}
