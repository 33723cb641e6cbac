package httpapi

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// This file renders an OpenAPI document as the /docs page: operations grouped by tag, each with
// its parameters, request body and responses, and a table per schema. The page is one HTML
// document with its style inline, no script and no link to another host.

// maxFieldDepth bounds how deep nested inline objects are unfolded into a schema table.
const maxFieldDepth = 4

var methodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"}

type referenceView struct {
	Title       string
	Version     string
	OpenAPI     string
	Description template.HTML
	CSS         template.CSS
	Security    []securityView
	Tags        []tagView
	Schemas     []namedSchemaView
}

type securityView struct {
	Name        string
	Kind        string
	Description template.HTML
}

type tagView struct {
	Name        string
	Anchor      string
	Description template.HTML
	Operations  []operationView
}

type operationView struct {
	ID          string
	Anchor      string
	Method      string
	Path        string
	Summary     string
	Description template.HTML
	Auth        string
	Parameters  []paramView
	Body        *bodyView
	Responses   []responseView
}

type paramView struct {
	Name        string
	In          string
	Type        template.HTML
	Required    bool
	Description template.HTML
	Notes       string
}

type bodyView struct {
	Required    bool
	Description template.HTML
	Content     []mediaView
}

type mediaView struct {
	MediaType string
	Schema    schemaView
}

type responseView struct {
	Status      string
	Class       string
	Description template.HTML
	Headers     []paramView
	Content     []mediaView
}

type namedSchemaView struct {
	Name   string
	Anchor string
	Schema schemaView
}

// schemaView is one schema: its type, and the table of its fields when it has any.
type schemaView struct {
	Type        template.HTML
	Description template.HTML
	Notes       string
	Rows        []fieldRow
	// Alternatives are the schemas of a oneOf or anyOf, each shown in full.
	Alternatives []schemaView
}

type fieldRow struct {
	Name        string
	Depth       int
	Type        template.HTML
	Required    bool
	Description template.HTML
	Notes       string
}

var referenceTmpl = template.Must(template.New("reference").Parse(referenceTemplate))

// renderReference writes the reference page of doc, with css as its style sheet.
func renderReference(w io.Writer, doc *openapi3.T, css string) error {
	v := referenceView{
		OpenAPI: doc.OpenAPI,
		CSS:     template.CSS(css),
	}
	if doc.Info != nil {
		v.Title, v.Version, v.Description = doc.Info.Title, doc.Info.Version, markdown(doc.Info.Description)
	}
	if doc.Components != nil {
		for _, name := range sortedKeys(doc.Components.SecuritySchemes) {
			ss := doc.Components.SecuritySchemes[name].Value
			if ss == nil {
				continue
			}
			v.Security = append(v.Security, securityView{Name: name, Kind: securityKind(ss), Description: markdown(ss.Description)})
		}
		for _, name := range sortedKeys(doc.Components.Schemas) {
			v.Schemas = append(v.Schemas, namedSchemaView{Name: name, Anchor: schemaAnchor(name),
				Schema: newSchemaView(doc.Components.Schemas[name], true)})
		}
	}
	v.Tags = operationsByTag(doc)
	if err := referenceTmpl.Execute(w, v); err != nil {
		return fmt.Errorf("render api reference: %w", err)
	}
	return nil
}

