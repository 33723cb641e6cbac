package application

import (
	"context"
	"strings"

	"github.com/kupe-voice/kupe/domain/call"
)

// SessionFilter narrows a call log. Its zero value matches every session.
type SessionFilter struct {
	// RequestIDPrefix, when set, is lower-case hex digits and dashes: the sessions whose request
	// id starts with it (a whole request id matches its one session).
	RequestIDPrefix string
	// Status, when valid, is the one status the sessions must be in.
	Status call.Status
}

// maxRequestIDLen is a UUID's length in text.
const maxRequestIDLen = 36

// ParseSessionFilter reads the call log's filter parameter: a status name ("failed",
// "in_progress", "in-progress", any case), else a request id or its first characters. ok is
// false for text that can be neither, which matches no session.
func ParseSessionFilter(s string) (f SessionFilter, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return SessionFilter{}, true
	}
	if st, err := call.ParseStatus(strings.ReplaceAll(s, "-", "_")); err == nil {
		return SessionFilter{Status: st}, true
	}
	if len(s) > maxRequestIDLen {
		return SessionFilter{}, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') && c != '-' {
			return SessionFilter{}, false
		}
	}
	return SessionFilter{RequestIDPrefix: s}, true
}

// Search returns page (from 1) of the user's sessions that match filter (see
// ParseSessionFilter), newest first, pageSize (1 to MaxPageSize) at a time. An empty filter is
// List.
func (c *CallLogs) Search(ctx context.Context, userID, filter string, page, pageSize int) (Page, error) {
	f, ok := ParseSessionFilter(filter)
	if ok && f == (SessionFilter{}) {
		return c.List(ctx, userID, page, pageSize)
	}
	if page < 1 {
		return Page{}, invalidf("page must be 1 or more")
	}
	if pageSize < 1 || pageSize > MaxPageSize {
		return Page{}, invalidf("page_size must be from 1 to %d", MaxPageSize)
	}
	if page > (1<<31)/pageSize {
		return Page{}, invalidf("page is too large")
	}
	res := Page{Items: []*call.Session{}, Page: page, PageSize: pageSize}
	if !ok {
		return res, nil
	}
	items, total, err := c.Sessions.FindSessions(ctx, userID, f, (page-1)*pageSize, pageSize)
	if err != nil {
		return Page{}, err
	}
	res.Items, res.Total = items, total
	return res, nil
}
