package ocppgen

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// goType is a named Go type: a payload struct, a nested struct or an enum.
type goType struct {
	Name    string
	Node    *node
	Doc     string
	Message *message    // set for payload structs
	Fields  []*goField  // structs
	Consts  []enumConst // enums
}

func (t *goType) isEnum() bool { return t.Node.isEnum() }

// hasExtra reports whether the struct keeps properties it does not know
// (CustomData) and so needs its own JSON methods.
func (t *goType) hasExtra() bool { return !t.isEnum() && t.Node.Additional }

type goField struct {
	Name      string
	Prop      *prop
	Type      string
	OmitEmpty bool
	Comment   string
}

type enumConst struct{ Name, Value string }

// action pairs the payload types of one action.
type action struct {
	Name              string
	Request, Response *goType // Response is nil for a SEND
}

// model is everything the emitter needs for one OCPP version.
type model struct {
	version  Version
	actions  []*action // by name
	payloads []*goType // by name
	types    []*goType // nested structs and enums, by name
	idents   map[string]string
	renamed  map[string]bool // TypeNames keys used
}

// buildModel names every Go type and field of a parsed schema file.
func buildModel(f *schemaFile, v Version) (*model, error) {
	m := &model{version: v, idents: map[string]string{}, renamed: map[string]bool{}}
	for _, reserved := range []string{"Actions", "marshalWithExtra"} {
		m.idents[reserved] = "generated identifier"
	}
	if err := m.addPayloads(f); err != nil {
		return nil, err
	}
	for _, name := range f.DefOrder {
		n := f.Defs[name]
		if n.Kind != kindObject && !n.isEnum() {
			continue // plain values are inlined where used
		}
		what := "object"
		if n.isEnum() {
			what = "enumeration"
		}
		doc := fmt.Sprintf("is the %s %s of %s.", name, what, v.Title)
		if _, err := m.newType(m.rename(defTypeName(name)), n, doc); err != nil {
			return nil, err
		}
	}
	if err := m.nameInlineTypes(f); err != nil {
		return nil, err
	}
	for from := range v.TypeNames {
		if !m.renamed[from] {
			return nil, fmt.Errorf("type rename %s: no type has that name", from)
		}
	}
	for _, t := range append(slices.Clone(m.payloads), m.types...) {
		var err error
		if t.isEnum() {
			err = m.addConsts(t)
		} else {
			err = m.addFields(t)
		}
		if err != nil {
			return nil, err
		}
	}
	byName := func(a, b *goType) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(m.payloads, byName)
	slices.SortFunc(m.types, byName)
	slices.SortFunc(m.actions, func(a, b *action) int { return cmp.Compare(a.Name, b.Name) })
	return m, nil
}

func (m *model) claim(ident, what string) error {
	if prev, ok := m.idents[ident]; ok {
		return fmt.Errorf("name %s is used for both %s and %s", ident, prev, what)
	}
	m.idents[ident] = what
	return nil
}

func (m *model) rename(name string) string {
	if to, ok := m.version.TypeNames[name]; ok {
		m.renamed[name] = true
		return to
	}
	return name
}

func (m *model) newType(name string, n *node, doc string) (*goType, error) {
	if err := m.claim(name, "type "+doc); err != nil {
		return nil, err
	}
	t := &goType{Name: name, Node: n, Doc: name + " " + doc}
	n.goType = t
	m.types = append(m.types, t)
	return t, nil
}

func (m *model) addPayloads(f *schemaFile) error {
	byName := map[string]*action{}
	for _, msg := range f.Messages {
		a := byName[msg.Action]
		if a == nil {
			a = &action{Name: msg.Action}
			byName[msg.Action] = a
			m.actions = append(m.actions, a)
		}
		t := &goType{Node: msg.Root, Message: msg}
		if msg.Request {
			t.Name = msg.Action + "Request"
			t.Doc = fmt.Sprintf("%s is the payload of the %s request (a CALL).", t.Name, msg.Action)
			a.Request = t
		} else {
			t.Name = msg.Action + "Response"
			t.Doc = fmt.Sprintf("%s is the payload of the %s response (a CALLRESULT).", t.Name, msg.Action)
			a.Response = t
		}
		if err := m.claim(t.Name, msg.ID); err != nil {
			return err
		}
		msg.Root.goType = t
		m.payloads = append(m.payloads, t)
	}
	for _, a := range m.actions {
		switch {
		case a.Request == nil:
			return fmt.Errorf("action %s has a response but no request schema", a.Name)
		case a.Response == nil:
			a.Request.Doc = fmt.Sprintf("%s is the payload of the %s message, which is sent as a SEND and has no response.", a.Request.Name, a.Name)
		}
	}
	return nil
}

