package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterDBStats exports the database pool's statistics, read from stats at each scrape (pass
// the pool's (*sql.DB).Stats), so the metrics package needs no handle on the database itself.
func (m *Metrics) RegisterDBStats(stats func() sql.DBStats) error {
	return m.reg.Register(NewDBStatsCollector(stats))
}

// NewDBStatsCollector is a collector of a database pool's statistics, read from stats at each
// scrape. RegisterDBStats is the usual way in; this is for a registry of another's.
func NewDBStatsCollector(stats func() sql.DBStats) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc("kupe_db_"+name, help, nil, nil) }
	return &dbStats{
		stats:        stats,
		maxOpen:      d("max_open_connections", "Most connections the pool may open (0: no limit)."),
		open:         d("open_connections", "Connections open, in use or idle."),
		inUse:        d("in_use_connections", "Connections in use."),
		idle:         d("idle_connections", "Connections idle."),
		waitCount:    d("wait_count_total", "Times a request waited for a connection."),
		waitDuration: d("wait_duration_seconds_total", "Time spent waiting for a connection."),
		idleClosed:   d("max_idle_closed_total", "Connections closed because the pool held its most idle ones."),
		idleTimeout:  d("max_idle_time_closed_total", "Connections closed after being idle too long."),
		lifetime:     d("max_lifetime_closed_total", "Connections closed at the end of their lifetime."),
	}
}

type dbStats struct {
	stats                                                      func() sql.DBStats
	maxOpen, open, inUse, idle                                 *prometheus.Desc
	waitCount, waitDuration, idleClosed, idleTimeout, lifetime *prometheus.Desc
}

func (c *dbStats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitDuration,
		c.idleClosed, c.idleTimeout, c.lifetime} {
		ch <- d
	}
}

func (c *dbStats) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(s.MaxOpenConnections))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	counter(c.waitCount, float64(s.WaitCount))
	counter(c.waitDuration, s.WaitDuration.Seconds())
	counter(c.idleClosed, float64(s.MaxIdleClosed))
	counter(c.idleTimeout, float64(s.MaxIdleTimeClosed))
	counter(c.lifetime, float64(s.MaxLifetimeClosed))
}
