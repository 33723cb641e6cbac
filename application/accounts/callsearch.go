package accounts

import (
	"context"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Search returns page (from 1) of the user's sessions that match filter (see
// createcall.ParseSessionFilter), newest first, pageSize (1 to MaxPageSize) at a time. An empty filter is
// List.
func (c *CallLogs) Search(ctx context.Context, userID, filter string, page, pageSize int) (Page, error) {
	f, ok := createcall.ParseSessionFilter(filter)
	if ok && f == (createcall.SessionFilter{}) {
		return c.List(ctx, userID, page, pageSize)
	}
	if page < 1 {
		return Page{}, fault.Invalidf("page must be 1 or more")
	}
	if pageSize < 1 || pageSize > MaxPageSize {
		return Page{}, fault.Invalidf("page_size must be from 1 to %d", MaxPageSize)
	}
	if page > (1<<31)/pageSize {
		return Page{}, fault.Invalidf("page is too large")
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
