package memstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/application/webhooks/webhookstest"
)

func TestWebhookEndpointStoreContract(t *testing.T) {
	webhookstest.RunEndpointStoreSuite(t, func(*testing.T) webhooks.EndpointStore { return memstore.NewWebhooks(nil) })
}

func TestWebhookDeliveryStoreContract(t *testing.T) {
	webhookstest.RunDeliveryStoreSuite(t, func(*testing.T) webhookstest.DeliveryFixture {
		var mu sync.Mutex
		var jobs []webhookstest.Scheduled
		s := memstore.NewWebhooks(func(job webhooks.DeliveryJob, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			jobs = append(jobs, webhookstest.Scheduled{Job: job, At: at})
		})
		return webhookstest.DeliveryFixture{Store: s, Scheduled: func(*testing.T) []webhookstest.Scheduled {
			mu.Lock()
			defer mu.Unlock()
			return append([]webhookstest.Scheduled(nil), jobs...)
		}}
	})
}
