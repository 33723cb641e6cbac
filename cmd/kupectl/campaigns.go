package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// The campaigns commands call the batch-calling use cases as the API does, acting for the
// batch's owner; their JSON is the API's. The dialling itself is a server's (kupe serve):
// kupectl records the jobs, a server works them.

func campaignsCreate(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("campaigns create", flag.ContinueOnError)
	user := fs.String("user", "", "")
	name := fs.String("name", "", "")
	line := fs.String("line", "", "")
	agent := fs.String("agent", "", "")
	workflow := fs.String("workflow", "", "")
	size := fs.Int("batch-size", 0, "")
	vars := fs.String("variables", "", "")
	startAt := fs.String("start-at", "", "")
	window := fs.String("window", "", "")
	days := fs.String("days", "", "")
	maxAttempts := fs.Int("max-attempts", 0, "")
	retryOn := fs.String("retry-on", "", "")
	backoff := fs.Int("backoff", 0, "")
	if err := parse(fs, args, "user", "name", "line"); err != nil {
		return nil, err
	}
	if (*agent == "") == (*workflow == "") {
		return nil, usageError{"exactly one of --agent and --workflow is required"}
	}
	c := campaigns.CreateBatch{UserID: *user, Name: *name, CallerPhoneID: *line, AgentID: *agent, WorkflowID: *workflow,
		BatchSize: *size, VariableNames: list(*vars), StartAt: *startAt, RetryMaxAttempts: *maxAttempts,
		RetryOn: list(*retryOn), RetryBackoffSeconds: *backoff}
	if *window != "" {
		start, end, ok := strings.Cut(*window, "-")
		if !ok {
			return nil, usageError{"--window: want HH:MM-HH:MM"}
		}
		c.HasWindow, c.WindowStart, c.WindowEnd, c.WindowDays = true, start, end, list(*days)
	}
	b, err := e.campaigns.Create(e.ctx, c)
	if err != nil {
		return nil, err
	}
	return httpapi.BatchView(b), nil
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// batchFlag reads --id and returns the batch's owner.
func batchFlag(e *env, name string, args []string, more func(*flag.FlagSet)) (id, owner string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	bid := fs.String("id", "", "")
	if more != nil {
		more(fs)
	}
	if err := parse(fs, args, "id"); err != nil {
		return "", "", err
	}
	owner, err = e.campaigns.OwnerOf(e.ctx, *bid)
	return *bid, owner, err
}

func campaignsUpload(e *env, args []string) (any, error) {
	var file *string
	id, owner, err := batchFlag(e, "campaigns upload", args, func(fs *flag.FlagSet) { file = fs.String("file", "", "") })
	if err != nil {
		return nil, err
	}
	if *file == "" {
		return nil, usageError{"--file is required"}
	}
	f, err := os.Open(*file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := e.campaigns.UploadCSV(e.ctx, owner, id, f)
	if err != nil {
		return nil, err
	}
	failed := make([]map[string]any, 0, len(res.Failed))
	for _, x := range res.Failed {
		failed = append(failed, map[string]any{"index": x.Index, "to_phonenumber": x.Number, "reason": x.Reason})
	}
	return map[string]any{"success": true, "inserted": res.Inserted, "failed": failed, "failed_total": res.FailedTotal}, nil
}

func campaignChange(name string, change func(*campaigns.Service, context.Context, string, string) (*campaign.Batch, error)) func(*env, []string) (any, error) {
	return func(e *env, args []string) (any, error) {
		id, owner, err := batchFlag(e, name, args, nil)
		if err != nil {
			return nil, err
		}
		b, err := change(e.campaigns, e.ctx, owner, id)
		if err != nil {
			return nil, err
		}
		return httpapi.BatchView(b), nil
	}
}

func campaignsStatus(e *env, args []string) (any, error) {
	id, owner, err := batchFlag(e, "campaigns status", args, nil)
	if err != nil {
		return nil, err
	}
	b, c, err := e.campaigns.Status(e.ctx, owner, id)
	if err != nil {
		return nil, err
	}
	return httpapi.BatchStatusView(b, c), nil
}

func campaignsList(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("campaigns list", flag.ContinueOnError)
	user := fs.String("user", "", "")
	if err := parse(fs, args, "user"); err != nil {
		return nil, err
	}
	bs, err := e.campaigns.List(e.ctx, *user)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(bs))
	for _, b := range bs {
		out = append(out, httpapi.BatchView(b))
	}
	return out, nil
}

// watchInterval is how often watch reads the batch.
var watchInterval = time.Second

// campaignsWatch follows a batch until it ends: a progress bar on a terminal, else a line per
// change. Ctrl-C stops watching (the campaign goes on).
func campaignsWatch(e *env, args []string) (any, error) {
	id, owner, err := batchFlag(e, "campaigns watch", args, nil)
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(context.WithoutCancel(e.ctx), os.Interrupt)
	defer stop()
	var bar *progressbar.ProgressBar
	if isTerminal(e.out) {
		bar = progressbar.NewOptions(1, progressbar.OptionSetWriter(e.out), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth(), progressbar.OptionSetRenderBlankState(true))
	}
	last := ""
	for {
		b, c, err := e.campaigns.Status(ctx, owner, id)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, nil
			}
			return nil, err
		}
		line := progressLine(b, c)
		if bar != nil {
			bar.ChangeMax(max(c.Total, 1))
			_ = bar.Set(c.Total - c.Of(campaign.RowNotStarted) - c.Of(campaign.RowCalling))
			bar.Describe(line)
		} else if line != last {
			fmt.Fprintln(e.out, line)
		}
		last = line
		if b.Status().Final() {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(e.out)
			}
			return json.RawMessage(mustJSON(httpapi.BatchStatusView(b, c))), nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(watchInterval):
		}
	}
}

func progressLine(b *campaign.Batch, c campaigns.Counts) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s", b.Status())
	if b.PauseReason != "" {
		fmt.Fprintf(&sb, " (%s)", b.PauseReason)
	}
	for _, st := range campaign.AllRowStatuses() {
		fmt.Fprintf(&sb, " %s=%d", st, c.Of(st))
	}
	fmt.Fprintf(&sb, " total=%d", c.Total)
	return sb.String()
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// isTerminal reports whether w is a character device (a terminal), not a pipe or a file.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
