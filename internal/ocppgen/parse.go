package ocppgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// kind is the JSON type of a schema node.
type kind uint8

const (
	kindAny kind = iota
	kindObject
	kindArray
	kindString
	kindInteger
	kindNumber
	kindBoolean
)

var kindNames = map[string]kind{
	"object":  kindObject,
	"array":   kindArray,
	"string":  kindString,
	"integer": kindInteger,
	"number":  kindNumber,
	"boolean": kindBoolean,
}

// node is a schema node with $refs resolved. Nodes of definitions are shared
// by every place that refers to them.
type node struct {
	Kind kind
	// Def is the definition name ("IdTokenType") of a node that came from
	// a $ref; "" for inline nodes.
	Def string

	Props      []*prop // in schema order
	Required   []string
	Additional bool // additionalProperties is not false

	Items                *node
	MinItems, MaxItems   *int
	MinLength, MaxLength *int
	Enum                 []string
	Format               string
	// Numeric bounds as JSON number text; "" when unset.
	Minimum, Maximum, MultipleOf string

	// goType is the named Go type of an object or enum node.
	goType *goType
}

type prop struct {
	Name     string
	Node     *node
	Required bool
}

func (n *node) isEnum() bool { return n.Kind == kindString && len(n.Enum) > 0 }

// message is one payload schema of the file.
type message struct {
	ID      string // "urn:Authorize.req"
	Action  string // "Authorize"
	Request bool   // a CALL (or SEND) payload rather than a CALLRESULT
	Root    *node
}

// schemaFile is a parsed schema file.
type schemaFile struct {
	Messages []*message       // in file order
	Defs     map[string]*node // by definition name
	DefOrder []string         // definition names in order of first use
}

// keywords the OCPP schemas use that do not affect validation.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "comment": true,
	"description": true, "javaType": true, "default": true, "title": true,
}

// parseFile parses a JSON array of draft-07 message schemas.
func parseFile(data []byte) (*schemaFile, error) {
	v, err := decodeOrdered(data)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("schema file is not a JSON array")
	}
	f := &schemaFile{Defs: map[string]*node{}}
	seen := map[string]bool{}
	for i, item := range list {
		obj, ok := item.(*object)
		if !ok {
			return nil, fmt.Errorf("schema %d is not an object", i)
		}
		id, _ := obj.get("$id").(string)
		msg, err := messageOf(id)
		if err != nil {
			return nil, fmt.Errorf("schema %d: %w", i, err)
		}
		key := msg.Action + strconv.FormatBool(msg.Request)
		if seen[key] {
			return nil, fmt.Errorf("%s: duplicate schema", id)
		}
		seen[key] = true
		p := &parser{file: f, id: id, inProgress: map[string]bool{}}
		if defs := obj.get("definitions"); defs != nil {
			if p.defs, ok = defs.(*object); !ok {
				return nil, fmt.Errorf("%s: definitions is not an object", id)
			}
		}
		if msg.Root, err = p.parse(obj, ""); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		if msg.Root.Kind != kindObject {
			return nil, fmt.Errorf("%s: payload schema is not an object", id)
		}
		f.Messages = append(f.Messages, msg)
	}
	return f, nil
}

// messageOf derives the action from a schema $id: "urn:Authorize.req" and
// "urn:Authorize.conf" (OCPP 1.6, 2.0.1), "urn:AuthorizeRequest" and
// "urn:AuthorizeResponse" (2.1), and "urn:NotifyPeriodicEventStream" for a
// message without response (2.1).
func messageOf(id string) (*message, error) {
	name, ok := strings.CutPrefix(id, "urn:")
	if !ok {
		return nil, fmt.Errorf("unexpected $id %q", id)
	}
	m := &message{ID: id, Request: true}
	switch {
	case strings.HasSuffix(name, ".req"):
		m.Action = strings.TrimSuffix(name, ".req")
	case strings.HasSuffix(name, ".conf"):
		m.Action, m.Request = strings.TrimSuffix(name, ".conf"), false
	case strings.HasSuffix(name, "Request"):
		m.Action = strings.TrimSuffix(name, "Request")
	case strings.HasSuffix(name, "Response"):
		m.Action, m.Request = strings.TrimSuffix(name, "Response"), false
	default:
		m.Action = name
	}
	if !isIdent(m.Action) {
		return nil, fmt.Errorf("$id %q: action %q is not a Go identifier", id, m.Action)
	}
	return m, nil
}

