package ocpi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCredentialsFixtures(t *testing.T) {
	for _, file := range []string{"credentials/valid_cpo_emsp.json", "credentials/valid_hub.json"} {
		var c Credentials
		if err := json.Unmarshal(readFixture(t, file), &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s rejected: %v", file, err)
		}
	}
	for file, path := range map[string]string{
		"credentials/invalid_no_roles.json":               "roles",
		"credentials/invalid_role_unknown.json":           "roles[0].role",
		"credentials/invalid_token_too_long.json":         "token",
		"credentials/invalid_token_with_space.json":       "token",
		"credentials/invalid_url_relative.json":           "url",
		"credentials/invalid_business_name_too_long.json": "roles[0].business_details.name",
		"credentials/invalid_logo_category_unknown.json":  "roles[0].business_details.logo.category",
		"credentials/invalid_party_id_too_short.json":     "roles[0].party_id",
		"credentials/invalid_country_code_alpha3.json":    "roles[0].country_code",
		"credentials/invalid_role_and_party_twice.json":   "roles[1]",
	} {
		var c Credentials
		if err := json.Unmarshal(readFixture(t, file), &c); err != nil {
			t.Fatal(err)
		}
		wantInvalidParams(t, c.Validate(), path)
	}
}

func TestCredentialsRejectsTheSameRoleAndPartyTwice(t *testing.T) {
	var c Credentials
	if err := json.Unmarshal(readFixture(t, "credentials/valid_cpo_emsp.json"), &c); err != nil {
		t.Fatal(err)
	}
	// One party may play two roles (a CPO that is also an eMSP) ...
	c.Roles[1].CountryCode, c.Roles[1].PartyID = c.Roles[0].CountryCode, strings.ToLower(c.Roles[0].PartyID)
	if err := c.Validate(); err != nil {
		t.Fatalf("one party with two roles refused: %v", err)
	}
	// ... but not the same role twice.
	c.Roles[1].Role = c.Roles[0].Role
	wantInvalidParams(t, c.Validate(), "roles[1]")
	c.Roles[1].PartyID = "FJ"
	wantInvalidParams(t, c.Validate(), "roles[1].party_id")
}

func TestVersionsFixtures(t *testing.T) {
	var vs []Version
	if err := json.Unmarshal(readFixture(t, "versions/valid_versions.json"), &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if err := v.Validate(); err != nil {
			t.Error(err)
		}
	}
	var d VersionDetails
	if err := json.Unmarshal(readFixture(t, "versions/valid_details.json"), &d); err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Error(err)
	}
	if err := json.Unmarshal(readFixture(t, "versions/invalid_details_role.json"), &d); err != nil {
		t.Fatal(err)
	}
	wantInvalidParams(t, d.Validate(), "endpoints[0].role")
	wantInvalidParams(t, VersionDetails{Version: Version221}.Validate(), "endpoints")
	wantInvalidParams(t, Version{Version: Version221, URL: "versions"}.Validate(), "url")
}

func TestBusinessDetailsAndImage(t *testing.T) {
	if err := (BusinessDetails{Name: "Fjordlading AS", Website: "https://fjordlading.example"}).Validate(); err != nil {
		t.Error(err)
	}
	wantInvalidParams(t, BusinessDetails{Website: "https://x.example"}.Validate(), "name")
	wantInvalidParams(t, BusinessDetails{Name: "x", Logo: &Image{URL: "https://x.example/l.png", Category: ImageOperator}}.Validate(), "logo.type")
	wantInvalidParams(t, Image{URL: "https://x.example/l.png", Category: "ICON", Type: "png"}.Validate(), "category")
}
