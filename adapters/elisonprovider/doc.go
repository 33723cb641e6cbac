// Package elisonprovider places calls through the Indian dialer behind Elision Technologies'
// VoiceLink API: it queues the destination as a lead, and the dialer calls it and streams the
// audio to the voice agent. It implements createcall.Carrier and passes application/createcall/createcalltest's
// carrier suite.
//
// # Assumed wire protocol
//
// The dialer publishes no documentation, so the protocol below is an assumption, and every part
// of it (paths, field names, answer shapes, error codes, token lifetime) lives in protocol.go so
// that correcting it is a change to that one file:
//
//	POST {base}/api/login                      Content-Type: application/json
//	  {"username": "...", "password": "..."}
//	→ 200 {"token": "...", "expires_in": 3600}          (seconds; a number or a string)
//
//	POST {base}/api/leads                      Authorization: Bearer {token}
//	  {"phone": "9876543210", "country_code": "91",      (national significant number, no "+")
//	   "websocket_url": "wss://...", "webhook_url": "https://...", "reference": "{session id}"}
//	→ 200 {"status": "success", "queue_id": "..."}       (a string or a number)
//
//	any error, HTTP 4xx/5xx (or 200 with "status": "error"):
//	  {"status": "error", "code": "INVALID_PHONE", "message": "..."}
//
//	POST {webhook_url}                          the dialer's report on the call, as it progresses
//	  {"reference": "{session id}", "queue_id": "...", "call_id": "...", "status": "answered",
//	   "duration": 42, "timestamp": "2026-11-28T09:00:00Z"}
//	  status: queued, dialing, ringing, answered, completed, busy, no_answer, failed, cancelled
//
// The base URL is the line's base_url credential unless Config.APIBaseURL overrides it. The leg
// id is the queue id: the dialer's own call id arrives later on the webhook, with the reference.
// The lead carries no caller id: the dialer uses the number assigned to the account (or its
// campaign), and a refusal of that number comes back as a caller-id error code.
//
// A token is cached per base URL, username and password until a minute before it expires (a
// missing expires_in is taken as five minutes). A 401 on a lead means the dialer refused the
// token before taking the lead, so the adapter logs in again once and sends the lead again.
// Nothing is placed before a lead is accepted, so a login that fails in any way, a timeout
// included, refuses the dial as unavailable (or bad credentials) and never as an unknown outcome.
package elisonprovider
