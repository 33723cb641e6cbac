package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// Batch calling: Kupe's /api/v1/batch-call routes, and ours beside them (upload-csv, pause,
// resume, cancel, events), and the do-not-call list. Bad input here is a 400, as Kupe answers
// it; another user's batch is a 404 like one that does not exist.

// Body bounds of the batch routes, above the API's default: an upload holds up to 10,000
// records in JSON, and any number of rows in a CSV, which is read as a stream.
const (
	maxBatchJSONBytes = 16 << 20
	maxBatchCSVBytes  = 32 << 20
)

// DefaultBatchEventsInterval is how often GET .../events looks at the batch's counts.
const DefaultBatchEventsInterval = time.Second

func (s *server) campaignRoutes(g *gin.RouterGroup) {
	g.POST("/api/v1/batch-call/create", s.createBatch)
	g.GET("/api/v1/batch-call/me", s.listBatches)
	g.POST("/api/v1/batch-call/upload-json/:batch_id", s.uploadBatchJSON)
	g.POST("/api/v1/batch-call/upload-csv/:batch_id", s.uploadBatchCSV)
	g.POST("/api/v1/batch-call/start/:batch_id", s.startBatch)
	g.GET("/api/v1/batch-call/:batch_id", s.getBatch)
	g.GET("/api/v1/batch-call/:batch_id/status", s.batchStatus)
	g.GET("/api/v1/batch-call/:batch_id/data", s.batchData)
	g.POST("/api/v1/batch-call/:batch_id/data/upsert", s.upsertBatchData)
	g.POST("/api/v1/batch-call/:batch_id/pause", s.pauseBatch)
	g.POST("/api/v1/batch-call/:batch_id/resume", s.resumeBatch)
	g.POST("/api/v1/batch-call/:batch_id/cancel", s.cancelBatch)
	g.GET("/api/v1/batch-call/:batch_id/events", s.batchEvents)
}

func (s *server) suppressionRoutes(g *gin.RouterGroup) {
	g.POST("/api/v1/suppressions", s.addSuppressions)
	g.GET("/api/v1/suppressions", s.listSuppressions)
	g.DELETE("/api/v1/suppressions/:phone_number", s.deleteSuppression)
}

// batchParam is the path's batch_id, which must be a UUID (else a 422, as for every id in a path).
func batchParam(c *gin.Context) (string, bool) {
	id := c.Param("batch_id")
	if _, err := uuid.Parse(id); err != nil {
		fail(c, invalid("batch_id is not a valid UUID"))
		return "", false
	}
	return id, true
}

// campaignFail answers the campaign use cases' own errors; everything else goes to the shared
// error table.
func campaignFail(c *gin.Context, err error) {
	var inv *campaigns.InvalidError
	var bt *campaign.BatchTransitionError
	switch {
	case errors.As(err, &inv):
		writeDetail(c, http.StatusBadRequest, inv.Detail)
	case errors.Is(err, campaigns.ErrNoRecipients):
		writeDetail(c, http.StatusBadRequest, "The batch has no recipients: upload some first")
	case errors.Is(err, campaigns.ErrNotFound):
		writeDetail(c, http.StatusNotFound, "Not found")
	case errors.As(err, &bt):
		writeDetail(c, http.StatusConflict, fmt.Sprintf("The batch is %s: it cannot move to %s", bt.From, bt.To))
	case campaigns.IsConflict(err):
		writeDetail(c, http.StatusConflict, "The batch or the row no longer takes this change")
	default:
		fail(c, err)
		return
	}
	c.Abort()
}

