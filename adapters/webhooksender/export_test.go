package webhooksender

import "syscall"

// State exposes the limiter's counts to the tests.
func (l *Limiter) State(key string) (held, waiting int) { return l.state(key) }

// InFlight exposes the sender's limiter counts for key.
func (s *Sender) InFlight(key string) (held, waiting int) { return s.limiter.state(key) }

// DialControl is the Control the sender's dialer runs for https.
func DialControl(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return policy{allowPrivate: allowPrivate}.control
}
