package campaigns

// Job kinds of the dialler. Their arguments are ids only: River keeps them in its tables and
// logs, where phone numbers must not go.
const (
	KindDial = "campaign_dial"
	KindTick = "campaign_tick"
)

// DialJob places one attempt of one entry: the attempt-th call of row EntryID. It is inserted
// in the transaction that marked the entry calling; its worker acts only while the entry is
// calling for that attempt, so a job run twice dials once.
type DialJob struct {
	BatchID string `json:"batch_id"`
	EntryID string `json:"row_id"`
	Attempt int    `json:"attempt"`
}

// Kind implements JobArgs.
func (DialJob) Kind() string { return KindDial }

// TickJob runs the dialler on a batch: it fills the batch's free slots with due entries. A
// wake-up scheduled for a later time (start_at, a retry, a window that opens) carries that time
// in At (Unix seconds) and is unique by it; one to run at once has At zero and is not unique,
// so that a tick that is running never swallows the next one.
type TickJob struct {
	BatchID string `json:"batch_id"`
	At      int64  `json:"at,omitempty"`
}

// Kind implements JobArgs.
func (TickJob) Kind() string { return KindTick }

// KindCompleted names the job that announces a completed batch.
const KindCompleted = "campaign_completed"

// CompletedJob announces that batch BatchID completed: it is inserted, unique, in the
// transaction that completes the batch, and its worker tells the service's Completions (agent
// webhooks queue batch.completed), retried until they succeed.
type CompletedJob struct {
	BatchID string `json:"batch_id"`
}

// Kind implements JobArgs.
func (CompletedJob) Kind() string { return KindCompleted }