// decodeBatchBody reads one JSON object of at most limit bytes into v; bad JSON is a 400.
func decodeBatchBody(c *gin.Context, limit int64, v any) error {
	if c.Request.ContentLength > limit {
		return errBodyTooLarge
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err != nil {
		return errBodyUnreadable
	}
	if int64(len(raw)) > limit {
		return errBodyTooLarge
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return &campaigns.InvalidError{Detail: "Request body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return &campaigns.InvalidError{Detail: typ.Field + " must be " + jsonKind(typ.Type)}
		}
		return &campaigns.InvalidError{Detail: "Request body is not valid JSON"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &campaigns.InvalidError{Detail: "Request body must hold one JSON object and nothing after it"}
	}
	return nil
}

type windowJSON struct {
	Start string   `json:"start"`
	End   string   `json:"end"`
	Days  []string `json:"days"`
}

type retryJSON struct {
	MaxAttempts    int      `json:"max_attempts"`
	On             []string `json:"on"`
	BackoffSeconds int      `json:"backoff_seconds"`
}

// batchJSON is a batch as every batch route shows it.
type batchJSON struct {
	ID            string      `json:"id"`
	UserID        string      `json:"user_id"`
	BatchName     string      `json:"batch_name"`
	Description   string      `json:"description"`
	Status        string      `json:"status"`
	AgentID       *string     `json:"agent_id"`
	WorkflowID    *string     `json:"workflow_id"`
	CallerPhoneID string      `json:"caller_phone_id"`
	BatchSize     int         `json:"batch_size"`
	VariableNames []string    `json:"variable_names"`
	StartAt       *string     `json:"start_at"`
	CallWindow    *windowJSON `json:"call_window"`
	Retry         retryJSON   `json:"retry"`
	PauseReason   *string     `json:"pause_reason"`
	CreatedAt     *string     `json:"created_at"`
	StartedAt     *string     `json:"started_at"`
	CompletedAt   *string     `json:"completed_at"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toBatchJSON(b *campaign.Batch) batchJSON {
	out := batchJSON{ID: b.ID, UserID: b.UserID, BatchName: b.Name, Description: b.Description, Status: b.Status().String(),
		AgentID: optString(b.Target.AgentID()), WorkflowID: optString(b.Target.WorkflowID()), CallerPhoneID: b.CallerPhoneID,
		BatchSize: b.Size.Int(), VariableNames: b.VariableNames, StartAt: timeJSON(b.StartAt),
		Retry:       retryJSON{MaxAttempts: b.Retry.MaxAttempts(), On: b.Retry.On(), BackoffSeconds: int(b.Retry.Backoff() / time.Second)},
		PauseReason: optString(b.PauseReason), CreatedAt: timeJSON(b.CreatedAt), StartedAt: timeJSON(b.StartedAt),
		CompletedAt: timeJSON(b.CompletedAt)}
	if out.VariableNames == nil {
		out.VariableNames = []string{}
	}
	if !b.Window.IsZero() {
		out.CallWindow = &windowJSON{Start: b.Window.Start(), End: b.Window.End(), Days: b.Window.Days()}
	}
	return out
}

// BatchView is a batch as the batch routes show it, for other renderers (kupectl).
func BatchView(b *campaign.Batch) any { return toBatchJSON(b) }

// BatchStatusView is what GET .../status answers in data: the batch and its counts.
func BatchStatusView(b *campaign.Batch, c campaigns.Counts) any {
	return statusJSON{Batch: toBatchJSON(b), StatusCounts: toCountsJSON(c)}
}

type batchAnswer struct {
	Success bool      `json:"success"`
	Message string    `json:"message,omitempty"`
	Data    batchJSON `json:"data"`
}

// createBatch serves POST /api/v1/batch-call/create: 201 with the batch, not started.
func (s *server) createBatch(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body struct {
		AgentID       *string     `json:"agent_id"`
		WorkflowID    *string     `json:"workflow_id"`
		UserID        *string     `json:"user_id"`
		CallerPhoneID string      `json:"caller_phone_id"`
		BatchName     string      `json:"batch_name"`
		Description   *string     `json:"description"`
		VariableNames []string    `json:"variable_names"`
		BatchSize     *int        `json:"batch_size"`
		StartAt       *string     `json:"start_at"`
		CallWindow    *windowJSON `json:"call_window"`
		Retry         *retryJSON  `json:"retry"`
	}
	if err := decodeBatchBody(c, s.cfg.MaxBodyBytes, &body); err != nil {
		campaignFail(c, err)
		return
	}
	cmd := campaigns.CreateBatch{UserID: userID, ForUserID: deref(body.UserID), AgentID: deref(body.AgentID),
		WorkflowID: deref(body.WorkflowID), CallerPhoneID: body.CallerPhoneID, Name: body.BatchName,
		Description: deref(body.Description), VariableNames: body.VariableNames, StartAt: deref(body.StartAt)}
	if body.BatchSize != nil {
		if *body.BatchSize == 0 {
			campaignFail(c, &campaigns.InvalidError{Detail: campaign.ErrInvalidBatchSize.Error()})
			return
		}
		cmd.BatchSize = *body.BatchSize
	}
	if w := body.CallWindow; w != nil {
		cmd.HasWindow, cmd.WindowStart, cmd.WindowEnd, cmd.WindowDays = true, w.Start, w.End, w.Days
	}
	if r := body.Retry; r != nil {
		cmd.RetryMaxAttempts, cmd.RetryOn, cmd.RetryBackoffSeconds = r.MaxAttempts, r.On, r.BackoffSeconds
	}
	b, err := s.deps.Campaigns.Create(c.Request.Context(), cmd)
	if err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusCreated, batchAnswer{Success: true, Message: "Batch created", Data: toBatchJSON(b)})
}

// listBatches serves GET /api/v1/batch-call/me: the caller's batches, newest first.
func (s *server) listBatches(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	bs, err := s.deps.Campaigns.List(c.Request.Context(), userID)
	if err != nil {
		campaignFail(c, err)
		return
	}
	out := make([]batchJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, toBatchJSON(b))
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "data": out})
}

// getBatch serves GET /api/v1/batch-call/{batch_id}.
func (s *server) getBatch(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	b, err := s.deps.Campaigns.Get(c.Request.Context(), userID, batchID)
	if err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, batchAnswer{Success: true, Data: toBatchJSON(b)})
}

// countsJSON is Kupe's BatchStatusCounts, with our busy and canceled.
type countsJSON struct {
	NotStarted int `json:"not_started"`
	Calling    int `json:"calling"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	NoAnswer   int `json:"no_answer"`
	Busy       int `json:"busy"`
	Canceled   int `json:"canceled"`
	Total      int `json:"total"`
}

func toCountsJSON(c campaigns.Counts) countsJSON {
	return countsJSON{NotStarted: c.Of(campaign.RowNotStarted), Calling: c.Of(campaign.RowCalling),
		Completed: c.Of(campaign.RowCompleted), Failed: c.Of(campaign.RowFailed), NoAnswer: c.Of(campaign.RowNoAnswer),
		Busy: c.Of(campaign.RowBusy), Canceled: c.Of(campaign.RowCanceled), Total: c.Total}
}

type statusJSON struct {
	Batch        batchJSON  `json:"batch"`
	StatusCounts countsJSON `json:"status_counts"`
}

// batchStatus serves GET /api/v1/batch-call/{batch_id}/status: the batch and its rows counted.
func (s *server) batchStatus(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	b, counts, err := s.deps.Campaigns.Status(c.Request.Context(), userID, batchID)
	if err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "data": statusJSON{Batch: toBatchJSON(b), StatusCounts: toCountsJSON(counts)}})
}

