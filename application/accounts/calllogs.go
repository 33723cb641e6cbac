package accounts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// CallLogs answers the call-analytics endpoints: one session, a page, a search, an export.
type CallLogs struct {
	Sessions createcall.CallStore
	// Now is the clock of exports' cutoffs; nil is the system's.
	Now func() time.Time
}

// Page is one page of a call log.
type Page struct {
	Items    []*call.Session
	Total    int
	Page     int
	PageSize int
}

// MaxPageSize bounds one page of the call log or of the agents, as Kupe caps page_size.
const MaxPageSize = 100

// ByRequestID returns one of the user's sessions. A request id that is not a UUID, unknown, or
// another user's all read as call.ErrSessionNotFound.
func (c *CallLogs) ByRequestID(ctx context.Context, userID, requestID string) (*call.Session, error) {
	id, err := ids.Parse("request_id", strings.TrimSpace(requestID))
	if err != nil || id == "" {
		return nil, call.ErrSessionNotFound
	}
	s, err := c.Sessions.SessionByRequestID(ctx, userID, id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, call.ErrSessionNotFound
	}
	return s, err
}

// List returns page (from 1) of the user's sessions, pageSize (1 to MaxPageSize) at a time.
func (c *CallLogs) List(ctx context.Context, userID string, page, pageSize int) (Page, error) {
	if err := checkPage(page, pageSize); err != nil {
		return Page{}, err
	}
	items, total, err := c.Sessions.ListSessions(ctx, userID, (page-1)*pageSize, pageSize)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: items, Total: total, Page: page, PageSize: pageSize}, nil
}