type parser struct {
	file       *schemaFile
	id         string
	defs       *object
	inProgress map[string]bool // definitions being parsed, to catch cycles
}

// parse converts one schema object. at is its location, for errors.
func (p *parser) parse(obj *object, at string) (*node, error) {
	if ref, ok := obj.get("$ref").(string); ok {
		if len(obj.keys) != 1 {
			return nil, fmt.Errorf("%s: $ref with sibling keywords", at)
		}
		return p.ref(ref, at)
	}
	n := &node{}
	for _, key := range obj.keys {
		val := obj.vals[key]
		var err error
		switch key {
		case "type":
			s, _ := val.(string)
			k, ok := kindNames[s]
			if !ok {
				err = fmt.Errorf("unsupported type %v", val)
			}
			n.Kind = k
		case "properties":
			err = p.properties(n, val, at)
		case "required":
			n.Required, err = stringList(val)
		case "additionalProperties":
			b, ok := val.(bool)
			if !ok {
				err = errors.New("additionalProperties is not a boolean")
			}
			n.Additional = b
		case "items":
			item, ok := val.(*object)
			if !ok {
				err = errors.New("items is not a single schema")
				break
			}
			n.Items, err = p.parse(item, at+"/items")
		case "additionalItems":
			// Draft-07 ignores it when items is a single schema, which
			// the "items" case insists on.
		case "minItems":
			n.MinItems, err = count(val)
		case "maxItems":
			n.MaxItems, err = count(val)
		case "minLength":
			n.MinLength, err = count(val)
		case "maxLength":
			n.MaxLength, err = count(val)
		case "enum":
			n.Enum, err = stringList(val)
			if err == nil && len(n.Enum) == 0 {
				err = errors.New("empty enum")
			}
		case "format":
			n.Format, _ = val.(string)
			if n.Format != "date-time" && n.Format != "uri" {
				err = fmt.Errorf("unsupported format %v", val)
			}
		case "minimum":
			n.Minimum, err = number(val)
		case "maximum":
			n.Maximum, err = number(val)
		case "multipleOf":
			n.MultipleOf, err = number(val)
			if err == nil && (strings.HasPrefix(n.MultipleOf, "-") || strings.Trim(n.MultipleOf, "0.eE+-") == "") {
				err = errors.New("multipleOf is not positive")
			}
		case "definitions":
			// Resolved through $ref.
		default:
			if !annotations[key] {
				err = fmt.Errorf("unsupported keyword %q", key)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
	}
	if !obj.has("additionalProperties") {
		n.Additional = true // the draft-07 default
	}
	for _, name := range n.Required {
		i := slices.IndexFunc(n.Props, func(p *prop) bool { return p.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%s: required property %q is not in properties", at, name)
		}
		n.Props[i].Required = true
	}
	return n, p.checkKeywords(n, at)
}

// checkKeywords rejects keywords on the wrong type: they would be ignored by
// JSON Schema, so they are most likely a mistake in the schema or in this
// parser.
func (p *parser) checkKeywords(n *node, at string) error {
	wrong := func(keyword string, set bool, kinds ...kind) error {
		if set && !slices.Contains(kinds, n.Kind) {
			return fmt.Errorf("%s: %s on a node of another type", at, keyword)
		}
		return nil
	}
	return errors.Join(
		wrong("properties", n.Props != nil || n.Required != nil, kindObject),
		wrong("items", n.Items != nil || n.MinItems != nil || n.MaxItems != nil, kindArray),
		wrong("string keywords", n.MinLength != nil || n.MaxLength != nil || n.Enum != nil || n.Format != "", kindString),
		wrong("numeric keywords", n.Minimum != "" || n.Maximum != "" || n.MultipleOf != "", kindInteger, kindNumber),
	)
}

func (p *parser) properties(n *node, val any, at string) error {
	props, ok := val.(*object)
	if !ok {
		return errors.New("properties is not an object")
	}
	for _, name := range props.keys {
		sub, ok := props.vals[name].(*object)
		if !ok {
			return fmt.Errorf("property %q is not a schema", name)
		}
		child, err := p.parse(sub, at+"/"+name)
		if err != nil {
			return err
		}
		n.Props = append(n.Props, &prop{Name: name, Node: child})
	}
	return nil
}

// ref resolves "#/definitions/Name". Definitions are shared across the
// file's schemas by name, provided every schema defines them alike.
func (p *parser) ref(ref, at string) (*node, error) {
	name, ok := strings.CutPrefix(ref, "#/definitions/")
	if !ok || p.defs == nil || !p.defs.has(name) {
		return nil, fmt.Errorf("%s: unresolvable $ref %q", at, ref)
	}
	if p.inProgress[name] {
		return nil, fmt.Errorf("%s: recursive definition %s is not supported", at, name)
	}
	obj, ok := p.defs.get(name).(*object)
	if !ok {
		return nil, fmt.Errorf("definition %s is not a schema", name)
	}
	p.inProgress[name] = true
	n, err := p.parse(obj, "#/definitions/"+name)
	delete(p.inProgress, name)
	if err != nil {
		return nil, err
	}
	n.Def = name
	if prev, ok := p.file.Defs[name]; ok {
		if shapeKey(prev) != shapeKey(n) {
			return nil, fmt.Errorf("definition %s differs from the one in an earlier schema", name)
		}
		return prev, nil
	}
	p.file.Defs[name] = n
	p.file.DefOrder = append(p.file.DefOrder, name)
	return n, nil
}

// shapeKey is a canonical text of a node's validation rules. Nodes with the
// same key are interchangeable. Definitions are keyed by name.
func shapeKey(n *node) string {
	var b strings.Builder
	writeShape(&b, n, true)
	return b.String()
}

func writeShape(b *strings.Builder, n *node, top bool) {
	if n == nil {
		b.WriteString("nil")
		return
	}
	if n.Def != "" && !top {
		b.WriteString("ref:" + n.Def)
		return
	}
	fmt.Fprintf(b, "{k%d a%v req%q enum%q f%q min%q max%q mul%q", n.Kind, n.Additional, n.Required, n.Enum, n.Format, n.Minimum, n.Maximum, n.MultipleOf)
	for _, l := range []*int{n.MinItems, n.MaxItems, n.MinLength, n.MaxLength} {
		if l == nil {
			b.WriteString(" -")
		} else {
			fmt.Fprintf(b, " %d", *l)
		}
	}
	props := slices.Clone(n.Props)
	sort.Slice(props, func(i, j int) bool { return props[i].Name < props[j].Name })
	for _, p := range props {
		fmt.Fprintf(b, " %q:", p.Name)
		writeShape(b, p.Node, false)
	}
	b.WriteString(" items:")
	writeShape(b, n.Items, false)
	b.WriteString("}")
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("not an array of strings")
	}
	out := make([]string, len(list))
	for i, e := range list {
		if out[i], ok = e.(string); !ok {
			return nil, errors.New("not an array of strings")
		}
	}
	return out, nil
}

func count(v any) (*int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return nil, errors.New("not a number")
	}
	n, err := strconv.Atoi(string(num))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%s is not a count", num)
	}
	return &n, nil
}

func number(v any) (string, error) {
	num, ok := v.(json.Number)
	if !ok {
		return "", errors.New("not a number")
	}
	return string(num), nil
}

// object is a JSON object that remembers its key order, which becomes the
// field order of the generated structs.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(key string) any  { return o.vals[key] }
func (o *object) has(key string) bool { _, ok := o.vals[key]; return ok }

// decodeOrdered decodes JSON like encoding/json with UseNumber, but objects
// become *object.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{vals: map[string]any{}}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := keyTok.(string)
			if o.has(key) {
				return nil, fmt.Errorf("duplicate key %q", key)
			}
			if o.vals[key], err = decodeValue(dec); err != nil {
				return nil, err
			}
			o.keys = append(o.keys, key)
		}
		_, err := dec.Token() // '}'
		return o, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	}
	return tok, nil
}
