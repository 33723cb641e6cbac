package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/configs"
)

// DemoOutput is where the first run prints the demo account's key: the terminal (never the
// log).
type DemoOutput struct{ io.Writer }

// Demo seeds the demo account on start (see SeedDemo), printing to DemoOutput, os.Stdout unless
// decorated.
var Demo = fx.Module("demo",
	fx.Supply(DemoOutput{os.Stdout}),
	fx.Invoke(func(c configs.Config, acc *accounts.Accounts, out DemoOutput) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return SeedDemo(ctx, c, acc, out)
	}),
)

// SeedDemo runs on start: on the embedded default's first run it creates the demo account and
// prints its key, once, to out (never to the log).
func SeedDemo(ctx context.Context, c configs.Config, acc *accounts.Accounts, out io.Writer) error {
	if !c.Database.Embedded() {
		return nil
	}
	demo, ok, err := acc.SeedDemo(ctx, c.Demo.DemoCredits())
	if err != nil || !ok {
		return err
	}
	base := "http://" + c.HTTP.Addr
	_, err = fmt.Fprintf(out, `
First run: created a demo account with %s credits, a simulated line and an agent.
Its API key is shown this once; keep it:

    export KUPE_API_KEY=%s

Place a call:

    curl -s -X POST "%s/api/call/create_call?phoneNumber=%%2B14155550123&agent_id=%s" -H "x-api-key: $KUPE_API_KEY"

See it in the call log (use the request_id from the answer):

    curl -s "%s/api/v1/call-analytics?page=1&page_size=10" -H "x-api-key: $KUPE_API_KEY"

`, c.Demo.Credits, demo.APIKey, base, demo.AgentID, base)
	return err
}
