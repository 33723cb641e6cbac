package httpapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
)

// The service's own OpenAPI document is written as YAML and embedded; /openapi.json serves it as
// JSON and /docs as an HTML page rendered from it. Both are built once per process, on first use,
// and need nothing from another host.

//go:embed openapi/openapi.yaml
var openAPIYAML []byte

//go:embed openapi/reference.html.tmpl
var referenceTemplate string

//go:embed openapi/reference.css
var referenceCSS string

var (
	htmlContentType = []string{"text/html; charset=utf-8"}
	noSniff         = []string{"nosniff"}
)

// apiDocs is what the two documentation routes answer with.
type apiDocs struct {
	json []byte
	html []byte
	// csp lets the page's own inline style, and nothing else, load.
	csp []string
}

var loadAPIDocs = sync.OnceValues(buildAPIDocs)

func buildAPIDocs() (*apiDocs, error) {
	doc, err := loadOpenAPI(openAPIYAML)
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode openapi document: %w", err)
	}
	var page bytes.Buffer
	if err := renderReference(&page, doc, referenceCSS); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(referenceCSS))
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return &apiDocs{json: js, html: page.Bytes(), csp: []string{csp}}, nil
}

// loadOpenAPI parses and validates an OpenAPI document that refers to nothing outside itself.
func loadOpenAPI(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate openapi document: %w", err)
	}
	return doc, nil
}

// openAPIDocument serves GET /openapi.json.
func (s *server) openAPIDocument(c *gin.Context) {
	d, err := loadAPIDocs()
	if err != nil {
		fail(c, err)
		return
	}
	writeJSONBytes(c, http.StatusOK, d.json)
}

// apiReference serves GET /docs, the API reference page.
func (s *server) apiReference(c *gin.Context) {
	d, err := loadAPIDocs()
	if err != nil {
		fail(c, err)
		return
	}
	h := c.Writer.Header()
	h["Content-Type"] = htmlContentType
	h["Content-Security-Policy"] = d.csp
	h["X-Content-Type-Options"] = noSniff
	c.Writer.WriteHeader(http.StatusOK)
	_, _ = c.Writer.Write(d.html)
}