// nameInlineTypes names the objects and enums that are written inline
// rather than as definitions (all of them in OCPP 1.6). A type is named
// after its property (singular for array elements). When the same name
// would stand for different shapes, each is prefixed with the name of the
// type that holds it. Identical objects share one type, whatever their
// property; identical enums share one type when their names agree.
func (m *model) nameInlineTypes(f *schemaFile) error {
	// First pass: which shapes does each candidate name stand for?
	shapes := map[string]map[string]bool{}
	walkInline(f, func(n *node, base, _, _ string) {
		if shapes[base] == nil {
			shapes[base] = map[string]bool{}
		}
		shapes[base][shapeKey(n)] = true
	})

	// Second pass, top down so that holders are named before their parts.
	byShape := map[string]*goType{}
	byName := map[string]*goType{}
	var err error
	walkInline(f, func(n *node, base, propName, owner string) {
		if err != nil {
			return
		}
		// Objects of one shape share a type whatever their name.
		key := shapeKey(n)
		if t := byShape[key]; t != nil && !n.isEnum() {
			n.goType = t
			return
		}
		name, where := base, "OCPP "+m.version.Name+" messages"
		if len(shapes[base]) > 1 {
			name, where = owner+base, owner
		}
		name = m.rename(name)
		// Enums share a type only when their names agree too: equal
		// values do not make equal meanings. Renames may join names, like
		// the two responses with RemoteStartStopStatus.
		if t := byName[name]; t != nil && shapeKey(t.Node) == key {
			if !strings.Contains(t.Doc, " "+where) {
				t.Doc = strings.TrimSuffix(t.Doc, ".") + " and " + where + "."
			}
			n.goType = t
			return
		}
		what := "object"
		if n.isEnum() {
			what = "enumeration"
		}
		var t *goType
		t, err = m.newType(name, n, fmt.Sprintf("is the %s %s of %s.", propName, what, where))
		if !n.isEnum() {
			byShape[key] = t
		}
		byName[name] = t
	})
	return err
}

// walkInline calls visit for every inline object or enum below a property,
// depth first in schema order, with the candidate name of its type, the
// property name it comes from (singular for array elements) and the name of
// the Go type that holds it. Definitions are visited once.
func walkInline(f *schemaFile, visit func(n *node, base, propName, owner string)) {
	seen := map[*node]bool{}
	var walk func(n *node)
	walk = func(n *node) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, p := range n.Props {
			elem, inArray := p.Node, false
			for elem.Kind == kindArray && elem.Items != nil {
				elem, inArray = elem.Items, true
			}
			if elem.Def == "" && (elem.Kind == kindObject || elem.isEnum()) && !seen[elem] {
				base := p.Name
				if inArray {
					base = singular(base)
				}
				owner := ""
				if n.goType != nil {
					owner = n.goType.Name
				}
				visit(elem, goName(base), base, owner)
			}
			walk(elem)
		}
	}
	for _, msg := range f.Messages {
		walk(msg.Root)
	}
}

// addConsts names the constants of an enum: type name + value.
func (m *model) addConsts(t *goType) error {
	names := map[string]bool{}
	for _, v := range t.Node.Enum {
		name := t.Name + enumValueName(v)
		if names[name] || m.idents[name] != "" {
			// Another value with the same letters, e.g. "L1-N" and
			// "L1N": keep the punctuation as underscores.
			name = t.Name + "_" + strings.Map(func(r rune) rune {
				if isIdent(string(r)) || ('0' <= r && r <= '9') {
					return r
				}
				return '_'
			}, v)
		}
		if names[name] {
			return fmt.Errorf("enum %s: values %q collide as %s", t.Name, v, name)
		}
		names[name] = true
		if err := m.claim(name, "a value of "+t.Name); err != nil {
			return err
		}
		t.Consts = append(t.Consts, enumConst{Name: name, Value: v})
	}
	return nil
}

