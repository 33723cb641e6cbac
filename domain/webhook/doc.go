// Package webhook holds the agent webhook domain, both ways: the endpoint configuration Kupe's
// putAgentWebhooks takes, the agent's signing secret, the retry schedule and the rules that say
// which delivery outcomes retry and when an endpoint is disabled, and the signed start-call
// request a CRM sends in (its signature and its body). It is plain Go, standard library only.
package webhook