// rowJSON is a recipient row as GET .../data shows it.
type rowJSON struct {
	ID                string            `json:"id"`
	BatchID           string            `json:"batch_id"`
	ToPhoneNumber     string            `json:"to_phonenumber"`
	VariableValues    map[string]string `json:"variable_values"`
	TimeZone          *string           `json:"timezone"`
	Status            string            `json:"status"`
	Attempts          int               `json:"attempts"`
	LastCallSessionID *string           `json:"last_call_session_id"`
	NextAttemptAt     *string           `json:"next_attempt_at"`
	ErrorMessage      *string           `json:"error_message"`
	CreatedAt         *string           `json:"created_at"`
	UpdatedAt         *string           `json:"updated_at"`
}

func toRowJSON(e *campaign.Entry) rowJSON {
	vars := e.Variables
	if vars == nil {
		vars = map[string]string{}
	}
	return rowJSON{ID: e.ID, BatchID: e.BatchID, ToPhoneNumber: e.To, VariableValues: vars, TimeZone: optString(e.TimeZone),
		Status: e.Status().String(), Attempts: e.Attempts, LastCallSessionID: optString(e.LastSessionID),
		NextAttemptAt: timeJSON(e.NextAttemptAt), ErrorMessage: optString(e.Error), CreatedAt: timeJSON(e.CreatedAt),
		UpdatedAt: timeJSON(e.UpdatedAt)}
}

// pageQuery reads page and page_size; absent is 0 (the use case's default).
func pageQuery(c *gin.Context) (page, size int, err error) {
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &page}, {"page_size", &size}} {
		if v := c.Query(p.name); v != "" {
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 {
				return 0, 0, &campaigns.InvalidError{Detail: p.name + " must be a whole number, 1 or more"}
			}
			*p.dst = n
		}
	}
	return page, size, nil
}

