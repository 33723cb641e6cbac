// Package application holds the use cases of the outbound-call service (placing a call, reading
// call logs, administering users, keys, lines, agents and mappings) and the ports they need,
// each declared beside the use case that consumes it. HTTP handlers and kupectl both call these
// use cases, so both get the same validation and the same answers.
package application
