package ocpi

import (
	"net/url"
	"strings"
)

// JoinURL appends path segments to base with exactly one '/' between each
// part, path-escaping every segment ("a b/c" becomes "a%20b%2Fc"). The
// spec's URL templates, such as {tokens_endpoint_url}{token_uid}/authorize,
// leave the separator out, and peers list endpoint URLs both with and
// without a trailing slash: JoinURL gives the same URL either way. A query
// or fragment in base is kept after the joined path. Empty segments are
// skipped.
func JoinURL(base string, segments ...string) string {
	rest := ""
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base, rest = base[:i], base[i:]
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "/"))
	for _, s := range segments {
		if s == "" {
			continue
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String() + rest
}
