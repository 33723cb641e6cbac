package accounts

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Lines serves a user's phone lines: list, read, change and remove. Registering one is
// Accounts.AddLine, shared with kupectl.
type Lines struct {
	Store CatalogStore
}

// Bounds on what a customer may store on a line.
const (
	maxLabelLen       = 200
	maxCredentials    = 32
	maxCredentialKey  = 64
	maxCredentialSize = 4096
)

// List returns the user's lines, oldest first.
func (l *Lines) List(ctx context.Context, userID string) ([]call.Line, error) {
	if userID == "" {
		return nil, fault.ErrUnauthenticated
	}
	return l.Store.UserLines(ctx, userID)
}

// Get returns one of the user's lines; another user's reads as call.ErrLineNotFound.
func (l *Lines) Get(ctx context.Context, userID, lineID string) (call.Line, error) {
	id, err := ownedID(userID, "phone_number_id", lineID)
	if err != nil {
		return call.Line{}, err
	}
	line, err := l.Store.UserLine(ctx, userID, id)
	return line, lineErr(err)
}

// UpdateLine changes what a customer may change on a line. A nil field is left as it is;
// Credentials, when not nil, replace the line's credentials as a whole.
type UpdateLine struct {
	UserID       string
	LineID       string
	FriendlyName *string
	Active       *bool
	Credentials  map[string]string
}

// Update applies cmd to one of the user's lines and returns the line as stored.
func (l *Lines) Update(ctx context.Context, cmd UpdateLine) (call.Line, error) {
	id, err := ownedID(cmd.UserID, "phone_number_id", cmd.LineID)
	if err != nil {
		return call.Line{}, err
	}
	var name string
	if cmd.FriendlyName != nil {
		labels, err := lineLabels(*cmd.FriendlyName, "")
		if err != nil {
			return call.Line{}, err
		}
		name = labels.FriendlyName
	}
	if cmd.Credentials != nil {
		if err := checkCredentials(cmd.Credentials); err != nil {
			return call.Line{}, err
		}
	}
	line, err := l.Store.UpdateLine(ctx, cmd.UserID, id, func(line *call.Line) error {
		if cmd.FriendlyName != nil {
			line.FriendlyName = name
		}
		if cmd.Active != nil {
			line.Active = *cmd.Active
		}
		if cmd.Credentials != nil {
			line.Credentials = call.Credentials(cloneStrings(cmd.Credentials))
		}
		return nil
	})
	return line, lineErr(err)
}

// Delete removes one of the user's lines and its mapping.
func (l *Lines) Delete(ctx context.Context, userID, lineID string) error {
	id, err := ownedID(userID, "phone_number_id", lineID)
	if err != nil {
		return err
	}
	return lineErr(l.Store.DeleteLine(ctx, userID, id))
}

// ownedID checks the caller and a client-supplied id naming one of its records.
func ownedID(userID, name, id string) (string, error) {
	if userID == "" {
		return "", fault.ErrUnauthenticated
	}
	return ids.Require(name, strings.TrimSpace(id))
}

// lineErr names a missing line as such, so that the answer says what was not found.
func lineErr(err error) error {
	if errors.Is(err, fault.ErrNotFound) {
		return call.ErrLineNotFound
	}
	return err
}

type lineLabelValues struct{ FriendlyName, Region string }

// lineLabels trims and bounds a line's optional labels.
func lineLabels(friendlyName, region string) (lineLabelValues, error) {
	v := lineLabelValues{FriendlyName: strings.TrimSpace(friendlyName), Region: strings.TrimSpace(region)}
	if len(v.FriendlyName) > maxLabelLen || !utf8.ValidString(v.FriendlyName) {
		return v, fault.Invalidf("friendly_name must be valid text of at most %d bytes", maxLabelLen)
	}
	if len(v.Region) > maxLabelLen || !utf8.ValidString(v.Region) {
		return v, fault.Invalidf("region must be valid text of at most %d bytes", maxLabelLen)
	}
	return v, nil
}

// checkCredentials bounds a line's credentials. Which names a carrier needs is the carrier's
// business: a line with the wrong ones fails its first dial with a readable detail. Messages
// never repeat a value.
func checkCredentials(c map[string]string) error {
	if len(c) > maxCredentials {
		return fault.Invalidf("credentials may hold at most %d entries", maxCredentials)
	}
	for k, v := range c {
		if k == "" || len(k) > maxCredentialKey {
			return fault.Invalidf("credentials names must be 1 to %d characters", maxCredentialKey)
		}
		if len(v) > maxCredentialSize {
			return fault.Invalidf("credentials values must be at most %d bytes", maxCredentialSize)
		}
	}
	return nil
}

func cloneStrings(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
