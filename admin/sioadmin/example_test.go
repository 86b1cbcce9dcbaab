package sioadmin_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/noomrtc/noom/admin/sioadmin"
	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

// The hub speaks the Socket.IO Admin UI protocol on /admin: point the UI
// (https://admin.socket.io, allowed with --allowed-origin, or its ui/dist
// served by yourself) at the hub's URL and log in as admin.
func ExampleNew() {
	reg := prometheus.NewRegistry()
	hub, err := signaling.New(signaling.Config{AllowedOrigins: []string{"https://admin.socket.io"}}, reg)
	if err != nil {
		log.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	auth, err := sioadmin.NewBcrypt("admin", hash, 5, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	admin, err := sioadmin.New(sioadmin.Config{Auth: auth, Mode: sioadmin.Development}, hub, reg)
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Shutdown(context.Background())
	defer admin.Close()
	fmt.Println(admin.Namespace())
	// Output: /admin
}
