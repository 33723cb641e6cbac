// Package call holds the outbound-call domain: the E.164 destination, the caller's lines and the
// rule that picks one, and the call session with its one-way status lifecycle. It is plain Go:
// no framework, database or transport reaches in here.
package call
