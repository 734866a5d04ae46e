package ocpi

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validator collects the problems of one object, each under the JSON path
// of the field (e.g. evses[0].connectors[1].standard), and turns them into
// one 2001 *Error. The zero value is ready to use and strict.
type Validator struct {
	// LenientEnums accepts enum values this package does not know.
	// Default false: an unknown value is an error, which is what a
	// receiver wants before storing a pushed object. Set it when reading
	// objects back from a peer (GET), where the spec asks parsers to be
	// permissive and a newer peer may send values added after 2.2.1.
	LenientEnums bool

	problems []string
}

// maxProblems caps the message; the first ones are the useful ones.
const maxProblems = 10

// Addf records a problem at path.
func (v *Validator) Addf(path, format string, args ...any) {
	v.problems = append(v.problems, path+": "+fmt.Sprintf(format, args...))
}

// Problems returns the problems recorded so far.
func (v *Validator) Problems() []string { return v.problems }

// Err returns nil when nothing was recorded, else an InvalidParams *Error
// (HTTP 200, status 2001) listing the problems.
func (v *Validator) Err() error {
	if len(v.problems) == 0 {
		return nil
	}
	p := v.problems
	more := ""
	if len(p) > maxProblems {
		more = fmt.Sprintf(" (and %d more)", len(p)-maxProblems)
		p = p[:maxProblems]
	}
	return InvalidParams("%s%s", strings.Join(p, "; "), more)
}

// Field joins a parent path and a field name.
func Field(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// Index is the path of element i of the list at path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Required records "required" when s is empty and reports whether s is set.
func (v *Validator) Required(path, s string) bool {
	if s == "" {
		v.Addf(path, "required")
		return false
	}
	return true
}

// CiString checks a CiString(max): printable ASCII (0x20–0x7E), at most max
// characters. required says whether an empty value is a problem.
func (v *Validator) CiString(path, s string, max int, required bool) {
	if s == "" {
		if required {
			v.Addf(path, "required")
		}
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			v.Addf(path, "%q has a character that is not printable ASCII at byte %d (CiString)", s, i)
			return
		}
	}
	if len(s) > max {
		v.Addf(path, "%q is %d characters, longer than %d", s, len(s), max)
	}
}

// String checks a string(max): valid UTF-8 without control characters (CR,
// LF, TAB, ...), at most max Unicode code points (the spec does not say
// bytes or characters; code points is what a user perceives as length).
func (v *Validator) String(path, s string, max int, required bool) {
	if s == "" {
		if required {
			v.Addf(path, "required")
		}
		return
	}
	if !utf8.ValidString(s) {
		v.Addf(path, "is not valid UTF-8")
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			v.Addf(path, "%q contains the control character %U (strings are printable)", s, r)
			return
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.Addf(path, "is %d characters, longer than %d", n, max)
	}
}

// URL checks a URL: an absolute http(s) URL of at most 255 characters.
func (v *Validator) URL(path, s string, required bool) {
	if s == "" {
		if required {
			v.Addf(path, "required")
		}
		return
	}
	if len(s) > 255 {
		v.Addf(path, "URL is %d characters, longer than 255", len(s))
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Addf(path, "%q is not an absolute http(s) URL", s)
	}
}

// DateTime checks that a required timestamp is set.
func (v *Validator) DateTime(path string, d DateTime) {
	if d.IsZero() {
		v.Addf(path, "required")
	}
}

// Enum checks an enum value: valid says whether value is one of typeName's
// values. An empty value is "required" when required; an unknown value is
// a problem unless LenientEnums.
func (v *Validator) Enum(path, value string, valid bool, typeName string, required bool) {
	if value == "" {
		if required {
			v.Addf(path, "required")
		}
		return
	}
	if !valid && !v.LenientEnums {
		v.Addf(path, "%q is not %s %s", value, article(typeName), typeName)
	}
}

var (
	latitudeRE  = regexp.MustCompile(`^-?[0-9]{1,2}\.[0-9]{5,7}$`)
	longitudeRE = regexp.MustCompile(`^-?[0-9]{1,3}\.[0-9]{5,7}$`)
	timeOfDayRE = regexp.MustCompile(`^([0-1][0-9]|2[0-3]):[0-5][0-9]$`)
	alpha2RE    = regexp.MustCompile(`^[A-Za-z]{2}$`)
	alpha3RE    = regexp.MustCompile(`^[A-Za-z]{3}$`)
)

