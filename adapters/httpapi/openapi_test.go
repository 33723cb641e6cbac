package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.uber.org/zap"
	"golang.org/x/net/html"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/internal/testkit/apitest"
	"github.com/kupe-voice/kupe/internal/testkit/contracts"
)

// The tests of this file hold the API to its OpenAPI documents: the service's own, served at
// /openapi.json, and Kupe's, in internal/testkit/contracts. Requests go through the real engine on
// memstore and the simulated carrier; every response is checked with kin-openapi.

func init() {
	// kin-openapi checks only the formats it is told about; these are the ones the documents use.
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	// The HTML page is text: kin-openapi decodes it as such to check it against {type: string}.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	// The call-log export is a ZIP: checked as the binary string the documents declare.
	openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder)
}

// apiSpec is an OpenAPI document with a router over its operations.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

// servedSpec is the document GET /openapi.json answers with, loaded once for the package.
var servedSpec = sync.OnceValues(func() (*apiSpec, error) {
	store := memstore.New()
	engine := httpapi.New(apitest.Deps(store, createcall.CarrierSet{}), httpapi.Config{}, zap.NewNop())
	w := httptest.NewRecorder()
	engine.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if w.Code != http.StatusOK {
		return nil, fmt.Errorf("GET /openapi.json: status %d, body %s", w.Code, w.Body)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(w.Body.Bytes())
	if err != nil {
		return nil, fmt.Errorf("load /openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableMultiError(), openapi3.EnableExamplesValidation(),
		openapi3.EnableSchemaDefaultsValidation()); err != nil {
		return nil, fmt.Errorf("validate /openapi.json: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &apiSpec{doc: doc, router: router}, nil
})

func ourSpec(t testing.TB) *apiSpec {
	t.Helper()
	s, err := servedSpec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validateAgainstSpec checks a response the engine gave to req against the operation of the
// service's own document that req matches: the status must be documented, and the headers, the
// content type and the body must be as documented for it. It returns the operationId. Any HTTP
// test may call it on what it got.
func validateAgainstSpec(t testing.TB, req *http.Request, w *httptest.ResponseRecorder) string {
	t.Helper()
	s := ourSpec(t)
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: no operation in /openapi.json: %v", req.Method, req.URL.Path, err)
	}
	if err := validateResponse(route, params, req, w); err != nil {
		t.Errorf("%s %s (%s) → %d does not match /openapi.json:\n%v\nbody: %s",
			req.Method, req.URL.Path, route.Operation.OperationID, w.Code, err, specTruncate(w.Body.String()))
	}
	return route.Operation.OperationID
}

// validateResponse checks w against route's operation: an undocumented status is an error.
func validateResponse(route *routers.Route, params map[string]string, req *http.Request, w *httptest.ResponseRecorder) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 w.Code,
		Header:                 w.Header(),
		Body:                   io.NopCloser(bytes.NewReader(w.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(req.Context(), in)
}

func specTruncate(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// (a) The document loads and validates in kin-openapi, and keeps the rules every operation follows.
func TestOpenAPIDocument(t *testing.T) {
	doc := ourSpec(t).doc
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Errorf("openapi = %q, want 3.0.x (kin-openapi reads its nullable)", doc.OpenAPI)
	}
	errorDetail := "#/components/schemas/ErrorDetail"
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: needs an operationId, a summary and a tag", where)
			}
			if other, ok := ids[op.OperationID]; ok {
				t.Errorf("%s: operationId %q is also %s's", where, op.OperationID, other)
			}
			ids[op.OperationID] = where
			secured := op.Security == nil || len(*op.Security) > 0
			if secured && op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s: authenticated, but documents no 401", where)
			}
			for status, r := range op.Responses.Map() {
				if r.Value.Headers["X-Request-Id"] == nil {
					t.Errorf("%s %s: X-Request-Id header not documented", where, status)
				}
				if code, _ := strconv.Atoi(status); code >= 400 {
					want := errorDetail
					if op.OperationID == "healthCheck" && code == http.StatusServiceUnavailable {
						want = "#/components/schemas/HealthResponse" // the health report, unhealthy
					}
					mt := r.Value.Content.Get("application/json")
					if mt == nil || mt.Schema == nil || mt.Schema.Ref != want || len(r.Value.Content) != 1 {
						t.Errorf("%s %s: an error must be application/json with schema %s", where, status, want)
					}
				}
			}
		}
	}
	detail := doc.Components.Schemas["ErrorDetail"].Value
	if err := detail.VisitJSON(map[string]any{"detail": "x", "code": 1}); err == nil {
		t.Error("ErrorDetail accepts keys beside detail")
	}
}

// GET /openapi.json is the JSON of the embedded document, for anyone, and stays the same.
func TestOpenAPIDocumentRoute(t *testing.T) {
	r := newRig(t)
	w := r.get("/openapi.json", "")
	m := decode(t, w)
	if m["openapi"] == nil || m["paths"] == nil {
		t.Fatalf("not an OpenAPI document: %s", specTruncate(w.Body.String()))
	}
	if again := r.get("/openapi.json", identity.NewAPIKey()); !bytes.Equal(again.Body.Bytes(), w.Body.Bytes()) {
		t.Fatal("a second GET /openapi.json answers differently")
	}
	wantDetail(t, r.post("/openapi.json", "", ""), http.StatusMethodNotAllowed, "Method Not Allowed")
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// (b) Every route the engine serves is documented, and every documented operation is served.
func TestRoutesMatchOpenAPIDocument(t *testing.T) {
	doc := ourSpec(t).doc
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range specRig(t).engine.Routes() {
		if rt.Path == "/openapi.json" || rt.Path == "/docs" {
			continue
		}
		key := rt.Method + " " + ginParam.ReplaceAllString(rt.Path, "{$1}")
		served[key] = true
		if !documented[key] {
			t.Errorf("route %s is served but not in adapters/httpapi/openapi/openapi.yaml", key)
		}
	}
	for key := range documented {
		if !served[key] && key != "GET /openapi.json" && key != "GET /docs" {
			t.Errorf("operation %s is documented but no route serves it", key)
		}
	}
	if len(served) == 0 {
		t.Fatal("the engine lists no routes")
	}
}

// unexercised are documented statuses that no request can bring about, with the reason.
var unexercised = map[string]string{
	"getOpenApiDocument 500": "the document is embedded; TestOpenAPIDocument proves it loads",
	"getApiReference 500":    "the page is rendered from the embedded document; TestAPIReferencePage proves it renders",
}

// (c) Each operation's real responses, success and errors, match the service's own document, and
// every status the document promises is seen.
func TestResponsesMatchOpenAPIDocument(t *testing.T) {
	doc := ourSpec(t).doc
	seen := map[string]bool{}
	for _, ex := range apiExchanges(t) {
		t.Run(ex.name, func(t *testing.T) {
			op := validateAgainstSpec(t, ex.req, ex.resp)
			seen[op+" "+strconv.Itoa(ex.resp.Code)] = true
		})
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				key := op.OperationID + " " + status
				_, excused := unexercised[key]
				switch {
				case !seen[key] && !excused:
					t.Errorf("%s %s (%s): documented status %s is never exercised", method, path, op.OperationID, status)
				case seen[key] && excused:
					t.Errorf("%s is exercised now: drop it from unexercised", key)
				}
			}
		}
	}
}