// operationsByTag groups the operations under their first tag, in the document's tag order;
// operations with an unlisted tag or none come last. Within a tag they go by path, then method.
func operationsByTag(doc *openapi3.T) []tagView {
	var tags []tagView
	index := map[string]int{}
	for _, t := range doc.Tags {
		index[t.Name] = len(tags)
		tags = append(tags, tagView{Name: t.Name, Anchor: "tag-" + slug(t.Name), Description: markdown(t.Description)})
	}
	if doc.Paths == nil {
		return tags
	}
	paths := doc.Paths.Map()
	for _, path := range sortedKeys(paths) {
		item := paths[path]
		ops := item.Operations()
		for _, method := range methodOrder {
			op, ok := ops[method]
			if !ok {
				continue
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			i, ok := index[tag]
			if !ok {
				i = len(tags)
				index[tag] = i
				tags = append(tags, tagView{Name: tag, Anchor: "tag-" + slug(tag)})
			}
			tags[i].Operations = append(tags[i].Operations, newOperationView(doc, path, method, item, op))
		}
	}
	return slices.DeleteFunc(tags, func(t tagView) bool { return len(t.Operations) == 0 })
}

func newOperationView(doc *openapi3.T, path, method string, item *openapi3.PathItem, op *openapi3.Operation) operationView {
	v := operationView{
		ID:          op.OperationID,
		Anchor:      operationAnchor(op.OperationID, method, path),
		Method:      method,
		Path:        path,
		Summary:     op.Summary,
		Description: markdown(op.Description),
		Auth:        authLabel(doc, op),
	}
	for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
		if p.Value != nil {
			v.Parameters = append(v.Parameters, newParamView(p.Value.Name, p.Value))
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		v.Body = &bodyView{Required: rb.Value.Required, Description: markdown(rb.Value.Description),
			Content: newMediaViews(rb.Value.Content, true)}
	}
	if op.Responses != nil {
		responses := op.Responses.Map()
		statuses := sortedKeys(responses)
		slices.SortStableFunc(statuses, func(a, b string) int { return statusRank(a) - statusRank(b) })
		for _, status := range statuses {
			r := responses[status].Value
			if r == nil {
				continue
			}
			rv := responseView{Status: status, Class: status[:1] + "xx",
				Content: newMediaViews(r.Content, strings.HasPrefix(status, "2"))}
			if r.Description != nil {
				rv.Description = markdown(*r.Description)
			}
			for _, name := range sortedKeys(r.Headers) {
				if h := r.Headers[name].Value; h != nil {
					rv.Headers = append(rv.Headers, newParamView(name, &h.Parameter))
				}
			}
			v.Responses = append(v.Responses, rv)
		}
	}
	return v
}

func newParamView(name string, p *openapi3.Parameter) paramView {
	v := paramView{Name: name, In: p.In, Required: p.Required, Description: markdown(p.Description),
		Type: typeLabel(p.Schema)}
	if p.Schema != nil && p.Schema.Value != nil {
		v.Notes = constraints(p.Schema.Value)
	}
	if p.Example != nil {
		v.Notes = joinNotes(v.Notes, "example: "+literal(p.Example))
	}
	return v
}

func newMediaViews(content openapi3.Content, expand bool) []mediaView {
	var out []mediaView
	for _, mt := range sortedKeys(content) {
		out = append(out, mediaView{MediaType: mt, Schema: newSchemaView(content[mt].Schema, expand)})
	}
	return out
}

// newSchemaView describes ref. A reference to a named schema is a link to its table; with
// expand, the table is shown here too.
func newSchemaView(ref *openapi3.SchemaRef, expand bool) schemaView {
	return schemaViewAt(ref, expand, true)
}

// schemaViewAt is newSchemaView; withAlternatives shows a oneOf's schemas (one level only, so
// that schemas which name each other cannot loop).
func schemaViewAt(ref *openapi3.SchemaRef, expand, withAlternatives bool) schemaView {
	v := schemaView{Type: typeLabel(ref)}
	if ref == nil || ref.Value == nil || (ref.Ref != "" && !expand) {
		return v
	}
	s := ref.Value
	if ref.Ref == "" {
		v.Description = markdown(s.Description)
	}
	v.Notes = constraints(s)
	if withAlternatives {
		for _, alt := range append(slices.Clone(s.OneOf), s.AnyOf...) {
			v.Alternatives = append(v.Alternatives, schemaViewAt(alt, true, false))
		}
	}
	v.Rows = fieldRows(s, "", 0, nil)
	if len(v.Rows) == 0 && s.Type.Is(openapi3.TypeArray) && s.Items != nil && s.Items.Ref == "" && s.Items.Value != nil {
		v.Rows = fieldRows(s.Items.Value, "[].", 0, nil)
	}
	return v
}

// fieldRows lists the properties of s, required ones first, unfolding inline objects (and
// arrays of them) as dotted names.
func fieldRows(s *openapi3.Schema, prefix string, depth int, rows []fieldRow) []fieldRow {
	names := sortedKeys(s.Properties)
	slices.SortStableFunc(names, func(a, b string) int {
		ra, rb := slices.Contains(s.Required, a), slices.Contains(s.Required, b)
		switch {
		case ra == rb:
			return 0
		case ra:
			return -1
		}
		return 1
	})
	for _, name := range names {
		p := s.Properties[name]
		row := fieldRow{Name: prefix + name, Depth: depth, Type: typeLabel(p), Required: slices.Contains(s.Required, name)}
		if p.Value != nil {
			row.Description, row.Notes = markdown(p.Value.Description), constraints(p.Value)
		}
		rows = append(rows, row)
		if p.Ref != "" || p.Value == nil || depth+1 >= maxFieldDepth {
			continue
		}
		switch v := p.Value; {
		case len(v.Properties) > 0:
			rows = fieldRows(v, prefix+name+".", depth+1, rows)
		case v.Items != nil && v.Items.Ref == "" && v.Items.Value != nil && len(v.Items.Value.Properties) > 0:
			rows = fieldRows(v.Items.Value, prefix+name+"[].", depth+1, rows)
		}
	}
	return rows
}

// typeLabel is a short type: "string (uuid) or null", "array of CallSession" with a link to a
// named schema, "one of A | B".
func typeLabel(ref *openapi3.SchemaRef) template.HTML {
	if ref == nil {
		return "any"
	}
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		return template.HTML(`<a href="#` + html.EscapeString(schemaAnchor(name)) + `">` + html.EscapeString(name) + `</a>`)
	}
	s := ref.Value
	if s == nil {
		return template.HTML(html.EscapeString(ref.Ref))
	}
	var label string
	switch {
	case len(s.OneOf) > 0:
		label = "one of " + joinLabels(s.OneOf)
	case len(s.AnyOf) > 0:
		label = "any of " + joinLabels(s.AnyOf)
	case len(s.AllOf) > 0:
		label = "all of " + joinLabels(s.AllOf)
	case s.Type.Is(openapi3.TypeArray):
		label = "array of " + string(typeLabel(s.Items))
	case s.Type.Is(openapi3.TypeObject) && len(s.Properties) == 0 && s.AdditionalProperties.Schema != nil:
		label = "map of " + string(typeLabel(s.AdditionalProperties.Schema))
	case s.Type == nil || len(s.Type.Slice()) == 0:
		label = "any"
	default:
		label = html.EscapeString(strings.Join(s.Type.Slice(), " or "))
		if s.Format != "" {
			label += " (" + html.EscapeString(s.Format) + ")"
		}
	}
	if s.Nullable {
		label += " or null"
	}
	return template.HTML(label)
}

