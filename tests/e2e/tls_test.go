package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

// testCA is a certificate authority made for one test, and what it signed.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "marketdata test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, dir: t.TempDir(), pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	writePEM(t, filepath.Join(ca.dir, "ca.pem"), "CERTIFICATE", der)
	return ca
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue signs a certificate for 127.0.0.1 and localhost (server and client use) and writes
// <name>.pem and <name>-key.pem; it returns their paths and the pair.
func (ca *testCA) issue(t *testing.T, name string, serial int64) (string, string, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+"-key.pem")
	writePEM(t, certPath, "CERTIFICATE", der)
	writePEM(t, keyPath, "PRIVATE KEY", keyDER)
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, pair
}

// TestTLSEndToEnd: services that serve TLS only and require client certificates, a gateway that
// serves HTTPS and calls them over mutual TLS, all with a CA made here.
func TestTLSEndToEnd(t *testing.T) {
	ca := newTestCA(t)
	serverCert, serverKey, _ := ca.issue(t, "services", 2)
	gatewayCert, gatewayKey, _ := ca.issue(t, "gateway", 3)
	clientCert, clientKey, clientPair := ca.issue(t, "client", 4)
	caFile := filepath.Join(ca.dir, "ca.pem")
	clientTLS := &tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{clientPair}, MinVersion: tls.VersionTLS12}
	httpsClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
	s, cleanup, err := startStackTLS("tls", &stackTLS{
		serviceEnv: []string{"TLS_CERT_FILE=" + serverCert, "TLS_KEY_FILE=" + serverKey, "TLS_CLIENT_CA_FILE=" + caFile},
		gatewayEnv: []string{"GATEWAY_TLS_CERT_FILE=" + gatewayCert, "GATEWAY_TLS_KEY_FILE=" + gatewayKey,
			"BACKEND_TLS_CA_FILE=" + caFile, "BACKEND_TLS_CERT_FILE=" + clientCert, "BACKEND_TLS_KEY_FILE=" + clientKey},
		grpcCreds:  credentials.NewTLS(clientTLS),
		httpClient: httpsClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()

	// REST over HTTPS, through the gateway's mutual TLS to both services.
	for _, path := range []string{"/api/v1/prices/latest?symbol=TLS1", "/api/v1/prices/latest?symbol=TLS1", "/api/v1/averages?symbol=TLS1&window=2"} {
		resp, err := httpsClient.Get(s.restURL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil {
			t.Errorf("GET %s: %d (TLS %v)", path, resp.StatusCode, resp.TLS != nil)
		}
	}
	// Plain HTTP to the HTTPS port gets no answer from the API.
	plain := "http://" + s.restURL[len("https://"):] + "/api/v1/prices/latest?symbol=TLS1"
	if resp, err := http.Get(plain); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered 200")
		}
	}

	// gRPC: with the CA and a client certificate it works; plaintext, or TLS without a client
	// certificate, is refused.
	call := func(creds credentials.TransportCredentials, addr string) error {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if addr == s.apiAddr {
			_, err = mdv1.NewPriceServiceClient(conn).GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: "TLS2"})
		} else {
			_, err = mdv1.NewMovingAverageServiceClient(conn).ListMovingAverages(ctx, &mdv1.ListMovingAveragesRequest{Symbol: "TLS1", Window: 2})
		}
		return err
	}
	for _, addr := range []string{s.apiAddr, s.consumerAddr} {
		if err := call(credentials.NewTLS(clientTLS), addr); err != nil {
			t.Errorf("%s over mutual TLS: %v", addr, err)
		}
		if err := call(insecure.NewCredentials(), addr); err == nil {
			t.Errorf("%s answered plaintext", addr)
		}
		if err := call(credentials.NewTLS(&tls.Config{RootCAs: ca.pool}), addr); err == nil {
			t.Errorf("%s answered a client without a certificate", addr)
		}
	}
}
