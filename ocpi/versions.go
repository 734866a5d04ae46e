package ocpi

// Version is one entry of a versions list: a version and the URL of its
// version details.
type Version struct {
	Version VersionNumber `json:"version"`
	URL     string        `json:"url"`
}

// VersionDetails lists the endpoints of one version.
type VersionDetails struct {
	Version   VersionNumber `json:"version"`
	Endpoints []Endpoint    `json:"endpoints"`
}

// Endpoint is one module's URL and the interface role it implements.
type Endpoint struct {
	Identifier ModuleID      `json:"identifier"`
	Role       InterfaceRole `json:"role"`
	URL        string        `json:"url"`
}

// Credentials is the object exchanged by the credentials module: the token
// the receiver of the object uses to call its sender, the sender's versions
// URL and the parties it represents. The token travels unencoded here.
type Credentials struct {
	Token string            `json:"token"`
	URL   string            `json:"url"`
	Roles []CredentialsRole `json:"roles"`
}

// CredentialsRole is one party of a platform with its role.
type CredentialsRole struct {
	Role            Role            `json:"role"`
	BusinessDetails BusinessDetails `json:"business_details"`
	PartyID         string          `json:"party_id"`
	CountryCode     string          `json:"country_code"`
}

// Party returns the role's country code and party id.
func (r CredentialsRole) Party() PartyID {
	return PartyID{CountryCode: r.CountryCode, PartyID: r.PartyID}
}

// BusinessDetails names a business, with an optional website and logo.
type BusinessDetails struct {
	Name    string `json:"name"`
	Website string `json:"website,omitempty"`
	Logo    *Image `json:"logo,omitempty"`
}

// Image is a reference to an image (logo, photo, ...).
type Image struct {
	URL       string        `json:"url"`
	Thumbnail string        `json:"thumbnail,omitempty"`
	Category  ImageCategory `json:"category"`
	Type      string        `json:"type"`
	Width     int           `json:"width,omitempty"`
	Height    int           `json:"height,omitempty"`
}

// ImageCategory says what an image shows.
type ImageCategory string

// The image categories of 2.2.1.
const (
	ImageCharger  ImageCategory = "CHARGER"
	ImageEntrance ImageCategory = "ENTRANCE"
	ImageLocation ImageCategory = "LOCATION"
	ImageNetwork  ImageCategory = "NETWORK"
	ImageOperator ImageCategory = "OPERATOR"
	ImageOther    ImageCategory = "OTHER"
	ImageOwner    ImageCategory = "OWNER"
)