// kupeSpecName names Kupe's document in errors; its bytes are contracts.KupeVoiceAgent.
const kupeSpecName = "kupe-voice-agent.openapi.yaml"

var (
	kupeOnce sync.Once
	kupe     *apiSpec
	kupeErr  error
)

// kupeSpec loads Kupe's document. It says openapi 3.1.0 but writes its schemas in 3.0's
// dialect: `nullable: true` (31 times) and no keyword of 3.1's own. Read as 3.1, kin-openapi
// ignores nullable and refuses the nulls Kupe documents (MeResponse.phone), so the document is
// read as 3.0.3: its webhooks (3.1 only, and nothing this service answers) are dropped, and its
// server is dropped so that any host matches.
func kupeSpec(t testing.TB) *apiSpec {
	t.Helper()
	path := kupeSpecName
	kupeOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(contracts.KupeVoiceAgent)
		if err != nil {
			kupeErr = fmt.Errorf("load %s: %w", path, err)
			return
		}
		if !doc.IsOpenAPI31OrLater() {
			kupeErr = fmt.Errorf("%s is openapi %s now: drop the 3.0 reading in kupeSpec", path, doc.OpenAPI)
			return
		}
		if uses := schemas31(doc); len(uses) > 0 {
			kupeErr = fmt.Errorf("%s uses 3.1 schema keywords (%s): it can no longer be read as 3.0", path, strings.Join(uses, ", "))
			return
		}
		doc.OpenAPI, doc.Webhooks, doc.Servers = "3.0.3", nil, nil
		// Kupe's examples use ids such as "uuid-of-agent"; they are not what is checked here.
		router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
		if err != nil {
			kupeErr = fmt.Errorf("%s read as 3.0.3: %w", path, err)
			return
		}
		kupe = &apiSpec{doc: doc, router: router}
	})
	if kupeErr != nil {
		t.Fatal(kupeErr)
	}
	return kupe
}