// Coordinates checks an OCPI latitude/longitude pair: strings with 5 to 7
// decimals matching the spec's patterns and within ±90 / ±180.
func (v *Validator) Coordinates(path, lat, lon string) {
	if lat == "" {
		v.Addf(Field(path, "latitude"), "required")
	} else if !latitudeRE.MatchString(lat) {
		v.Addf(Field(path, "latitude"), "%q does not match -?[0-9]{1,2}\\.[0-9]{5,7}", lat)
	} else if f, _ := strconv.ParseFloat(lat, 64); f < -90 || f > 90 {
		v.Addf(Field(path, "latitude"), "%s is outside -90..90", lat)
	}
	if lon == "" {
		v.Addf(Field(path, "longitude"), "required")
	} else if !longitudeRE.MatchString(lon) {
		v.Addf(Field(path, "longitude"), "%q does not match -?[0-9]{1,3}\\.[0-9]{5,7}", lon)
	} else if f, _ := strconv.ParseFloat(lon, 64); f < -180 || f > 180 {
		v.Addf(Field(path, "longitude"), "%s is outside -180..180", lon)
	}
}

// TimeOfDay checks a local "HH:MM" time (00:00–23:59).
func (v *Validator) TimeOfDay(path, s string) {
	if s == "" {
		v.Addf(path, "required")
	} else if !timeOfDayRE.MatchString(s) {
		v.Addf(path, "%q is not a time of day HH:MM (00:00 to 23:59)", s)
	}
}

// TimeZone checks an IANA time zone name. Syntax is always checked; the
// name is looked up with time.LoadLocation only when the tz database can
// be found on this machine (a minimal container may lack it and we
// should not reject every Location because of our own packaging).
func (v *Validator) TimeZone(path, tz string) {
	if tz == "" {
		v.Addf(path, "required")
		return
	}
	v.String(path, tz, 255, true)
	if strings.ContainsAny(tz, " ") || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		v.Addf(path, "%q is not an IANA time zone name (e.g. Europe/Oslo)", tz)
		return
	}
	if _, err := time.LoadLocation(tz); err != nil && tzDatabaseAvailable() {
		v.Addf(path, "%q is not an IANA time zone name (e.g. Europe/Oslo)", tz)
	}
}

// tzDatabaseAvailable reports whether time.LoadLocation can resolve a zone
// every tz database has.
func tzDatabaseAvailable() bool {
	_, err := time.LoadLocation("Europe/Amsterdam")
	return err == nil
}

// Language checks an ISO 639-1 two-letter language code.
func (v *Validator) Language(path, s string) {
	if s == "" {
		v.Addf(path, "required")
	} else if !alpha2RE.MatchString(s) {
		v.Addf(path, "%q is not a two-letter ISO 639-1 language code", s)
	}
}

// CountryCode checks an ISO 3166-1 alpha-2 country code (a CiString(2)).
func (v *Validator) CountryCode(path, s string) {
	if s == "" {
		v.Addf(path, "required")
	} else if !alpha2RE.MatchString(s) {
		v.Addf(path, "%q is not a two-letter ISO 3166-1 alpha-2 country code", s)
	}
}

// Country3 checks an ISO 3166-1 alpha-3 country code.
func (v *Validator) Country3(path, s string) {
	if s == "" {
		v.Addf(path, "required")
	} else if !alpha3RE.MatchString(s) {
		v.Addf(path, "%q is not a three-letter ISO 3166-1 alpha-3 country code", s)
	}
}

// DisplayTexts checks a list of DisplayText at path.
func (v *Validator) DisplayTexts(path string, ts []DisplayText) {
	for i, t := range ts {
		v.DisplayText(Index(path, i), t)
	}
}

// DisplayText checks one DisplayText.
func (v *Validator) DisplayText(path string, t DisplayText) {
	v.Language(Field(path, "language"), t.Language)
	v.String(Field(path, "text"), t.Text, 512, true)
}

func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}