func joinLabels(refs openapi3.SchemaRefs) string {
	parts := make([]string, 0, len(refs))
	for _, r := range refs {
		parts = append(parts, string(typeLabel(r)))
	}
	return strings.Join(parts, " | ")
}

// constraints names the limits of s that its type label does not show.
func constraints(s *openapi3.Schema) string {
	var notes []string
	if len(s.Enum) > 0 {
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			vals = append(vals, literal(e))
		}
		notes = append(notes, "one of "+strings.Join(vals, ", "))
	}
	if s.Min != nil {
		notes = append(notes, "minimum "+number(*s.Min))
	}
	if s.Max != nil {
		notes = append(notes, "maximum "+number(*s.Max))
	}
	if s.MinLength > 0 {
		notes = append(notes, "at least "+strconv.FormatUint(s.MinLength, 10)+" characters")
	}
	if s.MaxLength != nil {
		notes = append(notes, "at most "+strconv.FormatUint(*s.MaxLength, 10)+" characters")
	}
	if s.MaxProps != nil {
		notes = append(notes, "at most "+strconv.FormatUint(*s.MaxProps, 10)+" keys")
	}
	if s.MaxItems != nil {
		notes = append(notes, "at most "+strconv.FormatUint(*s.MaxItems, 10)+" items")
	}
	if s.Pattern != "" {
		notes = append(notes, "pattern "+s.Pattern)
	}
	if s.Default != nil {
		notes = append(notes, "default "+literal(s.Default))
	}
	if s.Example != nil && len(s.Properties) == 0 && !s.Type.Is(openapi3.TypeObject) {
		notes = append(notes, "example: "+literal(s.Example))
	}
	return strings.Join(notes, "; ")
}

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// literal shows a value from the document as JSON, so that a string is told from a number.
func literal(v any) string {
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func securityKind(ss *openapi3.SecurityScheme) string {
	switch ss.Type {
	case "apiKey":
		return "API key in the " + ss.In + " " + ss.Name
	case "http":
		kind := "HTTP " + ss.Scheme
		if ss.BearerFormat != "" {
			kind += " (" + ss.BearerFormat + ")"
		}
		return kind
	}
	return ss.Type
}

// authLabel says which credentials an operation takes: the alternatives joined by "or", the
// schemes one alternative needs together by "and".
func authLabel(doc *openapi3.T, op *openapi3.Operation) string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var alts []string
	for _, r := range reqs {
		if len(r) == 0 {
			return "none"
		}
		alts = append(alts, strings.Join(sortedKeys(r), " and "))
	}
	if len(alts) == 0 {
		return "none"
	}
	return strings.Join(alts, " or ")
}

func statusRank(status string) int {
	if n, err := strconv.Atoi(status); err == nil {
		return n
	}
	if len(status) == 3 && strings.HasSuffix(status, "XX") {
		n, _ := strconv.Atoi(status[:1])
		return n*100 + 99
	}
	return 1000 // default
}

func schemaAnchor(name string) string { return "schema-" + name }

func operationAnchor(id, method, path string) string {
	if id != "" {
		return "op-" + id
	}
	return "op-" + strings.ToLower(method) + slug(path)
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var (
	mdCode   = regexp.MustCompile("`([^`]+)`")
	mdStrong = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// markdown renders the little Markdown the document's descriptions use: paragraphs, "- " lists,
// `code` and **bold**. Everything else is text; the input is escaped before any tag is added.
func markdown(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, block := range strings.Split(s, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if !strings.HasPrefix(lines[0], "- ") {
			b.WriteString("<p>")
			b.WriteString(inlineMarkdown(strings.Join(lines, " ")))
			b.WriteString("</p>")
			continue
		}
		b.WriteString("<ul>")
		var item []string
		flush := func() {
			if len(item) > 0 {
				b.WriteString("<li>" + inlineMarkdown(strings.Join(item, " ")) + "</li>")
				item = item[:0]
			}
		}
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if rest, ok := strings.CutPrefix(l, "- "); ok {
				flush()
				l = rest
			}
			item = append(item, l)
		}
		flush()
		b.WriteString("</ul>")
	}
	return template.HTML(b.String())
}

func inlineMarkdown(s string) string {
	s = html.EscapeString(s)
	s = mdCode.ReplaceAllString(s, "<code>$1</code>")
	return mdStrong.ReplaceAllString(s, "<strong>$1</strong>")
}