// batchData serves GET /api/v1/batch-call/{batch_id}/data?status=&page=&page_size=.
func (s *server) batchData(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	page, size, err := pageQuery(c)
	if err != nil {
		campaignFail(c, err)
		return
	}
	rows, total, err := s.deps.Campaigns.Entries(c.Request.Context(), userID, batchID, c.Query("status"), page, size)
	if err != nil {
		campaignFail(c, err)
		return
	}
	out := make([]rowJSON, 0, len(rows))
	for _, e := range rows {
		out = append(out, toRowJSON(e))
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "data": out, "total": total})
}

type failedJSON struct {
	Index         int    `json:"index"`
	ToPhoneNumber string `json:"to_phonenumber"`
	Reason        string `json:"reason"`
}

type uploadJSON struct {
	Success     bool         `json:"success"`
	Inserted    int          `json:"inserted"`
	Updated     *int         `json:"updated,omitempty"`
	Failed      []failedJSON `json:"failed"`
	FailedTotal int          `json:"failed_total"`
}

func toUploadJSON(r campaigns.UploadResult) uploadJSON {
	out := uploadJSON{Success: true, Inserted: r.Inserted, Failed: make([]failedJSON, 0, len(r.Failed)), FailedTotal: r.FailedTotal}
	for _, f := range r.Failed {
		out.Failed = append(out.Failed, failedJSON{Index: f.Index, ToPhoneNumber: f.Number, Reason: f.Reason})
	}
	return out
}

// uploadBatchJSON serves POST /api/v1/batch-call/upload-json/{batch_id}.
func (s *server) uploadBatchJSON(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	var body struct {
		Records []map[string]any `json:"records"`
	}
	if err := decodeBatchBody(c, maxBatchJSONBytes, &body); err != nil {
		campaignFail(c, err)
		return
	}
	if body.Records == nil {
		campaignFail(c, &campaigns.InvalidError{Detail: "records is required"})
		return
	}
	res, err := s.deps.Campaigns.UploadJSON(c.Request.Context(), userID, batchID, body.Records)
	if err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, toUploadJSON(res))
}

// uploadBatchCSV serves POST /api/v1/batch-call/upload-csv/{batch_id}: a text/csv body read as a
// stream, a chunk of rows at a time.
func (s *server) uploadBatchCSV(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	if c.Request.ContentLength > maxBatchCSVBytes {
		fail(c, errBodyTooLarge)
		return
	}
	// The body is read as the rows are stored; a body that cannot be read at all is told apart
	// here, before anything else.
	body := bufio.NewReaderSize(http.MaxBytesReader(c.Writer, c.Request.Body, maxBatchCSVBytes), 64<<10)
	if _, err := body.Peek(1); err != nil && !errors.Is(err, io.EOF) {
		fail(c, errBodyUnreadable)
		return
	}
	res, err := s.deps.Campaigns.UploadCSV(c.Request.Context(), userID, batchID, body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		fail(c, errBodyTooLarge)
		return
	}
	if err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, toUploadJSON(res))
}

// upsertBatchData serves POST /api/v1/batch-call/{batch_id}/data/upsert: items with an id update
// that row, the others are inserted, while the batch and the row are not_started (else 409).
func (s *server) upsertBatchData(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	var body struct {
		Items []struct {
			ID             *string        `json:"id"`
			ToPhoneNumber  string         `json:"to_phonenumber"`
			VariableValues map[string]any `json:"variable_values"`
		} `json:"items"`
	}
	if err := decodeBatchBody(c, maxBatchJSONBytes, &body); err != nil {
		campaignFail(c, err)
		return
	}
	if body.Items == nil {
		campaignFail(c, &campaigns.InvalidError{Detail: "items is required"})
		return
	}
	items := make([]campaigns.UpsertItem, 0, len(body.Items))
	for _, it := range body.Items {
		items = append(items, campaigns.UpsertItem{ID: deref(it.ID), To: it.ToPhoneNumber, Variables: it.VariableValues})
	}
	res, err := s.deps.Campaigns.Upsert(c.Request.Context(), userID, batchID, items)
	if err != nil {
		campaignFail(c, err)
		return
	}
	out := toUploadJSON(res)
	out.Updated = &res.Updated
	writeJSON(c, http.StatusOK, out)
}

type batchChange func(*campaigns.Service, *gin.Context, string, string) (*campaign.Batch, error)

func (s *server) changeBatch(c *gin.Context, message string, change batchChange) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	b, err := change(s.deps.Campaigns, c, userID, batchID)
	if err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, batchAnswer{Success: true, Message: message, Data: toBatchJSON(b)})
}

