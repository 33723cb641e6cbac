package simprovider

import "github.com/kupe-voice/kupe/domain/call"

// LastOptions are the options of the last dial the carrier placed: its "wire".
func (c *Carrier) LastOptions() call.Options {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastOpts
}
