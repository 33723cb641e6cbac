package application

import "errors"

// ErrUnavailable: a dependency the use case needs (the database) did not answer, or answered
// that it cannot serve now. Nothing was changed by the failed call; the same request may succeed
// once the dependency is back. Stores mark such errors so that errors.Is finds this sentinel.
var ErrUnavailable = errors.New("database unavailable")
