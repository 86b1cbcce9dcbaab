package stunturn_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/noomrtc/noom/stunturn"
)

func ExampleIssuer() {
	// The secret is the one the TURN server has (coturn: static-auth-secret).
	issuer := stunturn.NewIssuer([]byte("shared with the TURN server"), time.Hour)
	username, password, expires := issuer.Issue("alice")
	fmt.Println(strings.HasSuffix(username, ":alice"), time.Until(expires) <= time.Hour)

	user, err := issuer.Validate(username, password)
	fmt.Println(user, err)
	// Output:
	// true true
	// alice <nil>
}
