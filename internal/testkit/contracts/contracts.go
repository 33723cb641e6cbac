// Package contracts holds the vendors' API descriptions the tests check against (see README.md):
// Kupe's Voice Agent API and Twilio's REST API, embedded so that a test needs no file beside the
// repository.
package contracts

import _ "embed"

// KupeVoiceAgent is Kupe's OpenAPI 3.1 document, kupe-voice-agent.openapi.yaml.
//
//go:embed kupe-voice-agent.openapi.yaml
var KupeVoiceAgent []byte

// TwilioAPIv2010 is Twilio's OpenAPI 3.0 document of its 2010-04-01 REST API,
// twilio_api_v2010.json.
//
//go:embed twilio_api_v2010.json
var TwilioAPIv2010 []byte