// schemas31 lists the schemas of doc's operations and components that use a keyword which 3.0
// does not have, or reads otherwise.
func schemas31(doc *openapi3.T) []string {
	var uses []string
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Type.Slice()) > 1 || s.Const != nil || len(s.Examples) > 0 || len(s.PrefixItems) > 0 ||
			s.Always != nil || len(s.Defs) > 0 || s.If != nil || len(s.PatternProperties) > 0 {
			uses = append(uses, where)
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Items)
		walk(where+"{}", s.AdditionalProperties.Schema)
		for _, list := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
			for i, alt := range list {
				walk(where+"/"+strconv.Itoa(i), alt)
			}
		}
	}
	for name, s := range doc.Components.Schemas {
		walk(name, s)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, r := range op.Responses.Map() {
				for mt, c := range r.Value.Content {
					walk(method+" "+path+" "+status+" "+mt, c.Schema)
				}
			}
		}
	}
	sort.Strings(uses)
	return uses
}

// Kupe's operationIds name the operations this service shares with Kupe.
func TestOperationIDsAreKupes(t *testing.T) {
	ours, theirs := ourSpec(t).doc, kupeSpec(t).doc
	shared := 0
	for path, item := range ours.Paths.Map() {
		kItem := theirs.Paths.Find(path)
		for method, op := range item.Operations() {
			if kItem == nil || kItem.GetOperation(method) == nil {
				t.Logf("%s %s (%s): this service's own", method, path, op.OperationID)
				continue
			}
			shared++
			if want := kItem.GetOperation(method).OperationID; op.OperationID != want {
				t.Errorf("%s %s: operationId %q, Kupe's is %q", method, path, op.OperationID, want)
			}
		}
	}
	if shared == 0 {
		t.Fatal("no operation in common with Kupe's document")
	}
}

// kupeDisagreements are responses where Kupe's schema and Kupe's own prose part ways and this
// service follows the prose; each must still be refused by Kupe's schema, or be dropped from here.
var kupeDisagreements = map[string]string{}

// (d) For each operation this service shares with Kupe, Kupe's document accepts the responses,
// for every status Kupe documents.
func TestResponsesMatchKupeDocument(t *testing.T) {
	k := kupeSpec(t)
	ours := ourSpec(t)
	checked := map[string]int{}
	var undocumented []string
	for _, ex := range apiExchanges(t) {
		t.Run(ex.name, func(t *testing.T) {
			route, params, err := k.router.FindRoute(ex.req)
			if err != nil {
				return // not a Kupe operation
			}
			op := route.Operation
			key := fmt.Sprintf("%s %d", op.OperationID, ex.resp.Code)
			if op.Responses.Status(ex.resp.Code) == nil && op.Responses.Default() == nil {
				if !slices.Contains(undocumented, key) {
					undocumented = append(undocumented, key)
				}
				return
			}
			err = validateResponse(route, params, ex.req, ex.resp)
			if why, ok := kupeDisagreements[key]; ok {
				if err == nil {
					t.Errorf("Kupe's document accepts %s now (%s): drop it from kupeDisagreements", key, why)
				}
				return
			}
			if err != nil {
				t.Errorf("%s %s (%s) → %d does not match Kupe's document:\n%v\nbody: %s",
					ex.req.Method, ex.req.URL.Path, op.OperationID, ex.resp.Code, err, specTruncate(ex.resp.Body.String()))
			}
			checked[op.OperationID]++
		})
	}
	slices.Sort(undocumented)
	t.Logf("not checked against Kupe, which documents no such status: %s", strings.Join(undocumented, ", "))
	// Each operation shared with Kupe is checked at least once.
	for path, item := range ours.doc.Paths.Map() {
		kItem := k.doc.Paths.Find(path)
		for method, op := range item.Operations() {
			if kItem != nil && kItem.GetOperation(method) != nil && checked[op.OperationID] == 0 {
				t.Errorf("%s %s (%s): no response was checked against Kupe's document", method, path, op.OperationID)
			}
		}
	}
}

