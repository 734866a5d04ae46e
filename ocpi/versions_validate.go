package ocpi

import "strings"

// ciKey is the normalised form of a CiString for comparisons and maps.
func ciKey(s string) string { return strings.ToUpper(s) }

// Validate checks b: name string(100) required, website URL, logo.
func (b BusinessDetails) Validate() error {
	var v Validator
	b.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records b's problems in v under prefix.
func (b BusinessDetails) ValidateInto(v *Validator, prefix string) {
	v.String(Field(prefix, "name"), b.Name, 100, true)
	v.URL(Field(prefix, "website"), b.Website, false)
	if b.Logo != nil {
		b.Logo.ValidateInto(v, Field(prefix, "logo"))
	}
}

// Validate checks img: url required, thumbnail URL, category, type
// CiString(4), width and height int(5).
func (img Image) Validate() error {
	var v Validator
	img.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records img's problems in v under prefix.
func (img Image) ValidateInto(v *Validator, prefix string) {
	v.URL(Field(prefix, "url"), img.URL, true)
	v.URL(Field(prefix, "thumbnail"), img.Thumbnail, false)
	v.Enum(Field(prefix, "category"), string(img.Category), img.Category.Valid(), "ImageCategory", true)
	v.CiString(Field(prefix, "type"), img.Type, 4, true)
	if img.Width < 0 || img.Width > 99999 {
		v.Addf(Field(prefix, "width"), "%d is not an int(5) (0 to 99999)", img.Width)
	}
	if img.Height < 0 || img.Height > 99999 {
		v.Addf(Field(prefix, "height"), "%d is not an int(5) (0 to 99999)", img.Height)
	}
}

// Validate checks a versions list entry.
func (ver Version) Validate() error {
	var v Validator
	ver.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records ver's problems in v under prefix.
func (ver Version) ValidateInto(v *Validator, prefix string) {
	v.Required(Field(prefix, "version"), string(ver.Version))
	v.URL(Field(prefix, "url"), ver.URL, true)
}

// Validate checks version details: a version and at least one endpoint.
func (d VersionDetails) Validate() error {
	var v Validator
	v.Required("version", string(d.Version))
	if len(d.Endpoints) == 0 {
		v.Addf("endpoints", "required: at least one endpoint")
	}
	for i, e := range d.Endpoints {
		e.ValidateInto(&v, Index("endpoints", i))
	}
	return v.Err()
}

// Validate checks one endpoint.
func (e Endpoint) Validate() error {
	var v Validator
	e.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records e's problems in v under prefix. Unknown module ids
// are allowed (custom modules exist); the role must be SENDER or RECEIVER.
func (e Endpoint) ValidateInto(v *Validator, prefix string) {
	v.CiString(Field(prefix, "identifier"), string(e.Identifier), 255, true)
	v.Enum(Field(prefix, "role"), string(e.Role), e.Role == Sender || e.Role == Receiver, "InterfaceRole", true)
	v.URL(Field(prefix, "url"), e.URL, true)
}

// Validate checks a credentials object: token string(64) of printable
// non-whitespace ASCII (it goes into an Authorization header), an absolute
// http(s) versions url, at least one role, and no (role, party)
// combination listed twice — one party may appear with several roles (a
// CPO that is also an eMSP), as the spec asks only the combination to be
// unique.
func (c Credentials) Validate() error {
	var v Validator
	if c.Token == "" {
		v.Addf("token", "required")
	} else if !ValidToken(c.Token) {
		v.Addf("token", "must be 1 to 64 printable ASCII characters without spaces")
	}
	v.URL("url", c.URL, true)
	validateRolesInto(&v, c.Roles)
	return v.Err()
}

// validateRolesInto records the problems of a list of CredentialsRoles
// under "roles": not empty, each role valid, each (role, party) once.
func validateRolesInto(v *Validator, roles []CredentialsRole) {
	if len(roles) == 0 {
		v.Addf("roles", "required: at least one role with its party and business details")
	}
	type rolePartyKey struct {
		role  Role
		party PartyID
	}
	seen := map[rolePartyKey]int{}
	for i, r := range roles {
		p := Index("roles", i)
		r.ValidateInto(v, p)
		k := rolePartyKey{r.Role, r.Party().Key()}
		if j, dup := seen[k]; dup {
			v.Addf(p, "party %s with role %s repeats roles[%d]: each role and party once", r.Party(), r.Role, j)
		} else {
			seen[k] = i
		}
	}
}

// Validate checks one credentials role.
func (r CredentialsRole) Validate() error {
	var v Validator
	r.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records r's problems in v under prefix.
func (r CredentialsRole) ValidateInto(v *Validator, prefix string) {
	v.Enum(Field(prefix, "role"), string(r.Role), r.Role.Valid(), "Role", true)
	r.BusinessDetails.ValidateInto(v, Field(prefix, "business_details"))
	if n := r.BusinessDetails.Name; n != "" && strings.TrimSpace(n) == "" {
		v.Addf(Field(prefix, "business_details.name"), "is blank")
	}
	v.CiString(Field(prefix, "party_id"), r.PartyID, 3, true)
	if r.PartyID != "" && len(r.PartyID) < 3 {
		v.Addf(Field(prefix, "party_id"), "%q must be 3 characters", r.PartyID)
	}
	v.CountryCode(Field(prefix, "country_code"), r.CountryCode)
}
