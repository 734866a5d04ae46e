package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v201"
)

// testCA is a throw-away certificate authority for the TLS listener's tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

// newSerial returns a random certificate serial number.
func newSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(t), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue signs a certificate for cn: a server certificate for 127.0.0.1, or
// a station's client certificate.
func (ca *testCA) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(t), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writePEM writes PEM blocks to a file in dir and returns its path.
func writePEM(t *testing.T, dir, name string, blocks ...*pem.Block) string {
	t.Helper()
	var out []byte
	for _, b := range blocks {
		out = append(out, pem.EncodeToMemory(b)...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsServe is `openev serve` with both listeners, stations' certificates
// signed by ca.
type tlsServe struct {
	plainURL, tlsURL string // ws://.../ocpp and wss://.../ocpp
	addr             string // the plain listener, for the API
	ca               *testCA
}

func startTLSServe(t *testing.T, extra ...string) *tlsServe {
	t.Helper()
	dir := t.TempDir()
	ca := newTestCA(t, "openev test CA")
	server := ca.issue(t, "csms", x509.ExtKeyUsageServerAuth)
	keyDER, err := x509.MarshalPKCS8PrivateKey(server.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, dir, "csms.pem", &pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate[0]})
	keyFile := writePEM(t, dir, "csms.key", &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	caFile := writePEM(t, dir, "ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	tlsAddr := freeAddr(t)
	args := append([]string{"--data-dir", dir, "--api-key", "k", "--tls-addr", tlsAddr,
		"--tls-cert", certFile, "--tls-key", keyFile, "--client-ca", caFile}, extra...)
	addr, _ := startServe(t, args...)
	return &tlsServe{plainURL: "ws://" + addr + "/ocpp", tlsURL: "wss://" + tlsAddr + "/ocpp", addr: addr, ca: ca}
}

// register creates a station through the admin API.
func (s *tlsServe) register(t *testing.T, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+s.addr+"/api/v1/stations", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("registering %s: HTTP %d", body, resp.StatusCode)
	}
}

// station dials id with the project's own station side; the certificate,
// when given, is presented as the client certificate.
func (s *tlsServe) station(t *testing.T, url, id, password string, cert *tls.Certificate) (*ocpp.Conn, error) {
	t.Helper()
	cfg := &tls.Config{RootCAs: s.ca.pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	d := &ocpp.Dialer{Versions: []ocpp.Version{ocpp.V201}, Password: password, TLSConfig: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.Dial(ctx, url, id, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close(1000, "test over") })
	// A connection is only proven by a call answered over it.
	if _, err := ocpp.Call(ctx, c, &v201.HeartbeatRequest{}); err != nil {
		t.Fatalf("%s connected but its Heartbeat failed: %v", id, err)
	}
	return c, nil
}

// refusedWith checks that a dial was refused at the websocket upgrade with
// an HTTP status.
func refusedWith(t *testing.T, what string, err error, status int) {
	t.Helper()
	var de *ocpp.DialError
	if !errors.As(err, &de) || de.Status != status {
		t.Errorf("%s: got %v, want a refusal with HTTP %d", what, err, status)
	}
}

const p2Password = "correct-horse-battery-1"

// Security profile 2: Basic auth over TLS. The right password connects over
// the TLS listener; the plain listener refuses the station even with the
// right password; a wrong password is refused.
func TestServeTLSSecurityProfile2NeedsTLSAndThePassword(t *testing.T) {
	s := startTLSServe(t)
	s.register(t, `{"id":"CS-P2","security_profile":2,"password":"`+p2Password+`"}`)

	if _, err := s.station(t, s.tlsURL, "CS-P2", p2Password, nil); err != nil {
		t.Fatalf("right password over TLS: %v", err)
	}
	_, err := s.station(t, s.plainURL, "CS-P2", p2Password, nil)
	refusedWith(t, "right password over the plain listener", err, http.StatusForbidden)
	// Last: a failed password makes 127.0.0.1 wait before its next attempt.
	_, err = s.station(t, s.tlsURL, "CS-P2", "wrong-password-123456", nil)
	refusedWith(t, "wrong password over TLS", err, http.StatusUnauthorized)
}

// Security profile 3: mutual TLS, the certificate's common name is the
// station's identity. Its own certificate connects; another station's
// certificate, no certificate, the plain listener and a certificate from a
// CA other than --client-ca are all refused.
func TestServeTLSSecurityProfile3NeedsAClientCertificateForTheIdentity(t *testing.T) {
	s := startTLSServe(t)
	s.register(t, `{"id":"CS-P3","security_profile":3}`)
	own := s.ca.issue(t, "CS-P3", x509.ExtKeyUsageClientAuth)
	other := s.ca.issue(t, "CS-OTHER", x509.ExtKeyUsageClientAuth)
	stranger := newTestCA(t, "someone else's CA").issue(t, "CS-P3", x509.ExtKeyUsageClientAuth)

	if _, err := s.station(t, s.tlsURL, "CS-P3", "", &own); err != nil {
		t.Fatalf("its own certificate: %v", err)
	}
	_, err := s.station(t, s.tlsURL, "CS-P3", "", &other)
	refusedWith(t, "another station's certificate", err, http.StatusForbidden)
	_, err = s.station(t, s.tlsURL, "CS-P3", "", nil)
	refusedWith(t, "no certificate", err, http.StatusForbidden)
	_, err = s.station(t, s.plainURL, "CS-P3", "", nil)
	refusedWith(t, "the plain listener", err, http.StatusForbidden)
	if _, err := s.station(t, s.tlsURL, "CS-P3", "", &stranger); err == nil {
		t.Error("a certificate from a CA other than --client-ca was accepted")
	}
}