// The /docs page is one self-contained HTML document: it shows every operation and schema, and
// loads nothing (no script, no style sheet, no image, no font) from anywhere.
func TestAPIReferencePage(t *testing.T) {
	doc := ourSpec(t).doc
	r := newRig(t)
	w := r.get("/docs", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none';") {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
	root, err := html.Parse(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]*html.Node{}
	var hrefs, styles []string
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "script", "link", "img", "iframe", "object", "embed", "base", "form":
			t.Errorf("the page has a <%s> element", n.Data)
		case "style":
			if n.FirstChild != nil {
				styles = append(styles, n.FirstChild.Data)
			}
		}
		for _, at := range n.Attr {
			switch at.Key {
			case "id":
				if ids[at.Val] != nil {
					t.Errorf("id %q twice", at.Val)
				}
				ids[at.Val] = n
			case "href":
				hrefs = append(hrefs, at.Val)
			case "src", "srcset", "style", "action":
				t.Errorf("<%s %s=%q>", n.Data, at.Key, at.Val)
			}
		}
	}
	for _, h := range hrefs {
		if h == "/openapi.json" {
			continue
		}
		if !strings.HasPrefix(h, "#") || ids[strings.TrimPrefix(h, "#")] == nil {
			t.Errorf("link %q leads nowhere on the page", h)
		}
	}
	// The Content-Security-Policy lets exactly the page's style in.
	if len(styles) != 1 {
		t.Fatalf("%d <style> elements, want 1", len(styles))
	}
	sum := sha256.Sum256([]byte(styles[0]))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("Content-Security-Policy %q does not allow the page's style (%s)", csp, want)
	}

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n := ids["op-"+op.OperationID]
			if n == nil {
				t.Errorf("%s %s: no section op-%s", method, path, op.OperationID)
				continue
			}
			text := nodeText(n)
			if !strings.Contains(text, method+" "+path) {
				t.Errorf("section op-%s does not show %q", op.OperationID, method+" "+path)
			}
			for _, p := range op.Parameters {
				if !strings.Contains(text, p.Value.Name) {
					t.Errorf("section op-%s does not show parameter %s", op.OperationID, p.Value.Name)
				}
			}
			for status := range op.Responses.Map() {
				if !strings.Contains(text, status) {
					t.Errorf("section op-%s does not show response %s", op.OperationID, status)
				}
			}
		}
	}
	for name, s := range doc.Components.Schemas {
		n := ids["schema-"+name]
		if n == nil {
			t.Errorf("schema %s: no section", name)
			continue
		}
		text := nodeText(n)
		for prop := range s.Value.Properties {
			if !strings.Contains(text, prop) {
				t.Errorf("schema %s: field %s not shown", name, prop)
			}
		}
	}
	// Text from the document is escaped, not markup: the 200 of create_call says `status: success`.
	if !strings.Contains(w.Body.String(), "<code>status: success</code>") {
		t.Error("inline code in a description is not rendered")
	}
}

// nodeText is the text under n, with runs of white space made one space.
func nodeText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// The checks above would catch drift: an undocumented field, status, content type or missing
// header is refused by our document, and a create_call answer Kupe does not know by Kupe's.
func TestSpecValidationCatchesDrift(t *testing.T) {
	ours, k := ourSpec(t), kupeSpec(t)
	me := `{"user_id":"0b5a3e4e-9c7e-4f4a-8f0e-1d1b2c3d4e5f","email":null,"phone":null,"profile_image_url":null,` +
		`"auth":"api_key","full_name":null,"user_metadata":null`
	respond := func(status int, contentType, body string, requestID bool) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		if requestID {
			w.Header().Set("X-Request-Id", "abc-1")
		}
		w.WriteHeader(status)
		w.WriteString(body)
		return w
	}
	check := func(s *apiSpec, req *http.Request, w *httptest.ResponseRecorder) error {
		route, params, err := s.router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		return validateResponse(route, params, req, w)
	}
	meReq := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	if err := check(ours, meReq, respond(200, "application/json", me+"}", true)); err != nil {
		t.Fatalf("a good answer is refused: %v", err)
	}
	for name, w := range map[string]*httptest.ResponseRecorder{
		"undocumented field":   respond(200, "application/json", me+`,"plan":"pro"}`, true),
		"wrong type":           respond(200, "application/json", strings.Replace(me, `"phone":null`, `"phone":5`, 1)+"}", true),
		"undocumented status":  respond(http.StatusTeapot, "application/json", `{"detail":"x"}`, true),
		"wrong content type":   respond(200, "text/plain", me+"}", true),
		"no X-Request-Id":      respond(200, "application/json", me+"}", false),
		"error beside detail":  respond(401, "application/json", `{"detail":"x","code":401}`, true),
		"error without detail": respond(401, "application/json", `{"message":"x"}`, true),
	} {
		if err := check(ours, meReq, w); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	callReq := httptest.NewRequest(http.MethodPost, callURL("phoneNumber", destination), nil)
	queued := `{"status":"queued","request_id":"0b5a3e4e-9c7e-4f4a-8f0e-1d1b2c3d4e5f",` +
		`"call_session_id":"0b5a3e4e-9c7e-4f4a-8f0e-1d1b2c3d4e5f","user_id":"0b5a3e4e-9c7e-4f4a-8f0e-1d1b2c3d4e5f",` +
		`"telephony_provider":"pstn","target_number":"+14155550123"}`
	if err := check(k, callReq, respond(200, "application/json", queued, true)); err == nil {
		t.Error("Kupe's document accepts a create_call status it does not have")
	}
	if err := check(k, callReq, respond(200, "application/json", strings.Replace(queued, "queued", "success", 1), true)); err != nil {
		t.Errorf("Kupe's document refuses a good create_call answer: %v", err)
	}
}
