package admin

import (
	"net/http"
	"strconv"

	"github.com/noomrtc/noom/admin/views"
)

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localReturn(r.URL.Query().Get("next"), "/admin/")
	if c.auth.session(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, views.LoginPage(c.page(who{}, "login", "Sign in"), next, "", "", 0))
}

// login checks the form. A foreign Origin is refused; failures are
// throttled per client IP and globally (429 with Retry-After); an unknown
// user and a wrong password get the same answer after the same bcrypt work.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	ip := c.cfg.ClientIP(r)
	if c.auth.origin(r) == originForeign {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	user, next := r.PostFormValue("user"), localReturn(r.PostFormValue("next"), "/admin/")
	ok, retry := c.auth.login(ip, user, r.PostFormValue("password"))
	p := c.page(who{}, "login", "Sign in")
	if retry > 0 {
		secs := int((retry + 999_999_999) / 1_000_000_000)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		c.cfg.Logger.Warn("admin login throttled", "ip", ip)
		c.render(w, r, http.StatusTooManyRequests, views.LoginPage(p, next, user,
			"Too many failed attempts. Try again in "+strconv.Itoa(secs)+" s.", http.StatusTooManyRequests))
		return
	}
	if !ok {
		c.cfg.Logger.Warn("admin login failed", "ip", ip)
		c.render(w, r, http.StatusUnauthorized, views.LoginPage(p, next, user, "Wrong user name or password.", http.StatusUnauthorized))
		return
	}
	s := c.auth.newSession()
	http.SetCookie(w, c.auth.cookie(r, s.id, int(c.cfg.SessionMax.Seconds())))
	c.cfg.Logger.Info("admin login", "user", c.cfg.User, "ip", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, u who) {
	if u.sess != nil {
		c.auth.endSession(u.sess.id)
	}
	http.SetCookie(w, c.auth.cookie(r, "", -1))
	c.log(r, u, "admin logout")
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
