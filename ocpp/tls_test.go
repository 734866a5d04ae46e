package ocpp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// testPKI is a throw-away CA with a server certificate for 127.0.0.1.
type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue(t, "csms", x509.ExtKeyUsageServerAuth)
	return p
}

func (p *testPKI) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Security profile 3: mutual TLS, and the certificate's common name must be
// the station identity.
func TestSecurityProfile3MutualTLSWithIdentityFromCertificate(t *testing.T) {
	pki := newTestPKI(t)
	srv := &Server{
		Handler: heartbeatRouter(),
		Options: Options{Logger: quietLogger},
		Authenticate: func(ctx context.Context, h *Handshake) error {
			cert := h.ClientCertificate()
			if cert == nil || cert.Subject.CommonName != h.Identity {
				return &RefuseError{Status: http.StatusForbidden, Reason: "certificate does not name this station"}
			}
			return nil
		},
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool, ClientAuth: tls.VerifyClientCertIfGiven}
	hs.StartTLS()
	defer hs.Close()
	base := "wss" + strings.TrimPrefix(hs.URL, "https") + "/ocpp"

	ctx := context.Background()
	good := &Dialer{Options: Options{Logger: quietLogger}, TLSConfig: &tls.Config{
		RootCAs: pki.pool, Certificates: []tls.Certificate{pki.issue(t, "CS1", x509.ExtKeyUsageClientAuth)}}}
	c, err := good.Dial(ctx, base, "CS1", nil)
	if err != nil {
		t.Fatalf("station with its own certificate: %v", err)
	}
	if _, err := c.CallRaw(ctx, "Heartbeat", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	c.Close(closeNormal, "")

	// The same certificate presented for another identity is refused.
	var de *DialError
	if _, err := good.Dial(ctx, base, "CS2", nil); !errors.As(err, &de) || de.Status != http.StatusForbidden {
		t.Fatalf("certificate of CS1 used by CS2: want 403, got %v", err)
	}
	// No certificate at all is refused.
	anon := &Dialer{TLSConfig: &tls.Config{RootCAs: pki.pool}}
	if _, err := anon.Dial(ctx, base, "CS1", nil); !errors.As(err, &de) || de.Status != http.StatusForbidden {
		t.Fatalf("no client certificate: want 403, got %v", err)
	}
}
