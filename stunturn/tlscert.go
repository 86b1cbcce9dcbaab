package stunturn

import (
	"crypto/tls"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certRecheck is how often a handshake may look at the files' times.
const certRecheck = time.Minute

// certReloader serves the certificate of a cert and key file pair, and
// loads the pair again when either file's modification time changes (a
// renewal), checked at most once a minute, on a handshake. A pair that
// fails to load keeps the old certificate in service.
//
// mu guards the fields below it.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	lastCheck time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// load reads the pair. The caller holds mu, or owns r alone.
func (r *certReloader) load() error {
	certMod, keyMod := modTime(r.certFile), modTime(r.keyFile)
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert, r.certMod, r.keyMod, r.lastCheck = &cert, certMod, keyMod, time.Now()
	return nil
}

func modTime(name string) time.Time {
	fi, err := os.Stat(name)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// GetCertificate is a tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.lastCheck) >= certRecheck {
		r.lastCheck = time.Now()
		if !modTime(r.certFile).Equal(r.certMod) || !modTime(r.keyFile).Equal(r.keyMod) {
			if err := r.load(); err != nil {
				r.log.Warn("stunturn: reloading the TLS certificate failed; keeping the old one", "err", err)
			} else {
				r.log.Info("stunturn: TLS certificate reloaded", "cert", r.certFile)
			}
		}
	}
	return r.cert, nil
}
