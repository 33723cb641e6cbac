package call

import "strings"

// Render fills {{key}} placeholders (spaces inside the braces allowed: {{ key }}) with vars.
// A placeholder with no value is left as it is, so a missing variable shows instead of vanishing.
func Render(tpl string, vars map[string]string) string {
	if len(vars) == 0 || !strings.Contains(tpl, "{{") {
		return tpl
	}
	var b strings.Builder
	b.Grow(len(tpl))
	for {
		open := strings.Index(tpl, "{{")
		if open < 0 {
			break
		}
		end := strings.Index(tpl[open+2:], "}}")
		if end < 0 {
			break
		}
		key := strings.TrimSpace(tpl[open+2 : open+2+end])
		v, ok := vars[key]
		b.WriteString(tpl[:open])
		if ok {
			b.WriteString(v)
		} else {
			b.WriteString(tpl[open : open+4+end])
		}
		tpl = tpl[open+4+end:]
	}
	b.WriteString(tpl)
	return b.String()
}
