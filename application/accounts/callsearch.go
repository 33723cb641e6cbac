package accounts

import (
	"context"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Search returns page (from 1) of the user's sessions that match filter (see
// createcall.ParseSessionFilter), newest first, pageSize (1 to MaxPageSize) at a time. An empty filter is
// List.
func (c *CallLogs) Search(ctx context.Context, userID, filter string, page, pageSize int) (Page, error) {
	f, ok := createcall.ParseSessionFilter(filter)
	if ok && f == (createcall.SessionFilter{}) {
		return c.List(ctx, userID, page, pageSize)
	}
	if err := checkPage(page, pageSize); err != nil {
		return Page{}, err
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
