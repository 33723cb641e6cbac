package webhooksender

import (
	"context"

	"github.com/kupe-voice/kupe/application/webhooks"
)

// Port is the sender as the webhooks use cases' Sender.
type Port struct{ Sender *Sender }

var _ webhooks.Sender = Port{}

// CheckURL implements webhooks.Sender: the error is a *URLError, whose text says why.
func (p Port) CheckURL(ctx context.Context, url string) error { return p.Sender.CheckURL(ctx, url) }

// Send implements webhooks.Sender.
func (p Port) Send(ctx context.Context, m webhooks.Message) webhooks.SendResult {
	return resultOf(p.Sender.Send(ctx, deliveryOf(m)))
}

// TrySend implements webhooks.Sender.
func (p Port) TrySend(ctx context.Context, m webhooks.Message) (webhooks.SendResult, bool) {
	r, sent := p.Sender.TrySend(ctx, deliveryOf(m))
	return resultOf(r), sent
}

func deliveryOf(m webhooks.Message) Delivery {
	return Delivery{Key: m.Key, Endpoint: m.Endpoint, Secret: m.Secret, MessageID: m.MessageID, Body: m.Body}
}

func resultOf(r Result) webhooks.SendResult {
	return webhooks.SendResult{StatusCode: r.StatusCode, Error: r.Error, Outcome: r.Outcome, At: r.At}
}
