package main

import (
	"flag"
	"strconv"
	"strings"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

const limitsSetUsage = "--user U [--max-concurrent-calls N] [--requests-per-second R|default] [--daily-spend-cap X|none] [--allowed-countries US,IN|default]"

// limitsSet changes the flags given and leaves the others as they are.
func limitsSet(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("limits set", flag.ContinueOnError)
	user := fs.String("user", "", "")
	maxCalls := fs.String("max-concurrent-calls", "", "")
	rps := fs.String("requests-per-second", "", "")
	spendCap := fs.String("daily-spend-cap", "", "")
	countries := fs.String("allowed-countries", "", "")
	if err := parse(fs, args, "user"); err != nil {
		return nil, err
	}
	cmd := accounts.SetLimits{UserID: *user}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["max-concurrent-calls"] {
		n, err := strconv.Atoi(*maxCalls)
		if err != nil {
			return nil, usageError{"--max-concurrent-calls: want a whole number"}
		}
		cmd.MaxConcurrentCalls = &n
	}
	if set["requests-per-second"] {
		r := 0.0 // default: the deployment's rate
		if *rps != "default" {
			var err error
			if r, err = strconv.ParseFloat(*rps, 64); err != nil || r <= 0 {
				return nil, usageError{"--requests-per-second: want a positive number, or default"}
			}
		}
		cmd.RequestsPerSecond = &r
	}
	if set["daily-spend-cap"] {
		if *spendCap == "none" {
			cmd.NoDailySpendCap = true
		} else {
			a, err := money.ParseAmount(*spendCap)
			if err != nil {
				return nil, usageError{"--daily-spend-cap: " + err.Error() + ", or none"}
			}
			cmd.DailySpendCap = &a
		}
	}
	if set["allowed-countries"] {
		list := []string{} // default: the deployment's list
		if *countries != "default" {
			for _, c := range strings.Split(*countries, ",") {
				if c = strings.TrimSpace(c); c != "" {
					list = append(list, c)
				}
			}
			if len(list) == 0 {
				return nil, usageError{"--allowed-countries: want ISO codes such as US,IN, or default"}
			}
		}
		cmd.AllowedCountries = &list
	}
	if len(set) == 1 {
		return nil, usageError{"give at least one limit to set"}
	}
	l, err := e.limits.Set(e.ctx, cmd)
	if err != nil {
		return nil, err
	}
	return limitsJSON(*user, l), nil
}

func limitsJSON(userID string, l identity.Limits) map[string]any {
	out := map[string]any{"user_id": userID, "max_concurrent_calls": l.MaxConcurrentCalls,
		"requests_per_second": nil, "daily_spend_cap": nil, "allowed_countries": nil}
	if l.RequestsPerSecond > 0 {
		out["requests_per_second"] = l.RequestsPerSecond
	}
	if l.DailySpendCap != nil {
		out["daily_spend_cap"] = *l.DailySpendCap
	}
	if len(l.AllowedCountries) > 0 {
		out["allowed_countries"] = l.AllowedCountries
	}
	return out
}
