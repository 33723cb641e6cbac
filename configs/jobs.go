package configs

import (
	"strconv"
	"strings"
)

// JobsConfig sizes the durable job engine (adapters/jobqueue), which runs campaigns.
type JobsConfig struct {
	// Workers is how many jobs one process works at once.
	Workers int `yaml:"workers"`
}

// maxWorkers keeps a typo from opening thousands of goroutines on the database.
const maxWorkers = 1000

func loadJobs(lookup func(string) (string, bool), c *Config) []string {
	if v, ok := lookup("KUPE_WORKERS"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > maxWorkers {
			return []string{"KUPE_WORKERS: want a whole number from 1 to 1000"}
		}
		c.Jobs.Workers = n
	}
	if c.Jobs.Workers < 1 || c.Jobs.Workers > maxWorkers {
		return []string{"jobs.workers: want a whole number from 1 to 1000"}
	}
	return nil
}