// startBatch serves POST /api/v1/batch-call/start/{batch_id}: 200 at once, dialling runs in
// the background (from start_at, when it is ahead).
func (s *server) startBatch(c *gin.Context) {
	s.changeBatch(c, "Batch started", func(svc *campaigns.Service, c *gin.Context, u, id string) (*campaign.Batch, error) {
		return svc.Start(c.Request.Context(), u, id)
	})
}

func (s *server) pauseBatch(c *gin.Context) {
	s.changeBatch(c, "Batch paused", func(svc *campaigns.Service, c *gin.Context, u, id string) (*campaign.Batch, error) {
		return svc.Pause(c.Request.Context(), u, id)
	})
}

func (s *server) resumeBatch(c *gin.Context) {
	s.changeBatch(c, "Batch resumed", func(svc *campaigns.Service, c *gin.Context, u, id string) (*campaign.Batch, error) {
		return svc.Resume(c.Request.Context(), u, id)
	})
}

func (s *server) cancelBatch(c *gin.Context) {
	s.changeBatch(c, "Batch canceled", func(svc *campaigns.Service, c *gin.Context, u, id string) (*campaign.Batch, error) {
		return svc.Cancel(c.Request.Context(), u, id)
	})
}

// batchEvents serves GET /api/v1/batch-call/{batch_id}/events: Server-Sent Events, one "status"
// event (the /status answer's data) at once and another each time the batch or its counts
// change, until the batch ends or the client leaves. Several servers may be dialling the batch:
// the counts are read from the database.
func (s *server) batchEvents(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	batchID, ok := batchParam(c)
	if !ok {
		return
	}
	ctx, id := c.Request.Context(), batchID
	b, counts, err := s.deps.Campaigns.Status(ctx, userID, id)
	if err != nil {
		campaignFail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Writer.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	interval := s.cfg.BatchEventsInterval
	if interval <= 0 {
		interval = DefaultBatchEventsInterval
	}
	const keepAlive = 15 * time.Second
	var last []byte
	lastWrite := time.Time{}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		data, err := json.Marshal(statusJSON{Batch: toBatchJSON(b), StatusCounts: toCountsJSON(counts)})
		if err != nil {
			note(c, err)
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(keepAlive + 10*time.Second))
		switch {
		case !bytes.Equal(data, last):
			if _, err := fmt.Fprintf(c.Writer, "event: status\ndata: %s\n\n", data); err != nil {
				return
			}
			last, lastWrite = data, time.Now()
		case time.Since(lastWrite) >= keepAlive:
			if _, err := io.WriteString(c.Writer, ": keep-alive\n\n"); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if b.Status().Final() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if b, counts, err = s.deps.Campaigns.Status(ctx, userID, id); err != nil {
			if ctx.Err() == nil {
				note(c, err)
			}
			return
		}
	}
}

// addSuppressions serves POST /api/v1/suppressions: {"phone_numbers": [...]} onto the caller's
// do-not-call list.
func (s *server) addSuppressions(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body struct {
		PhoneNumbers []string `json:"phone_numbers"`
	}
	if err := decodeBatchBody(c, maxBatchJSONBytes, &body); err != nil {
		campaignFail(c, err)
		return
	}
	added, err := s.deps.DoNotCall.Add(c.Request.Context(), userID, body.PhoneNumbers)
	if err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "added": added})
}

type suppressionJSON struct {
	PhoneNumber string  `json:"phone_number"`
	CreatedAt   *string `json:"created_at"`
}

// listSuppressions serves GET /api/v1/suppressions?page=&page_size=: newest first.
func (s *server) listSuppressions(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	page, size, err := pageQuery(c)
	if err != nil {
		campaignFail(c, err)
		return
	}
	list, total, err := s.deps.DoNotCall.List(c.Request.Context(), userID, page, size)
	if err != nil {
		campaignFail(c, err)
		return
	}
	out := make([]suppressionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, suppressionJSON{PhoneNumber: x.PhoneNumber, CreatedAt: timeJSON(x.CreatedAt)})
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "data": out, "total": total})
}

// deleteSuppression serves DELETE /api/v1/suppressions/{phone_number} (E.164; the + may be
// sent as %2B).
func (s *server) deleteSuppression(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	n := strings.TrimSpace(c.Param("phone_number"))
	if err := s.deps.DoNotCall.Remove(c.Request.Context(), userID, n); err != nil {
		campaignFail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true})
}
