// Package campaign holds the value objects of batch calling (Kupe's "batch-call" campaigns): the
// local calling window, the time zones of a recipient, the retry policy, the batch and row
// statuses, and the recipient records of an upload, JSON or streamed CSV. It is plain Go: the
// standard library and github.com/nyaruka/phonenumbers only.
package campaign
