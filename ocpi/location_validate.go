package ocpi

// Validate checks l strictly, as a receiver must before storing a pushed
// Location: required fields, lengths, patterns and enum values. It returns
// nil or a 2001 *Error naming every bad field by its JSON path.
func (l Location) Validate() error {
	var v Validator
	l.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records l's problems in v under prefix (use "" at the top
// level). Set v.LenientEnums to accept enum values newer than 2.2.1.
func (l Location) ValidateInto(v *Validator, prefix string) {
	f := func(name string) string { return Field(prefix, name) }
	v.CountryCode(f("country_code"), l.CountryCode)
	v.CiString(f("party_id"), l.PartyID, 3, true)
	if l.PartyID != "" && len(l.PartyID) < 3 {
		v.Addf(f("party_id"), "%q must be 3 characters", l.PartyID)
	}
	v.CiString(f("id"), l.ID, 36, true)
	if len(l.PublishAllowedTo) > 0 && l.Publish {
		v.Addf(f("publish_allowed_to"), "may only be set when publish is false")
	}
	for i, t := range l.PublishAllowedTo {
		t.validateInto(v, Index(f("publish_allowed_to"), i))
	}
	v.String(f("name"), l.Name, 255, false)
	v.String(f("address"), l.Address, 255, true)
	v.String(f("city"), l.City, 45, true)
	v.String(f("postal_code"), l.PostalCode, 10, false)
	v.String(f("state"), l.State, 45, false)
	v.Country3(f("country"), l.Country)
	v.Coordinates(f("coordinates"), l.Coordinates.Latitude, l.Coordinates.Longitude)
	for i, r := range l.RelatedLocations {
		p := Index(f("related_locations"), i)
		v.Coordinates(p, r.Latitude, r.Longitude)
		if r.Name != nil {
			v.DisplayText(Field(p, "name"), *r.Name)
		}
	}
	v.Enum(f("parking_type"), string(l.ParkingType), l.ParkingType.Valid(), "ParkingType", false)
	seen := map[string]int{}
	for i, e := range l.EVSEs {
		p := Index(f("evses"), i)
		e.ValidateInto(v, p)
		if j, dup := seen[ciKey(e.UID)]; dup && e.UID != "" {
			v.Addf(Field(p, "uid"), "%q repeats evses[%d].uid (uids are case-insensitive)", e.UID, j)
		} else {
			seen[ciKey(e.UID)] = i
		}
	}
	v.DisplayTexts(f("directions"), l.Directions)
	for _, b := range []struct {
		name string
		b    *BusinessDetails
	}{{"operator", l.Operator}, {"suboperator", l.Suboperator}, {"owner", l.Owner}} {
		if b.b != nil {
			b.b.ValidateInto(v, f(b.name))
		}
	}
	for i, fac := range l.Facilities {
		v.Enum(Index(f("facilities"), i), string(fac), fac.Valid(), "Facility", true)
	}
	v.TimeZone(f("time_zone"), l.TimeZone)
	if l.OpeningTimes != nil {
		l.OpeningTimes.validateInto(v, f("opening_times"))
	}
	for i, img := range l.Images {
		img.ValidateInto(v, Index(f("images"), i))
	}
	if l.EnergyMix != nil {
		l.EnergyMix.validateInto(v, f("energy_mix"))
	}
	v.DateTime(f("last_updated"), l.LastUpdated)
}

// Validate checks e strictly (see Location.Validate).
func (e EVSE) Validate() error {
	var v Validator
	e.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records e's problems in v under prefix.
func (e EVSE) ValidateInto(v *Validator, prefix string) {
	f := func(name string) string { return Field(prefix, name) }
	v.CiString(f("uid"), e.UID, 36, true)
	v.CiString(f("evse_id"), e.EVSEID, 48, false)
	v.Enum(f("status"), string(e.Status), e.Status.Valid(), "Status", true)
	for i, s := range e.StatusSchedule {
		p := Index(f("status_schedule"), i)
		v.DateTime(Field(p, "period_begin"), s.PeriodBegin)
		if s.PeriodEnd != nil && !s.PeriodEnd.After(s.PeriodBegin.Time) {
			v.Addf(Field(p, "period_end"), "%s is not after period_begin %s", s.PeriodEnd, s.PeriodBegin)
		}
		v.Enum(Field(p, "status"), string(s.Status), s.Status.Valid(), "Status", true)
	}
	for i, c := range e.Capabilities {
		v.Enum(Index(f("capabilities"), i), string(c), c.Valid(), "Capability", true)
	}
	if len(e.Connectors) == 0 {
		v.Addf(f("connectors"), "required: an EVSE has at least one connector")
	}
	seen := map[string]int{}
	for i, c := range e.Connectors {
		p := Index(f("connectors"), i)
		c.ValidateInto(v, p)
		if j, dup := seen[ciKey(c.ID)]; dup && c.ID != "" {
			v.Addf(Field(p, "id"), "%q repeats connectors[%d].id (ids are case-insensitive)", c.ID, j)
		} else {
			seen[ciKey(c.ID)] = i
		}
	}
	v.String(f("floor_level"), e.FloorLevel, 4, false)
	if e.Coordinates != nil {
		v.Coordinates(f("coordinates"), e.Coordinates.Latitude, e.Coordinates.Longitude)
	}
	v.String(f("physical_reference"), e.PhysicalReference, 16, false)
	v.DisplayTexts(f("directions"), e.Directions)
	for i, r := range e.ParkingRestrictions {
		v.Enum(Index(f("parking_restrictions"), i), string(r), r.Valid(), "ParkingRestriction", true)
	}
	for i, img := range e.Images {
		img.ValidateInto(v, Index(f("images"), i))
	}
	v.DateTime(f("last_updated"), e.LastUpdated)
}

// Validate checks c strictly (see Location.Validate).
func (c Connector) Validate() error {
	var v Validator
	c.ValidateInto(&v, "")
	return v.Err()
}

// ValidateInto records c's problems in v under prefix.
func (c Connector) ValidateInto(v *Validator, prefix string) {
	f := func(name string) string { return Field(prefix, name) }
	v.CiString(f("id"), c.ID, 36, true)
	v.Enum(f("standard"), string(c.Standard), c.Standard.Valid(), "ConnectorType", true)
	v.Enum(f("format"), string(c.Format), c.Format.Valid(), "ConnectorFormat", true)
	v.Enum(f("power_type"), string(c.PowerType), c.PowerType.Valid(), "PowerType", true)
	if c.MaxVoltage <= 0 {
		v.Addf(f("max_voltage"), "required: a positive number of volts, got %d", c.MaxVoltage)
	}
	if c.MaxAmperage <= 0 {
		v.Addf(f("max_amperage"), "required: a positive number of amperes, got %d", c.MaxAmperage)
	}
	if c.MaxElectricPower != nil && *c.MaxElectricPower <= 0 {
		v.Addf(f("max_electric_power"), "must be a positive number of watts, got %d", *c.MaxElectricPower)
	}
	for i, t := range c.TariffIDs {
		v.CiString(Index(f("tariff_ids"), i), t, 36, true)
	}
	v.URL(f("terms_and_conditions"), c.TermsAndConditions, false)
	v.DateTime(f("last_updated"), c.LastUpdated)
}

func (t PublishTokenType) validateInto(v *Validator, p string) {
	if t.UID == "" && t.VisualNumber == "" && t.GroupID == "" {
		v.Addf(p, "set at least one of uid, visual_number and group_id")
	}
	v.CiString(Field(p, "uid"), t.UID, 36, false)
	if t.UID != "" && t.Type == "" {
		v.Addf(Field(p, "type"), "required when uid is set")
	}
	v.Enum(Field(p, "type"), string(t.Type), t.Type.Valid(), "TokenType", false)
	v.String(Field(p, "visual_number"), t.VisualNumber, 64, false)
	if t.VisualNumber != "" && t.Issuer == "" {
		v.Addf(Field(p, "issuer"), "required when visual_number is set")
	}
	v.String(Field(p, "issuer"), t.Issuer, 64, false)
	v.CiString(Field(p, "group_id"), t.GroupID, 36, false)
}

func (h Hours) validateInto(v *Validator, p string) {
	if h.Twentyfourseven && len(h.RegularHours) > 0 {
		v.Addf(Field(p, "regular_hours"), "may only be used when twentyfourseven is false")
	}
	if !h.Twentyfourseven && len(h.RegularHours) == 0 {
		v.Addf(Field(p, "regular_hours"), "required when twentyfourseven is false (at least one entry)")
	}
	for i, r := range h.RegularHours {
		q := Index(Field(p, "regular_hours"), i)
		if r.Weekday < 1 || r.Weekday > 7 {
			v.Addf(Field(q, "weekday"), "%d is not a weekday 1 (Monday) to 7 (Sunday)", r.Weekday)
		}
		v.TimeOfDay(Field(q, "period_begin"), r.PeriodBegin)
		v.TimeOfDay(Field(q, "period_end"), r.PeriodEnd)
		// "HH:MM" strings compare like times. period_end must be later;
		// the spec's own examples do not cross midnight.
		if timeOfDayRE.MatchString(r.PeriodBegin) && timeOfDayRE.MatchString(r.PeriodEnd) && r.PeriodEnd <= r.PeriodBegin {
			v.Addf(Field(q, "period_end"), "%s is not later than period_begin %s", r.PeriodEnd, r.PeriodBegin)
		}
	}
	for _, x := range []struct {
		name string
		ps   []ExceptionalPeriod
	}{{"exceptional_openings", h.ExceptionalOpenings}, {"exceptional_closings", h.ExceptionalClosings}} {
		for i, e := range x.ps {
			q := Index(Field(p, x.name), i)
			v.DateTime(Field(q, "period_begin"), e.PeriodBegin)
			v.DateTime(Field(q, "period_end"), e.PeriodEnd)
			if !e.PeriodEnd.IsZero() && !e.PeriodEnd.After(e.PeriodBegin.Time) {
				v.Addf(Field(q, "period_end"), "%s is not after period_begin %s", e.PeriodEnd, e.PeriodBegin)
			}
		}
	}
}

func (m EnergyMix) validateInto(v *Validator, p string) {
	for i, s := range m.EnergySources {
		q := Index(Field(p, "energy_sources"), i)
		v.Enum(Field(q, "source"), string(s.Source), s.Source.Valid(), "EnergySourceCategory", true)
		if pc := s.Percentage.Float64(); pc < 0 || pc > 100 {
			v.Addf(Field(q, "percentage"), "%s is outside 0..100", s.Percentage)
		}
	}
	for i, e := range m.EnvironImpact {
		q := Index(Field(p, "environ_impact"), i)
		v.Enum(Field(q, "category"), string(e.Category), e.Category.Valid(), "EnvironmentalImpactCategory", true)
		if e.Amount.Float64() < 0 {
			v.Addf(Field(q, "amount"), "%s is negative", e.Amount)
		}
	}
	v.String(Field(p, "supplier_name"), m.SupplierName, 64, false)
	v.String(Field(p, "energy_product_name"), m.EnergyProductName, 64, false)
}