// addFields derives the struct fields of an object type.
func (m *model) addFields(t *goType) error {
	reserved := map[string]bool{}
	if t.Message != nil {
		reserved["Action"] = true // the method
	}
	if t.hasExtra() {
		reserved["Extra"] = true
		reserved["MarshalJSON"] = true
		reserved["UnmarshalJSON"] = true
	}
	used := map[string]bool{}
	for _, p := range t.Node.Props {
		name := goName(p.Name)
		if reserved[name] {
			// E.g. the "action" of Get15118EVCertificate.req: name it
			// after its type (CertificateAction) or add "Value".
			name += "Value"
			if et := elemType(p.Node); et != nil {
				if alt := strings.TrimSuffix(et.Name, "Enum"); !reserved[alt] {
					name = alt
				}
			}
		}
		if !isIdent(name) || used[name] {
			return fmt.Errorf("%s: property %q gives the field name %s twice or invalid", t.Name, p.Name, name)
		}
		used[name] = true
		typ, omit := fieldType(p)
		t.Fields = append(t.Fields, &goField{Name: name, Prop: p, Type: typ, OmitEmpty: omit, Comment: constraints(p.Node)})
	}
	return nil
}

// elemType is the named type of a property or of its array elements.
func elemType(n *node) *goType {
	for n.Kind == kindArray && n.Items != nil {
		n = n.Items
	}
	return n.goType
}

// fieldType chooses the Go type of a property. Required properties are
// plain values. Optional ones are omitted when empty: strings, enums,
// slices and raw JSON by their zero value, others through a pointer.
func fieldType(p *prop) (typ string, omitEmpty bool) {
	typ = valueType(p.Node)
	if p.Required {
		return typ, false
	}
	n := p.Node
	switch {
	case n.Kind == kindArray, n.Kind == kindAny:
	case n.Kind == kindString && n.Format != "date-time":
	default:
		typ = "*" + typ
	}
	return typ, true
}

func valueType(n *node) string {
	if n.goType != nil {
		return n.goType.Name
	}
	switch n.Kind {
	case kindString:
		if n.Format == "date-time" {
			return "time.Time"
		}
		return "string"
	case kindInteger:
		return "int"
	case kindNumber:
		return "float64"
	case kindBoolean:
		return "bool"
	case kindArray:
		if n.Items == nil {
			return "[]json.RawMessage"
		}
		return "[]" + valueType(n.Items)
	}
	return "json.RawMessage" // no type: any JSON value
}

// constraints summarizes the rules of a property that its Go type does not
// show, for a field comment: "maxLength 20", "minItems 1, maxItems 4".
func constraints(n *node) string {
	var parts []string
	add := func(keyword string, set bool, value any) {
		if set {
			parts = append(parts, fmt.Sprint(keyword, " ", value))
		}
	}
	prefix := ""
	for n != nil {
		if n.goType != nil {
			break // the named type documents itself
		}
		add(prefix+"minItems", n.MinItems != nil, deref(n.MinItems))
		add(prefix+"maxItems", n.MaxItems != nil, deref(n.MaxItems))
		add(prefix+"minLength", n.MinLength != nil, deref(n.MinLength))
		add(prefix+"maxLength", n.MaxLength != nil, deref(n.MaxLength))
		add(prefix+"format", n.Format == "uri", n.Format)
		add(prefix+"minimum", n.Minimum != "", n.Minimum)
		add(prefix+"maximum", n.Maximum != "", n.Maximum)
		add(prefix+"multipleOf", n.MultipleOf != "", n.MultipleOf)
		if n.Kind != kindArray {
			break
		}
		n, prefix = n.Items, "items "
	}
	return strings.Join(parts, ", ")
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
